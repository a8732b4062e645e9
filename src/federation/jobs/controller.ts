import { ConflictError, FencedError, NotFoundError } from '../../core/errors.js';
import { JobsApi } from '../../jobs/api.js';
import { registryAgents } from '../../jobs/agents.js';
import { JobsStore } from '../../jobs/store.js';
import type { RunningJobs } from '../../jobs/start.js';
import { parseStoredSpec } from '../../jobs/spec.js';
import type { LeaderDuty } from '../../master-lambda/extension.js';
import { createLogger, type Logger } from '../../core/logger.js';
import type { Registry } from '../../state/registry.js';
import { childName, childSpec, federatedIdOf, specHash } from './child-job.js';
import { regionCapacity } from '../gossip/digest-builder.js';
import { MAX_JOBS_PER_DIGEST, REGION_NAME, type CapacityBucket, type FederatedDefinition, type FederatedJobSummary, type RegionDigest, type Scalars } from '../gossip/digest.js';
import { federatedJobsConfig, type FederatedJobsConfig } from './config.js';
import { asPolicy, FederatedJobStore, newerThan, type FederatedJobDoc, type VersionedJob } from './federated-job.js';
import { planTargets, type PlanRegion, type RegionLiveness } from './plan.js';
import { baseShares } from './policy.js';
import { parseChange, parseSubmission } from './request.js';
import { federatedJobView, type FederatedJobView, type RegionFacts, type ReportedChild } from './views.js';
import type { RegionGossip, LeaderView, PeerDigest } from '../gossip/region-gossip.js';
import { localChildren, type ChildStatus } from './local-children.js';
import { bestClaim, beats, quorum, successor, type Claim } from './ownership.js';
import { addScaled, freeSlots, instanceSize, ZERO } from './region-capacity.js';
import { directRegionJobs, httpRegionJobs, RegionJobsError, type RegionJobs } from './region-jobs.js';

// The federated jobs controller of one region. On the region's leader, every gossip interval:
//   1. it learns from peers' digests: definitions from their owners (kept as replicas) and
//      ownership claims (a higher term wins, see ownership.ts);
//   2. for each job it owns (with a quorum, after warming up): plans per-region targets from
//      the policy, peers' liveness and capacity and what they report (federated-plan.ts), and
//      creates / scales / updates / deletes each live region's child job through that
//      region's jobs API;
//   3. for each job it does not own: takes it over when the owner is dead and this region is
//      the successor; removes replicas and children of jobs their live owner no longer lists.
// It also gives the RegionGossip the summaries this region's digest carries, and serves the
// operations behind /api/v1/federation/jobs.

/** This region's jobs framework: its API (which wakes the framework) and its store. */
export interface LocalJobs {
  readonly api: JobsApi;
  readonly store: JobsStore;
}

/** The jobs of a region from its Registry alone (a framework elsewhere picks changes up on refresh). */
export function registryJobs(registry: Registry): LocalJobs {
  const store = new JobsStore(registry);
  return { api: new JobsApi({ store, agents: registryAgents(registry) }), store };
}

/** The jobs of a framework running in this process. */
export function runningJobs(jobs: RunningJobs): LocalJobs {
  return { api: jobs.api, store: jobs.framework.store };
}

export interface FederatedJobsOptions {
  readonly gossip: RegionGossip;
  readonly jobs: LocalJobs;
  /** Where definitions live (default: the jobs store's Registry, the region's). */
  readonly registry?: Registry;
  /** Only the lease holder decides; without one, this process always does. Writes are fenced by its epoch. */
  readonly leader?: LeaderView;
  /** Reaches a region's jobs framework (default: this region's in process, peers over HTTP at their digest's `api`). */
  readonly regionJobs?: (region: string, api: string | undefined) => RegionJobs | undefined;
  /** Headers for peers' jobs APIs over HTTP (the operator credential). */
  readonly peerHeaders?: Record<string, string>;
  readonly config?: Partial<FederatedJobsConfig>;
  readonly log?: Logger;
  /** Monotonic milliseconds (warm-up, resends, holds). */
  readonly clock?: () => number;
  /** This region's wall clock (timestamps; the jobs framework's pending times). */
  readonly wallClock?: () => number;
}

