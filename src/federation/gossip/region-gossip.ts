import { sleep } from '../../core/sleep.js';
import { FencedError } from '../../core/errors.js';
import type { LeaderDuty } from '../../master-lambda/extension.js';
import { createLogger, type Logger } from '../../core/logger.js';
import type { Registry } from '../../state/registry.js';
import { gossipConfig, type GossipConfig } from './config.js';
import { buildDigest } from './digest-builder.js';
import { encodeFitting } from './digest-codec.js';
import { DigestIntake } from './digest-intake.js';
import { REGION_NAME, type AgentCounts, type CapacityBucket, type FederatedJobSummary, type RegionDigest, type RegionHealth, type ServiceEndpoint } from './digest.js';
import type { GossipTransport } from './transport.js';
import { allocateIncarnation } from './incarnation.js';
import { Membership } from './membership.js';
import { PeerStore, positionOf, type PeerRecord, type PeerState } from './peer-store.js';
import { localServices } from './services.js';
import { GossipStats } from './stats.js';

// The gossip facade of one region: sends this region's digest to every peer each interval
// (on the lease holder only), receives peers' digests (on any process: applying is idempotent
// and conditional), judges peers alive, suspect or dead, and answers who the peers are and
// where a service's endpoints are. Federated jobs (../jobs/controller.ts) read
// `peerDigests()` and feed their job summaries in through `federatedJobs`.

/** Who may send and judge peers: the master's lease (LeaderLease fits). */
export interface LeaderView {
  /** The lease epoch while this process holds the lease; undefined otherwise. */
  readonly epoch: number | undefined;
}

export interface RegionGossipOptions {
  readonly region: string;
  /** The regions to gossip with (not this one). */
  readonly peers: readonly string[];
  readonly registry: Registry;
  /**
   * Where the peer table and the incarnation counter live, when not in `registry` (whose agents
   * and tasks the digest reports). Its writes cannot be fenced by `leader`'s lease, so the two
   * do not go together: for a single-process region (tests keep it on DynamoDB this way).
   */
  readonly peerRegistry?: Registry;
  readonly transport: GossipTransport;
  /** Without one, this process always acts as the region's sender (a single-process region). */
  readonly leader?: LeaderView;
  readonly config?: Partial<GossipConfig>;
  readonly log?: Logger;
  /** Monotonic milliseconds, for failure detection; tests and the benchmark inject one. */
  readonly clock?: () => number;
  /** This region's wall clock: incarnations and operator-facing timestamps only. */
  readonly wallClock?: () => number;
  /** The federated jobs this region takes part in, carried in its digest (../jobs/summaries.ts). */
  readonly federatedJobs?: () => Promise<readonly FederatedJobSummary[]>;
  /** This region's master API URL, advertised in its digest. */
  readonly api?: string;
  /** False when a receiver Lambda consumes the inbox instead of this process. */
  readonly receive?: boolean;
  /** False when the leader loop drives sending through `duty` (the tick Lambda). */
  readonly sendLoop?: boolean;
}

/** A peer as `stratus regions` and GET /api/v1/federation/peers show it. */
export interface PeerSummary {
  readonly name: string;
  /** `unknown`: configured, but no digest has arrived yet. */
  readonly state: PeerState | 'unknown';
  readonly incarnation?: number;
  readonly seq?: number;
  /** Milliseconds since the peer last moved forward, on this process's clock. */
  readonly ageMs?: number;
  /** When this region stored the peer's latest digest (this region's wall clock). */
  readonly receivedAt?: number;
  readonly health?: RegionHealth;
  readonly agents?: AgentCounts;
  /** Region-wide capacity (fixed-point units: millicpus, MiB). */
  readonly capacity?: CapacityBucket;
}

/** A peer with its full latest digest: what federated jobs are placed with. */
export interface PeerDigest {
  readonly name: string;
  readonly state: PeerState;
  readonly incarnation: number;
  readonly seq: number;
  readonly ageMs: number;
  /** How long the peer has been alive without a break, on this region's wall clock (0 unless alive). */
  readonly aliveForMs: number;
  readonly digest: RegionDigest;
}

export interface RegionalEndpoint extends ServiceEndpoint {
  readonly region: string;
}

export interface ServiceLookup {
  readonly name: string;
  readonly endpoints: RegionalEndpoint[];
  /** Live regions whose list for this name was cut (or left out) to fit their digest. */
  readonly truncatedIn?: string[];
}

export type GossipEvent =
  | { readonly type: 'sent'; readonly incarnation: number; readonly seq: number }
  | { readonly type: 'digest'; readonly region: string; readonly digest: RegionDigest }
  | { readonly type: 'state'; readonly region: string; readonly from: PeerState; readonly to: PeerState };

const SEVERITY: Record<PeerState, number> = { alive: 0, suspect: 1, dead: 2 };
const worse = (a: PeerState, b: PeerState): PeerState => (SEVERITY[a] >= SEVERITY[b] ? a : b);

