import { childName, childSpec, federatedIdOf, specHash } from './child-job.js';
import type { ControllerContext } from './controller-context.js';
import type { FederatedJobDoc, VersionedJob } from './federated-job.js';
import { planTargets, type PlanRegion } from './plan.js';
import { baseShares } from './policy.js';
import { addScaled, freeSlots, instanceSize, ZERO } from './region-capacity.js';
import { directRegionJobs, httpRegionJobs, RegionJobsError, type RegionJobs } from './region-jobs.js';
import { childOf, type RoundView } from './round-view.js';

// The owner's part in a round, for each job this region owns (with a quorum, after warming
// up): plan per-region targets from the policy, peers' liveness and capacity and what they
// report (plan.ts decides), record the plan, and create / scale / update / delete each live
// region's child job through that region's jobs API. A region that cannot place what it was
// asked, refuses a change or cannot be reached is held at what it runs for a while, so its
// share spills over to others. It remembers what it sent (not resent while digests catch up)
// and the last failure per region (shown by the operator API).

/** How the owner reaches a region's jobs framework. */
export interface RegionJobsReach {
  /** Default: this region's in process, peers over HTTP at their digest's `api`. */
  readonly regionJobs?: (region: string, api: string | undefined) => RegionJobs | undefined;
  /** Headers for peers' jobs APIs over HTTP (the operator credential). */
  readonly peerHeaders?: Record<string, string>;
}

interface Hold {
  readonly max: number;
  readonly until: number;
}

const sameTargets = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean => {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
};