interface RegionState {
  readonly name: string;
  readonly state: RegionLiveness;
  readonly stableForMs: number;
  readonly capacity?: CapacityBucket;
  readonly digest?: RegionDigest;
  readonly jobs: ReadonlyMap<string, FederatedJobSummary>;
  /** False when the region's digest may leave jobs out (a full list). */
  readonly complete: boolean;
}

interface RoundView {
  readonly now: number;
  readonly wall: number;
  readonly warm: boolean;
  readonly quorate: boolean;
  readonly regions: ReadonlyMap<string, RegionState>;
  readonly children: ReadonlyMap<string, ChildStatus>;
  readonly reserved: Map<string, Scalars>;
  readonly epoch: number | undefined;
}

interface Hold {
  readonly max: number;
  readonly until: number;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sameTargets = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean => {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
};

/** A stored child reports itself like a peer's summary does. */
function reported(c: ChildStatus): ReportedChild {
  return { wanted: c.wanted, running: c.running, healthy: c.healthy, pending: c.pending, unplaceable: c.unplaceable, specHash: c.specHash };
}

export class FederatedJobsController {
  readonly region: string;
  readonly config: FederatedJobsConfig;
  readonly store: FederatedJobStore;
  /** Rounds, takeovers and changes sent, for tests and metrics. */
  readonly stats = { rounds: 0, takeovers: 0, stepDowns: 0, changesSent: 0, changeFailures: 0, adopted: 0, orphansRemoved: 0 };
  private readonly gossip: RegionGossip;
  private readonly jobs: LocalJobs;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly wallClock: () => number;
  private readonly ports = new Map<string, RegionJobs>();
  private readonly sent = new Map<string, { target: number; hash: string; at: number }>();
  private readonly holds = new Map<string, Hold>();
  private readonly errors = new Map<string, string>();
  private readonly orphanSince = new Map<string, number>();
  private startedAt: number | undefined;
  private lastRoundAt: number | undefined;
  private startedEpoch: number | undefined;
  private definitionCursor = 0;
  /** The definitions as the latest round left them: the next digest reuses them instead of reading again. */
  private snapshot: { at: number; stored: ReadonlyMap<string, VersionedJob> } | undefined;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private wakeLoop: (() => void) | undefined;
  private current: Promise<void> | undefined;

  constructor(private readonly options: FederatedJobsOptions) {
    this.gossip = options.gossip;
    this.region = options.gossip.region;
    this.jobs = options.jobs;
    this.config = federatedJobsConfig(options.config);
    this.log = options.log ?? createLogger('stratus-federated-jobs', undefined, { region: this.region });
    this.clock = options.clock ?? (() => performance.now());
    this.wallClock = options.wallClock ?? Date.now;
    this.store = new FederatedJobStore(options.registry ?? options.jobs.store.registry, (id, error) => this.log.error('unreadable federated job skipped', { id, error }));
  }

  /** Every region of the federation, this one first. */
  get regions(): string[] {
    return [this.region, ...this.gossip.peerNames];
  }

  private get interval(): number {
    return this.gossip.config.intervalMs;
  }

  private get warmupMs(): number {
    return (this.config.warmupIntervals ?? this.gossip.config.suspectAfterMissed + 1) * this.interval;
  }

  // ---- running ----

  /** Runs a round every gossip interval while this process holds the lease (or always, without a leader). */
  start(): this {
    if (this.running) return this;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const epoch = this.options.leader ? this.options.leader.epoch : undefined;
        if (!this.options.leader || epoch !== undefined) await this.round(epoch);
        else this.startedAt = undefined;
        await new Promise<void>((resolve) => {
          this.wakeLoop = resolve;
          this.timer = setTimeout(resolve, this.interval);
        });
      }
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.wakeLoop?.();
    await this.loop;
    await this.current;
  }

  /** For the leader loop (tick Lambda, or a master built with duties): a round when one is due. */
  readonly duty: LeaderDuty = async (_ctx, epoch) => {
    const now = this.clock();
    if (this.lastRoundAt !== undefined && now - this.lastRoundAt < this.interval) return;
    await this.round(epoch);
  };

  /** One round now (after any running one). */
  round(epoch?: number): Promise<void> {
    if (this.current) return this.current;
    this.current = this.runRound(epoch)
      .catch((e: unknown) => {
        if (e instanceof FencedError) this.log.warn('lost the lease during a federated jobs round', { epoch });
        else this.log.error('federated jobs round failed', { error: e });
      })
      .finally(() => (this.current = undefined));
    return this.current;
  }