export class RegionGossip {
  readonly region: string;
  readonly peerNames: readonly string[];
  readonly config: GossipConfig;
  readonly stats = new GossipStats();
  readonly store: PeerStore;
  private readonly peerRegistry: Registry;
  private readonly membership: Membership;
  private readonly intake: DigestIntake;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly wallClock: () => number;
  private readonly listeners = new Set<(e: GossipEvent) => void>();
  private sending: { incarnation: number; epoch: number | undefined; seq: number } | undefined;
  private lastRoundAt: number | undefined;
  private running = false;
  private abort: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private loops: Promise<void>[] = [];
  private round: Promise<void> | undefined;

  constructor(private readonly options: RegionGossipOptions) {
    if (!REGION_NAME.test(options.region)) throw new Error(`region name ${JSON.stringify(options.region)} is malformed`);
    for (const p of options.peers) {
      if (!REGION_NAME.test(p)) throw new Error(`peer region name ${JSON.stringify(p)} is malformed`);
      if (p === options.region) throw new Error(`region ${p} cannot be its own peer`);
    }
    if (options.peerRegistry && options.leader) throw new Error('a separate peerRegistry cannot be fenced by the leader lease: give one or the other');
    this.region = options.region;
    this.peerNames = [...new Set(options.peers)].sort();
    this.config = gossipConfig(options.config);
    this.log = options.log ?? createLogger('stratus-federation', undefined, { region: options.region });
    this.clock = options.clock ?? (() => performance.now());
    this.wallClock = options.wallClock ?? Date.now;
    this.peerRegistry = options.peerRegistry ?? options.registry;
    this.store = new PeerStore(this.peerRegistry, this.config.maxDigestBytes, this.wallClock);
    this.membership = new Membership(this.config, this.clock);
    this.intake = new DigestIntake({ region: this.region, store: this.store, stats: this.stats, log: this.log, maxDigestBytes: this.config.maxDigestBytes });
  }

  /** The incarnation this process sends under, once it has sent. */
  get incarnation(): number | undefined {
    return this.sending?.incarnation;
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): this {
    if (this.running) return this;
    this.running = true;
    this.abort = new AbortController();
    if (this.options.sendLoop !== false) this.loops.push(this.gossipLoop());
    if (this.options.receive !== false) this.loops.push(this.receiveLoop(this.abort.signal));
    return this;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort?.abort();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.wake?.();
    const loops = this.loops;
    this.loops = [];
    await Promise.all(loops);
    await this.round;
  }