export class OwnerReconcile {
  private readonly ports = new Map<string, RegionJobs>();
  private readonly sent = new Map<string, { target: number; hash: string; at: number }>();
  private readonly holds = new Map<string, Hold>();
  private readonly errors = new Map<string, string>();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly reach: RegionJobsReach = {},
  ) {}

  /** The last failure to change job `id`'s child in `region`, if the latest attempt failed. */
  errorOf(id: string, region: string): string | undefined {
    return this.errors.get(`${id}/${region}`);
  }

  /** Plans, records the plan, brings each live region's child to it. Returns the job as stored now (undefined: deleted). */
  async reconcile(view: RoundView, job: VersionedJob): Promise<VersionedJob | undefined> {
    const doc = job.doc;
    if (doc.deleting) return (await this.finishDelete(view, job)) ? undefined : job;
    const size = instanceSize(doc.spec);
    const hash = specHash(doc.spec);
    const planRegions: PlanRegion[] = [];
    const placedIn = new Map<string, number>();
    for (const r of view.regions.values()) {
      const key = `${doc.id}/${r.name}`;
      const child = childOf(view, r.name, doc.id);
      const placed = child ? Math.max(0, child.wanted - (child.pending ?? 0)) : 0;
      placedIn.set(r.name, placed);
      // A region that says it cannot place what it was asked is held at what it placed (once its
      // framework has caught up with the ask: no more instances than wanted).
      const settled = child !== undefined && child.wanted === (doc.targets[r.name] ?? 0) && child.specHash === hash && (child.pending ?? 0) <= child.wanted;
      if (child && settled && (child.unplaceable ?? 0) > 0) {
        const max = Math.max(0, child.wanted - (child.unplaceable ?? 0));
        if (this.holdOf(key, view.now) !== max) this.ctx.log.info('region cannot place all it was asked; spilling over', { id: doc.id, region: r.name, asked: child.wanted, placed: max });
        this.holds.set(key, { max, until: view.now + this.ctx.config.holdIntervals * this.ctx.interval });
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
      handBackAfterMs: this.ctx.config.handBackAfterIntervals * this.ctx.interval,
    });
    for (const r of plan.act) {
      const more = Math.max(0, (plan.targets[r] ?? 0) - (placedIn.get(r) ?? 0));
      view.reserved.set(r, addScaled(view.reserved.get(r) ?? ZERO, size, more));
    }
    let current = job;
    if (!sameTargets(plan.targets, doc.targets) || plan.displaced.join() !== doc.displaced.join()) {
      const gone = plan.displaced.filter((r) => !doc.displaced.includes(r));
      const back = doc.displaced.filter((r) => !plan.displaced.includes(r));
      if (gone.length) this.ctx.log.info('failing over a dead region\'s share', { id: doc.id, regions: gone, targets: plan.targets });
      if (back.length) this.ctx.log.info('handing a region its share back', { id: doc.id, regions: back, targets: plan.targets });
      const next: FederatedJobDoc = { ...doc, targets: plan.targets, displaced: plan.displaced, generation: doc.generation + 1, updatedAt: view.wall };
      const version = await this.ctx.store.put(next, job.version, view.epoch);
      current = { doc: next, version };
    }
    if (plan.short > 0) this.ctx.log.debug('instances fit in no region', { id: doc.id, short: plan.short });
    await Promise.all(plan.act.map((r) => this.sync(view, current.doc, r, plan.targets[r] ?? 0, hash)));
    return current;
  }

  private port(view: RoundView, region: string): RegionJobs | undefined {
    const api = region === this.ctx.region ? undefined : view.regions.get(region)?.digest?.api;
    const key = `${region} ${api ?? ''}`;
    let p = this.ports.get(key);
    if (!p) {
      p = this.reach.regionJobs
        ? this.reach.regionJobs(region, api)
        : region === this.ctx.region
          ? directRegionJobs(this.ctx.jobs.api)
          : api
            ? httpRegionJobs(api, this.reach.peerHeaders)
            : undefined;
      if (p) this.ports.set(key, p);
    }
    return p;
  }

  /** Brings one region's child job to `target` instances of the definition's spec. */
  private async sync(view: RoundView, doc: FederatedJobDoc, region: string, target: number, hash: string): Promise<void> {
    const key = `${doc.id}/${region}`;
    const child = childOf(view, region, doc.id);
    const deleting = region === this.ctx.region ? view.children.get(doc.id)?.deleting === true : false;
    if (child && child.wanted === target && child.specHash === hash && !deleting) {
      this.sent.delete(key);
      this.errors.delete(key);
      return;
    }
    if (!child && target === 0) return;
    const last = this.sent.get(key);
    if (last && last.target === target && last.hash === hash && view.now - last.at < this.ctx.config.resendAfterIntervals * this.ctx.interval) return;
    const port = this.port(view, region);
    if (!port) {
      // Unreachable (its digest names no API): what it cannot be asked to run goes elsewhere.
      this.errors.set(key, `no jobs API known for region ${region}`);
      this.holds.set(key, { max: child ? Math.max(0, child.wanted - (child.pending ?? 0)) : 0, until: view.now + this.ctx.config.holdIntervals * this.ctx.interval });
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
      this.ctx.stats.changesSent++;
      this.sent.set(key, { target, hash, at: view.now });
      this.errors.delete(key);
      this.ctx.log.debug('child job changed', { id: doc.id, region, target });
    } catch (e) {
      this.ctx.stats.changeFailures++;
      const message = (e as Error).message;
      this.errors.set(key, message);
      if (e instanceof RegionJobsError && e.rejected) {
        // The region refuses (e.g. no host big enough): ask it for no more than it runs, for a while.
        const placed = child ? Math.max(0, child.wanted - (child.pending ?? 0)) : 0;
        this.holds.set(key, { max: placed, until: view.now + this.ctx.config.holdIntervals * this.ctx.interval });
        this.ctx.log.warn('region refused a child job change; its share spills over', { id: doc.id, region, error: message });
      } else {
        this.ctx.log.warn('could not reach a region\'s jobs API; retrying next round', { id: doc.id, region, error: message });
      }
    }
  }

  /** A deleted job: remove every live region's child, then the definition once no live region holds any trace. True once removed. */
  private async finishDelete(view: RoundView, job: VersionedJob): Promise<boolean> {
    const id = job.doc.id;
    let traces = 0;
    for (const r of view.regions.values()) {
      if (r.state !== 'alive') continue;
      const child = childOf(view, r.name, id);
      if (r.name !== this.ctx.region && r.jobs.has(id)) traces++;
      if (!child) continue;
      traces++;
      const key = `${id}/${r.name}`;
      const last = this.sent.get(key);
      if (child.wanted === 0 && last?.target === -1) continue;
      if (last?.target === -1 && view.now - last.at < this.ctx.config.resendAfterIntervals * this.ctx.interval) continue;
      const port = this.port(view, r.name);
      if (!port) continue;
      try {
        await port.remove(childName(id));
        this.sent.set(key, { target: -1, hash: '', at: view.now });
      } catch (e) {
        this.errors.set(key, (e as Error).message);
        this.ctx.log.warn('could not delete a child job; retrying', { id, region: r.name, error: e });
      }
    }
    if (traces > 0) return false;
    await this.ctx.store.remove(id, job.version, view.epoch);
    for (const k of [...this.sent.keys()]) if (k.startsWith(`${id}/`)) this.sent.delete(k);
    this.ctx.log.info('federated job deleted', { id });
    return true;
  }

  private holdOf(key: string, now: number): number | undefined {
    const h = this.holds.get(key);
    if (h && h.until <= now) this.holds.delete(key);
    return h && h.until > now ? h.max : undefined;
  }
}