  /** An API change: the next digest reads the definitions afresh, and a round runs soon. */
  private changed(): void {
    this.snapshot = undefined;
    this.wakeLoop?.();
  }

  // ---- the round ----

  private async runRound(epoch: number | undefined): Promise<void> {
    const now = this.clock();
    this.lastRoundAt = now;
    if (this.startedAt === undefined || epoch !== this.startedEpoch) {
      // A new leader (or a restart) listens before deciding.
      this.startedAt = now;
      this.startedEpoch = epoch;
    }
    this.stats.rounds++;
    const wall = this.wallClock();
    const [peers, stored, children, agents] = await Promise.all([
      this.gossip.peerDigests(),
      this.store.list(),
      localChildren(this.jobs.store, wall, this.config.unplaceableAfterIntervals * this.interval),
      this.jobs.store.registry.listAgents(),
    ]);
    const warm = now - this.startedAt >= this.warmupMs;
    const regions = this.regionStates(peers, regionCapacity(agents), children, warm);
    const alive = [...regions.values()].filter((r) => r.state === 'alive').length;
    const view: RoundView = { now, wall, warm, quorate: alive >= quorum(regions.size), regions, children, reserved: new Map(), epoch };

    await this.learn(view, stored);
    for (const id of [...stored.keys()].sort(byName)) {
      const job = stored.get(id)!;
      try {
        if (job.doc.owner === this.region) {
          if (view.warm && view.quorate) {
            const next = await this.own(view, job);
            if (next) stored.set(id, next);
            else stored.delete(id);
          }
        } else await this.follow(view, job, stored);
      } catch (e) {
        if (e instanceof FencedError) throw e;
        if (e instanceof ConflictError) this.log.info('federated job changed meanwhile; next round', { id });
        else this.log.error('federated job round failed', { id, error: e });
      }
    }
    await this.strayChildren(view, stored);
    this.snapshot = { at: this.clock(), stored };
  }

  private regionStates(peers: readonly PeerDigest[], capacity: CapacityBucket, children: ReadonlyMap<string, ChildStatus>, warm: boolean): Map<string, RegionState> {
    const out = new Map<string, RegionState>();
    const own = new Map<string, FederatedJobSummary>();
    for (const c of children.values()) own.set(c.id, { jobId: c.id, home: this.region, owner: this.region, ownerTerm: 0, ...reported(c) });
    out.set(this.region, { name: this.region, state: 'alive', stableForMs: Infinity, capacity, jobs: own, complete: true });
    const byPeer = new Map(peers.map((p) => [p.name, p]));
    for (const name of this.gossip.peerNames) {
      const p = byPeer.get(name);
      if (!p) {
        // Never heard from: after the warm-up, as good as dead.
        out.set(name, { name, state: warm ? 'dead' : 'unknown', stableForMs: 0, jobs: new Map(), complete: false });
        continue;
      }
      out.set(name, {
        name,
        state: p.state,
        stableForMs: p.digest.health.status === 'unhealthy' ? 0 : p.aliveForMs,
        capacity: p.digest.capacity.region,
        digest: p.digest,
        jobs: new Map(p.digest.jobs.map((j) => [j.jobId, j])),
        complete: p.digest.jobs.length < MAX_JOBS_PER_DIGEST,
      });
    }
    return out;
  }