  subscribe(listener: (e: GossipEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: GossipEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.log.error('federation listener failed', { error: err });
      }
    }
  }

  /** The epoch to act under, or undefined when another process is the region's sender. */
  private leadership(): { epoch: number | undefined } | undefined {
    if (!this.options.leader) return { epoch: undefined };
    const epoch = this.options.leader.epoch;
    return epoch === undefined ? undefined : { epoch };
  }

  private async gossipLoop(): Promise<void> {
    let next = this.clock();
    while (this.running) {
      await this.tick();
      // Keep to the interval's grid: a slow round does not push every later one back.
      next += this.config.intervalMs;
      const now = this.clock();
      if (next < now) next = now;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, next - now);
      });
    }
  }

  private async receiveLoop(signal: AbortSignal): Promise<void> {
    while (this.running) {
      try {
        await this.receiveOnce(this.config.receiveWaitMs, signal);
      } catch (e) {
        this.log.error('gossip receive failed', { error: e });
        await sleep(Math.min(this.config.intervalMs, 1_000));
      }
    }
  }

  /** One gossip round if this process leads: judge the peers, then send the digest. */
  async tick(): Promise<void> {
    const lead = this.leadership();
    if (!lead) return;
    await this.runRound(lead.epoch);
  }

  /** For the leader loop (tick Lambda): a round when one is due, fenced by the loop's epoch. */
  readonly duty: LeaderDuty = async (_ctx, epoch) => {
    const now = this.clock();
    if (this.lastRoundAt !== undefined && now - this.lastRoundAt < this.config.intervalMs) return;
    await this.runRound(epoch);
  };

  private async runRound(epoch: number | undefined): Promise<void> {
    if (this.round) return this.round;
    this.lastRoundAt = this.clock();
    this.round = (async () => {
      try {
        // Judging first: it is one read, and its timing is what failure detection promises.
        await this.evaluate(epoch);
        await this.send(epoch);
      } catch (e) {
        if (e instanceof FencedError) this.log.warn('lost the lease during a gossip round', { epoch });
        else this.log.error('gossip round failed', { error: e });
      }
    })().finally(() => (this.round = undefined));
    return this.round;
  }

  /** Builds this region's digest and sends it to every peer. Returns it, for tests. */
  async send(epoch: number | undefined): Promise<RegionDigest> {
    // A new sender (a restart, or a new lease holder) starts a new incarnation.
    const fresh = !this.sending || this.sending.epoch !== epoch;
    const [incarnation, agents, tasks, jobs] = await Promise.all([
      fresh ? allocateIncarnation(this.peerRegistry, epoch, this.wallClock) : Promise.resolve(undefined),
      this.options.registry.listAgents(),
      this.options.registry.listTasks(),
      this.options.federatedJobs?.() ?? Promise.resolve([]),
    ]);
    if (incarnation !== undefined) {
      this.sending = { incarnation, epoch, seq: 0 };
      this.log.info('gossip sender starts', { incarnation, epoch });
    }
    const sending = this.sending!;
    const built = buildDigest(
      { region: this.region, incarnation: sending.incarnation, seq: ++sending.seq, agents, tasks, jobs, ...(this.options.api ? { api: this.options.api } : {}) },
      this.config,
    );
    const encoded = encodeFitting(built, this.config);
    if (encoded.digest !== built) this.log.warn('digest trimmed to fit a message', { truncated: encoded.digest.truncatedServices });
    const result = await this.options.transport.send(this.peerNames.map((to) => ({ to, body: encoded.body })));
    this.stats.rounds++;
    this.stats.sentMessages += result.messages;
    this.stats.sendRequests += result.requests;
    this.stats.sentBytes += result.bytes;
    this.stats.sendFailures += result.failed.length;
    if (result.failed.length) this.log.warn('some digests were not sent', { failed: result.failed.slice(0, 5) });
    this.emit({ type: 'sent', incarnation: sending.incarnation, seq: sending.seq });
    return encoded.digest;
  }

  /** One receive from the inbox: apply, then delete what need not come back. Returns messages seen. */
  async receiveOnce(waitMs = 0, signal?: AbortSignal): Promise<number> {
    const messages = await this.options.transport.receive({ waitMs, maxMessages: this.config.receiveBatch, ...(signal ? { signal } : {}) });
    if (messages.length === 0) return 0;
    const result = await this.intake.process(messages);
    for (const d of result.applied) {
      this.membership.observe(d.region, d, 'alive');
      this.emit({ type: 'digest', region: d.region, digest: d });
    }
    const retry = new Set(result.retry);
    await this.options.transport.ack(messages.filter((m) => !retry.has(m.id)));
    return messages.length;
  }

  /** The state a record is in as this process sees it: the persisted one or worse, by age. */
  private judge(r: PeerRecord): PeerState {
    this.membership.observe(r.region, positionOf(r), r.state);
    return worse(r.state, this.membership.stateOf(r.region) ?? r.state);
  }

  /** Marks peers suspect or dead as their age calls for (conditional writes; a newer digest wins). */
  async evaluate(epoch?: number): Promise<void> {
    for (const r of await this.store.list()) {
      const to = this.judge(r);
      if (to === r.state) continue;
      if (await this.store.setState(r, to, epoch)) {
        this.stats.transitions++;
        this.log.info('peer state changed', { peer: r.region, from: r.state, to, ageMs: Math.round(this.membership.ageOf(r.region) ?? 0) });
        this.emit({ type: 'state', region: r.region, from: r.state, to });
      }
    }
  }

  /** Every peer (configured or heard from), with its state and the age of its last digest. */
  async peers(): Promise<PeerSummary[]> {
    const records = await this.store.list();
    const out: PeerSummary[] = records.map((r) => {
      const d = this.store.digestOf(r);
      const state = this.judge(r);
      return {
        name: r.region,
        state,
        incarnation: r.incarnation,
        seq: r.seq,
        ageMs: Math.round(this.membership.ageOf(r.region) ?? 0),
        receivedAt: r.receivedAt,
        ...(d ? { health: d.health, agents: d.agents, capacity: d.capacity.region } : {}),
      };
    });
    for (const name of this.peerNames) if (!records.some((r) => r.region === name)) out.push({ name, state: 'unknown' });
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Peers with their latest valid digest, for placement across regions (federated jobs). */
  async peerDigests(): Promise<PeerDigest[]> {
    const out: PeerDigest[] = [];
    for (const r of await this.store.list()) {
      const digest = this.store.digestOf(r);
      if (!digest) continue;
      const state = this.judge(r);
      const aliveForMs = state === 'alive' && r.state === 'alive' ? Math.max(0, this.wallClock() - r.stateSince) : 0;
      out.push({ name: r.region, state, incarnation: r.incarnation, seq: r.seq, ageMs: Math.round(this.membership.ageOf(r.region) ?? 0), aliveForMs, digest });
    }
    return out;
  }

  /** Endpoints of a service in this region (its RUNNING tasks now) and in every alive peer. */
  async servicesNamed(name: string): Promise<ServiceLookup> {
    const [agents, tasks, peers] = await Promise.all([this.options.registry.listAgents(), this.options.registry.listTasks(), this.peerDigests()]);
    const endpoints: RegionalEndpoint[] = (localServices(agents, tasks, name).get(name) ?? []).map((e) => ({ region: this.region, ...e }));
    const truncatedIn: string[] = [];
    for (const p of peers.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      // Only alive peers: a suspect region's endpoints may be gone, and callers would wait on them.
      if (p.state !== 'alive') continue;
      for (const e of p.digest.services[name] ?? []) endpoints.push({ region: p.name, ...e });
      if (p.digest.servicesOmitted || p.digest.truncatedServices?.includes(name)) truncatedIn.push(p.name);
    }
    return { name, endpoints, ...(truncatedIn.length ? { truncatedIn } : {}) };
  }
}