  /** Adopts newer definitions from their owners' digests, and steps down before a higher claim. */
  private async learn(view: RoundView, stored: Map<string, VersionedJob>): Promise<void> {
    const offers = new Map<string, { summary: FederatedJobSummary; definition: FederatedDefinition }>();
    const claims = new Map<string, Claim[]>();
    for (const r of view.regions.values()) {
      if (r.name === this.region) continue;
      for (const s of r.jobs.values()) {
        const list = claims.get(s.jobId) ?? [];
        if (s.ownerTerm > 0) list.push({ owner: s.owner, term: s.ownerTerm });
        claims.set(s.jobId, list);
        if (!s.definition || s.owner !== r.name) continue;
        const best = offers.get(s.jobId);
        const candidate = { owner: s.owner, ownerTerm: s.ownerTerm, generation: s.definition.generation };
        if (!best || newerThan(candidate, { owner: best.summary.owner, ownerTerm: best.summary.ownerTerm, generation: best.definition.generation })) {
          offers.set(s.jobId, { summary: s, definition: s.definition });
        }
      }
    }
    for (const [id, { summary, definition }] of offers) {
      const local = stored.get(id);
      if (local && !newerThan({ owner: summary.owner, ownerTerm: summary.ownerTerm, generation: definition.generation }, local.doc)) continue;
      let spec;
      try {
        spec = parseStoredSpec(definition.spec);
        if (federatedIdOf(spec) !== id) throw new Error(`the spec is not job ${id}'s child (${spec.name})`);
      } catch (e) {
        this.log.warn('a peer sent a federated job definition that does not parse; ignored', { id, from: summary.owner, error: e });
        continue;
      }
      const doc: FederatedJobDoc = {
        id,
        home: summary.home,
        owner: summary.owner,
        ownerTerm: summary.ownerTerm,
        generation: definition.generation,
        policy: asPolicy(definition.policy),
        spec,
        targets: definition.targets,
        displaced: definition.displaced,
        ...(definition.deleting ? { deleting: true } : {}),
        createdAt: definition.createdAt,
        updatedAt: view.wall,
      };
      const version = await this.write(doc, local?.version ?? 'absent', view.epoch);
      if (version === undefined) continue;
      if (local?.doc.owner === this.region) {
        this.stats.stepDowns++;
        this.log.info('federated job owned elsewhere now; following', { id, owner: doc.owner, term: doc.ownerTerm });
      }
      this.stats.adopted++;
      stored.set(id, { doc, version });
    }
    // Claims heard second-hand (no definition yet): an owner that hears of a higher term stops deciding.
    for (const [id, list] of claims) {
      const local = stored.get(id);
      const best = bestClaim(list);
      if (!local || !best || !beats(best, { owner: local.doc.owner, term: local.doc.ownerTerm }) || local.doc.owner !== this.region) continue;
      const doc = { ...local.doc, owner: best.owner, ownerTerm: best.term, updatedAt: view.wall };
      const version = await this.write(doc, local.version, view.epoch);
      if (version === undefined) continue;
      this.stats.stepDowns++;
      this.log.info('a peer claims this federated job with a higher term; following', { id, owner: best.owner, term: best.term });
      stored.set(id, { doc, version });
    }
  }

  /** A conditional write; undefined when someone else wrote first (the next round re-reads). */
  private async write(doc: FederatedJobDoc, expect: number | 'absent', epoch: number | undefined): Promise<number | undefined> {
    try {
      return await this.store.put(doc, expect, epoch);
    } catch (e) {
      if (e instanceof ConflictError) return undefined;
      throw e;
    }
  }

  private childOf(view: RoundView, region: string, id: string): ReportedChild | undefined {
    if (region === this.region) {
      const c = view.children.get(id);
      return c ? reported(c) : undefined;
    }
    const s = view.regions.get(region)?.jobs.get(id);
    // A summary without a spec hash is a replica only: the region has no child.
    return s?.specHash !== undefined ? s : undefined;
  }

  private holdOf(key: string, now: number): number | undefined {
    const h = this.holds.get(key);
    if (h && h.until <= now) this.holds.delete(key);
    return h && h.until > now ? h.max : undefined;
  }

  /** The owner's part: plan, record the plan, bring each live region's child to it. Returns the job as stored now (undefined: deleted). */
  private async own(view: RoundView, job: VersionedJob): Promise<VersionedJob | undefined> {
    const doc = job.doc;
    if (doc.deleting) return (await this.finishDelete(view, job)) ? undefined : job;
    const size = instanceSize(doc.spec);
    const hash = specHash(doc.spec);
    const planRegions: PlanRegion[] = [];
    const placedIn = new Map<string, number>();
    for (const r of view.regions.values()) {
      const key = `${doc.id}/${r.name}`;
      const child = this.childOf(view, r.name, doc.id);
      const placed = child ? Math.max(0, child.wanted - (child.pending ?? 0)) : 0;
      placedIn.set(r.name, placed);
      // A region that says it cannot place what it was asked is held at what it placed (once its
      // framework has caught up with the ask: no more instances than wanted).
      const settled = child !== undefined && child.wanted === (doc.targets[r.name] ?? 0) && child.specHash === hash && (child.pending ?? 0) <= child.wanted;
      if (child && settled && (child.unplaceable ?? 0) > 0) {
        const max = Math.max(0, child.wanted - (child.unplaceable ?? 0));
        if (this.holdOf(key, view.now) !== max) this.log.info('region cannot place all it was asked; spilling over', { id: doc.id, region: r.name, asked: child.wanted, placed: max });
        this.holds.set(key, { max, until: view.now + this.config.holdIntervals * this.interval });
      }
      const limit = this.holdOf(key, view.now);
      planRegions.push({
        name: r.name,
        state: r.state,
        stableForMs: r.stableForMs,
        ...(r.capacity ? { slots: placed + freeSlots(r.capacity, size, view.reserved.get(r.name)) } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
    }
    const plan = planTargets({
      shares: baseShares(doc.policy),
      regions: planRegions,
      previous: { targets: doc.targets, displaced: doc.displaced },
      handBackAfterMs: this.config.handBackAfterIntervals * this.interval,
    });
    for (const r of plan.act) {
      const more = Math.max(0, (plan.targets[r] ?? 0) - (placedIn.get(r) ?? 0));
      view.reserved.set(r, addScaled(view.reserved.get(r) ?? ZERO, size, more));
    }
    let current = job;
    if (!sameTargets(plan.targets, doc.targets) || plan.displaced.join() !== doc.displaced.join()) {
      const gone = plan.displaced.filter((r) => !doc.displaced.includes(r));
      const back = doc.displaced.filter((r) => !plan.displaced.includes(r));
      if (gone.length) this.log.info('failing over a dead region\'s share', { id: doc.id, regions: gone, targets: plan.targets });
      if (back.length) this.log.info('handing a region its share back', { id: doc.id, regions: back, targets: plan.targets });
      const next: FederatedJobDoc = { ...doc, targets: plan.targets, displaced: plan.displaced, generation: doc.generation + 1, updatedAt: view.wall };
      const version = await this.store.put(next, job.version, view.epoch);
      current = { doc: next, version };
    }
    if (plan.short > 0) this.log.debug('instances fit in no region', { id: doc.id, short: plan.short });
    await Promise.all(plan.act.map((r) => this.sync(view, current.doc, r, plan.targets[r] ?? 0, hash)));
    return current;
  }

  private port(view: RoundView, region: string): RegionJobs | undefined {
    const api = region === this.region ? undefined : view.regions.get(region)?.digest?.api;
    const key = `${region} ${api ?? ''}`;
    let p = this.ports.get(key);
    if (!p) {
      p = this.options.regionJobs
        ? this.options.regionJobs(region, api)
        : region === this.region
          ? directRegionJobs(this.jobs.api)
          : api
            ? httpRegionJobs(api, this.options.peerHeaders)
            : undefined;
      if (p) this.ports.set(key, p);
    }
    return p;
  }

  /** Brings one region's child job to `target` instances of the definition's spec. */
  private async sync(view: RoundView, doc: FederatedJobDoc, region: string, target: number, hash: string): Promise<void> {
    const key = `${doc.id}/${region}`;
    const child = this.childOf(view, region, doc.id);
    const deleting = region === this.region ? view.children.get(doc.id)?.deleting === true : false;
    if (child && child.wanted === target && child.specHash === hash && !deleting) {
      this.sent.delete(key);
      this.errors.delete(key);
      return;
    }
    if (!child && target === 0) return;
    const last = this.sent.get(key);
    if (last && last.target === target && last.hash === hash && view.now - last.at < this.config.resendAfterIntervals * this.interval) return;
    const port = this.port(view, region);
    if (!port) {
      // Unreachable (its digest names no API): what it cannot be asked to run goes elsewhere.
      this.errors.set(key, `no jobs API known for region ${region}`);
      this.holds.set(key, { max: child ? Math.max(0, child.wanted - (child.pending ?? 0)) : 0, until: view.now + this.config.holdIntervals * this.interval });
      return;
    }
    const name = childName(doc.id);
    try {
      if (!child) {
        try {
          await port.create(childSpec(doc.spec, target));
        } catch (e) {
          if (!(e instanceof RegionJobsError && e.conflict)) throw e;
          // Already there (our summary lags), or a job of that name that is not this job's.
          const existing = await port.spec(name);
          if (existing && federatedIdOf(existing) !== doc.id) throw new RegionJobsError(`region ${region} has a job named ${name} that is not federated job ${doc.id}'s`, true);
          await port.update(name, childSpec(doc.spec, target));
        }
      } else await port.update(name, childSpec(doc.spec, target));
      this.stats.changesSent++;
      this.sent.set(key, { target, hash, at: view.now });
      this.errors.delete(key);
      this.log.debug('child job changed', { id: doc.id, region, target });
    } catch (e) {
      this.stats.changeFailures++;
      const message = (e as Error).message;
      this.errors.set(key, message);
      if (e instanceof RegionJobsError && e.rejected) {
        // The region refuses (e.g. no host big enough): ask it for no more than it runs, for a while.
        const placed = child ? Math.max(0, child.wanted - (child.pending ?? 0)) : 0;
        this.holds.set(key, { max: placed, until: view.now + this.config.holdIntervals * this.interval });
        this.log.warn('region refused a child job change; its share spills over', { id: doc.id, region, error: message });
      } else {
        this.log.warn('could not reach a region\'s jobs API; retrying next round', { id: doc.id, region, error: message });
      }
    }
  }

  /** A deleted job: remove every live region's child, then the definition once no live region holds any trace. True once removed. */
  private async finishDelete(view: RoundView, job: VersionedJob): Promise<boolean> {
    const id = job.doc.id;
    let traces = 0;
    for (const r of view.regions.values()) {
      if (r.state !== 'alive') continue;
      const child = this.childOf(view, r.name, id);
      if (r.name !== this.region && r.jobs.has(id)) traces++;
      if (!child) continue;
      traces++;
      const key = `${id}/${r.name}`;
      const last = this.sent.get(key);
      if (child.wanted === 0 && last?.target === -1) continue;
      if (last?.target === -1 && view.now - last.at < this.config.resendAfterIntervals * this.interval) continue;
      const port = this.port(view, r.name);
      if (!port) continue;
      try {
        await port.remove(childName(id));
        this.sent.set(key, { target: -1, hash: '', at: view.now });
      } catch (e) {
        this.errors.set(key, (e as Error).message);
        this.log.warn('could not delete a child job; retrying', { id, region: r.name, error: e });
      }
    }
    if (traces > 0) return false;
    await this.store.remove(id, job.version, view.epoch);
    for (const k of [...this.sent.keys()]) if (k.startsWith(`${id}/`)) this.sent.delete(k);
    this.log.info('federated job deleted', { id });
    return true;
  }

  /** A job owned elsewhere: take it over if its owner is dead and this region is next; tidy up after deleted ones. */
  private async follow(view: RoundView, job: VersionedJob, stored: Map<string, VersionedJob>): Promise<void> {
    const doc = job.doc;
    const owner = view.regions.get(doc.owner);
    const ownerState: RegionLiveness = owner?.state ?? (view.warm ? 'dead' : 'unknown');
    if (view.warm && view.quorate && ownerState === 'dead') {
      const next = successor(doc.home, this.regions, doc.owner, (r) => view.regions.get(r)?.state === 'alive');
      if (next === this.region) {
        const taken: FederatedJobDoc = { ...doc, owner: this.region, ownerTerm: doc.ownerTerm + 1, generation: doc.generation + 1, updatedAt: view.wall };
        const version = await this.store.put(taken, job.version, view.epoch);
        this.stats.takeovers++;
        this.log.info('took over a federated job from a dead owner', { id: doc.id, from: doc.owner, term: taken.ownerTerm });
        const owned = await this.own(view, { doc: taken, version });
        if (owned) stored.set(doc.id, owned);
        else stored.delete(doc.id);
        return;
      }
    }
    const child = view.children.get(doc.id);
    if (doc.deleting && !child) {
      await this.store.remove(doc.id, job.version, view.epoch);
      stored.delete(doc.id);
      return;
    }
    // The owner is alive and lists the job no more: it was deleted while this region was away.
    const forgotten = owner?.state === 'alive' && owner.complete && !owner.jobs.has(doc.id);
    if (!this.orphaned(view, doc.id, forgotten && view.warm)) return;
    if (child) await this.jobs.api.remove(childName(doc.id)).catch((e: unknown) => (e instanceof NotFoundError ? undefined : Promise.reject(e)));
    await this.store.remove(doc.id, job.version, view.epoch);
    stored.delete(doc.id);
    this.stats.orphansRemoved++;
    this.log.info('removed a federated job its owner no longer has', { id: doc.id, owner: doc.owner, child: child !== undefined });
  }

  /** Children with no definition here: removed once no live region has heard of their job for a while. */
  private async strayChildren(view: RoundView, stored: ReadonlyMap<string, VersionedJob>): Promise<void> {
    for (const c of view.children.values()) {
      if (stored.has(c.id)) continue;
      const peers = [...view.regions.values()].filter((r) => r.name !== this.region && r.state === 'alive');
      const known = peers.some((r) => r.jobs.has(c.id) || !r.complete);
      if (!this.orphaned(view, c.id, view.warm && view.quorate && !known) || c.deleting) continue;
      await this.jobs.api.remove(childName(c.id)).catch((e: unknown) => (e instanceof NotFoundError ? undefined : Promise.reject(e)));
      this.stats.orphansRemoved++;
      this.log.info('removed the child of a federated job no region knows', { id: c.id });
    }
  }

  /** True once `suspect` has held for the orphan delay without a break. */
  private orphaned(view: RoundView, id: string, suspect: boolean): boolean {
    if (!suspect) {
      this.orphanSince.delete(id);
      return false;
    }
    const since = this.orphanSince.get(id) ?? view.now;
    this.orphanSince.set(id, since);
    if (view.now - since < this.config.orphanAfterIntervals * this.interval) return false;
    this.orphanSince.delete(id);
    return true;
  }

  // ---- what this region's digest says ----

  /** This region's federated job summaries (the RegionGossip's `federatedJobs`): definitions for the jobs it owns. */
  async summaries(): Promise<FederatedJobSummary[]> {
    const wall = this.wallClock();
    const snap = this.snapshot;
    const [stored, children] = await Promise.all([
      snap && this.clock() - snap.at < this.interval ? snap.stored : this.store.list(),
      localChildren(this.jobs.store, wall, this.config.unplaceableAfterIntervals * this.interval),
    ]);
    const ids = [...new Set([...stored.keys(), ...children.keys()])].sort(byName).slice(0, MAX_JOBS_PER_DIGEST);
    const owned = ids.filter((id) => stored.get(id)?.doc.owner === this.region);
    const withDefinition = this.definitionTurn(owned.map((id) => stored.get(id)!.doc));
    return ids.map((id) => {
      const doc = stored.get(id)?.doc;
      const child = children.get(id);
      const home = doc?.home ?? (child?.home !== undefined && REGION_NAME.test(child.home) ? child.home : this.region);
      return {
        jobId: id,
        home,
        owner: doc?.owner ?? home,
        ownerTerm: doc?.ownerTerm ?? 0,
        wanted: child?.wanted ?? 0,
        running: child?.running ?? 0,
        healthy: child?.healthy ?? 0,
        ...(child ? { pending: child.pending, unplaceable: child.unplaceable, specHash: child.specHash } : {}),
        ...(doc && withDefinition.has(id) ? { definition: definitionOf(doc) } : {}),
      };
    });
  }

  /** The owned jobs whose definitions go in this digest: all that fit the budget, taking turns. */
  private definitionTurn(owned: readonly FederatedJobDoc[]): Set<string> {
    const out = new Set<string>();
    if (owned.length === 0) return out;
    const start = this.definitionCursor % owned.length;
    let bytes = 0;
    for (let k = 0; k < owned.length; k++) {
      const doc = owned[(start + k) % owned.length]!;
      const size = Buffer.byteLength(JSON.stringify(definitionOf(doc)));
      if (k > 0 && bytes + size > this.config.definitionBytesPerDigest) {
        this.definitionCursor = (start + k) % owned.length;
        return out;
      }
      bytes += size;
      out.add(doc.id);
    }
    this.definitionCursor = 0;
    return out;
  }

  // ---- the API's operations ----

  async submit(body: unknown): Promise<FederatedJobView> {
    const sub = parseSubmission(body, this.region, this.regions);
    const existing = await this.store.get(sub.id);
    if (existing) throw new ConflictError(`a federated job named ${sub.id} exists (owned by region ${existing.doc.owner}); change it with PUT /api/v1/federation/jobs/${sub.id}`, 'name');
    const clash = await this.jobs.store.getJob(childName(sub.id));
    if (clash && federatedIdOf(clash.doc.spec) !== sub.id) throw new ConflictError(`this region has a job named ${childName(sub.id)}; pick another name`, 'name');
    const now = this.wallClock();
    const doc: FederatedJobDoc = {
      id: sub.id,
      home: this.region,
      owner: this.region,
      ownerTerm: 1,
      generation: 1,
      policy: sub.policy,
      spec: sub.template,
      targets: {},
      displaced: [],
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.store.put(doc, 'absent');
    } catch (e) {
      throw e instanceof ConflictError ? new ConflictError(`a federated job named ${sub.id} exists`, 'name') : e;
    }
    this.log.info('federated job submitted', { id: sub.id, policy: sub.policy });
    this.changed();
    return this.view(doc);
  }

  private async owned(id: string): Promise<VersionedJob> {
    const job = await this.store.get(id);
    if (!job) throw new NotFoundError(`no federated job named '${id.slice(0, 64)}'`, 'id');
    if (job.doc.owner !== this.region) throw new ConflictError(`federated job ${id} is owned by region ${job.doc.owner} (term ${job.doc.ownerTerm}); send changes there`, 'id');
    if (job.doc.deleting) throw new ConflictError(`federated job ${id} is being deleted`, 'id');
    return job;
  }

  async update(id: string, body: unknown): Promise<FederatedJobView> {
    const job = await this.owned(id);
    const change = parseChange(body, job.doc.spec, this.regions);
    const doc: FederatedJobDoc = {
      ...job.doc,
      ...(change.policy ? { policy: change.policy } : {}),
      ...(change.template ? { spec: change.template } : {}),
      generation: job.doc.generation + 1,
      updatedAt: this.wallClock(),
    };
    await this.store.put(doc, job.version);
    this.changed();
    return this.view(doc);
  }

  async remove(id: string): Promise<FederatedJobView> {
    const job = await this.owned(id);
    const doc: FederatedJobDoc = { ...job.doc, deleting: true, generation: job.doc.generation + 1, updatedAt: this.wallClock() };
    await this.store.put(doc, job.version);
    this.changed();
    return this.view(doc);
  }

  async get(id: string): Promise<FederatedJobView> {
    const job = await this.store.get(id);
    if (!job) throw new NotFoundError(`no federated job named '${id.slice(0, 64)}'`, 'id');
    return this.view(job.doc);
  }

  async list(): Promise<FederatedJobView[]> {
    const jobs = await this.store.list();
    const facts = await this.facts();
    return [...jobs.values()].sort((a, b) => byName(a.doc.id, b.doc.id)).map((j) => federatedJobView(this.region, j.doc, facts(j.doc.id)));
  }

  private async view(doc: FederatedJobDoc): Promise<FederatedJobView> {
    return federatedJobView(this.region, doc, (await this.facts())(doc.id));
  }

  /** Per region, for one job: liveness, its child as reported, the owner's last error there. */
  private async facts(): Promise<(id: string) => RegionFacts[]> {
    const [peers, children] = await Promise.all([
      this.gossip.peerDigests(),
      localChildren(this.jobs.store, this.wallClock(), this.config.unplaceableAfterIntervals * this.interval),
    ]);
    const byPeer = new Map(peers.map((p) => [p.name, p]));
    return (id) =>
      this.regions.map((region) => {
        const p = byPeer.get(region);
        const child = region === this.region ? children.get(id) : p?.digest.jobs.find((j) => j.jobId === id && j.specHash !== undefined);
        const error = this.errors.get(`${id}/${region}`);
        return { region, state: region === this.region ? 'alive' : (p?.state ?? 'unknown'), ...(child ? { child } : {}), ...(error ? { error } : {}) };
      });
  }
}

function definitionOf(doc: FederatedJobDoc): FederatedDefinition {
  return {
    generation: doc.generation,
    policy: doc.policy,
    spec: doc.spec as unknown as Record<string, unknown>,
    targets: { ...doc.targets },
    displaced: [...doc.displaced],
    ...(doc.deleting ? { deleting: true } : {}),
    createdAt: doc.createdAt,
  };
}
