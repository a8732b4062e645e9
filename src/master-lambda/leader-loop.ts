import { FencedError } from '../core/errors.js';
import type { LeaderLease } from '../state/leader-lease.js';
import type { MasterContext } from './master-context.js';
import { RecentOffers, runAllocationRound } from './use-cases/allocation-round.js';
import { expireOffers } from './use-cases/offer-timeouts.js';

// Keeps (or contends for) the leader lease and, while leader, runs the leader's duties: an
// allocation round at every interval and soon after a state change (debounced), offer
// timeouts and the other timeouts. Duties never overlap within a process.

/**
 * A leader-only job, run with the epoch that fences its writes. A duty that leaves work running
 * after it returns (the autoscaler's background pass) says how to await it with `settle`: the
 * lease is released, and so handed over in the same epoch, only once every duty has settled.
 */
export type LeaderDuty = ((ctx: MasterContext, epoch: number) => Promise<unknown>) & {
  readonly settle?: () => Promise<void>;
  /**
   * Milliseconds until the duty next has something to do (undefined: nothing until state
   * changes), so an event-driven leader (leader-reactor.ts) can sleep until then. A duty
   * without it is taken to be due every `LeaderLoop.dutyFallbackMs`.
   */
  readonly dueIn?: () => number | undefined;
};

/** When a duty cannot say when it is next due: a slow safety period. */
export const DUTY_FALLBACK_MS = 60_000;

export interface LeaderLoopOptions {
  /** Runs once when this process becomes leader (e.g. rescinding the old epoch's offers). */
  readonly onElected?: LeaderDuty[];
  /** Runs every interval while leader, before the allocation round. */
  readonly duties?: LeaderDuty[];
  readonly intervalMs?: number;
  /**
   * How often a standby reads the lease. A takeover comes a lease duration after the standby
   * first sees the dead leader's last renewal, so this bounds how late past the lease it comes.
   * Default: a fortieth of the lease (250 ms for 10 s), at most the holder's renewal period.
   */
  readonly standbyPollMs?: number;
}

export class LeaderLoop {
  private timer: NodeJS.Timeout | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> | undefined;
  /** The lease attempt (and election) in flight, which stop() awaits before releasing. */
  private leasing: Promise<void> | undefined;
  private rerun = false;
  private electedEpoch: number | undefined;
  private announcedEpoch: number | undefined;
  private election: { epoch: number; done: Promise<void> } | undefined;
  private stopped = true;
  private readonly recentOffers = new RecentOffers();
  /** When the earliest outstanding offer expires, as the last round saw it. */
  private nextOfferExpiry = -Infinity;
  /** When the earliest decline filter ends (its agent may be offered again), as the last round saw it. */
  private nextFilterExpiry = Infinity;
  /** Agent item versions the last round wrote (its own offers' counters), so a change feed can skip them. */
  lastRoundAgentWrites: ReadonlyMap<string, number> = new Map();
  /** Rounds run and leadership changes, for tests and metrics. */
  readonly stats = { rounds: 0, elections: 0, offers: 0, errors: 0 };

  private readonly duties: LeaderDuty[];

  constructor(
    private readonly ctx: MasterContext,
    readonly lease: LeaderLease,
    private readonly options: LeaderLoopOptions = {},
  ) {
    this.duties = [...(options.duties ?? [])];
  }

  /** Adds a leader duty (federation, autoscaler) to run every interval from now on. */
  addDuty(duty: LeaderDuty): void {
    this.duties.push(duty);
  }

  get isLeader(): boolean {
    return this.lease.isLeader();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const leaseEvery = Math.max(50, Math.floor(this.lease.durationMs / 4));
    const standbyEvery = Math.min(leaseEvery, this.options.standbyPollMs ?? Math.max(50, Math.floor(this.lease.durationMs / 40)));
    const interval = this.options.intervalMs ?? this.ctx.config.allocationIntervalMs;
    const keepLease = async (): Promise<void> => {
      try {
        await this.lease.acquire();
        await this.checkElection();
      } catch (e) {
        this.ctx.log.warn('lease attempt failed', { error: e });
      }
      // A standby tries again at the moment a takeover falls due, if that comes before its next poll.
      const due = this.lease.takeoverDueIn();
      const wait = this.lease.isLeader() ? leaseEvery : Math.min(standbyEvery, due ?? standbyEvery);
      if (!this.stopped) this.leaseTimer = setTimeout(() => void runKeepLease(), wait);
    };
    const runKeepLease = (): Promise<void> => (this.leasing = keepLease().finally(() => (this.leasing = undefined)));
    void runKeepLease();
    this.timer = setInterval(() => this.trigger(), interval);
    this.unsubscribe = this.ctx.notifier.subscribe('allocation', () => {
      if (this.debounce) return;
      this.debounce = setTimeout(() => {
        this.debounce = undefined;
        this.trigger();
      }, this.ctx.config.allocationDebounceMs);
    });
  }

  /**
   * Stops the loop. Normally the lease is released so a successor takes over at once, in the
   * same epoch; `release: false` forgets it and leaves it to expire, as a crash would (tests,
   * benchmarks): a new term follows, even if this process starts again.
   * The release comes only after every leader write of this process has returned: the lease
   * attempt and election in flight, the running pass, and every duty's background work.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.leaseTimer);
    clearTimeout(this.debounce);
    this.unsubscribe?.();
    await this.settle();
    if (options.release !== false) await this.lease.release();
    else this.lease.abandon();
  }

  /**
   * Milliseconds until something time alone triggers falls due: the earliest offer timeout or
   * decline filter expiry the last round saw, or the earliest duty (health and failover
   * timeouts, autoscaler, gossip), as each duty says.
   */
  nextDueIn(): number {
    const now = this.ctx.now();
    let due = Math.min(this.nextOfferExpiry - now, this.nextFilterExpiry - now);
    for (const d of this.duties) due = Math.min(due, d.dueIn ? (d.dueIn() ?? Infinity) : DUTY_FALLBACK_MS);
    return Math.max(0, due);
  }

  /** Resolves once no leader work of this loop is in flight (none starts once stopped). */
  async settle(): Promise<void> {
    // A pass can trigger another (an election's first round): loop until all is quiet.
    while (this.leasing || this.running || this.election) {
      await Promise.allSettled([this.leasing, this.running, this.election?.done]);
    }
    await Promise.allSettled(this.duties.map((d) => d.settle?.()));
  }

  /** Runs the duties now (or right after the current run), if leader. */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = this.runOnce().finally(() => {
      this.running = undefined;
      if (this.rerun && !this.stopped) {
        this.rerun = false;
        this.trigger();
      }
    });
  }

  /** One pass of the leader's work; a no-op when not leader. Exposed for tick.ts and tests. */
  async runOnce(): Promise<void> {
    const epoch = this.lease.epoch;
    if (epoch === undefined) return;
    try {
      await this.checkElection();
      for (const duty of this.duties) await duty(this.ctx, epoch);
      if (this.ctx.now() >= this.nextOfferExpiry) await expireOffers(this.ctx, epoch);
      const started = performance.now();
      const stats = await runAllocationRound(this.ctx, epoch, this.ctx.registry.store.consistentIndexes ? undefined : this.recentOffers);
      this.ctx.metrics.allocationRoundDone((performance.now() - started) / 1000);
      this.stats.rounds++;
      this.stats.offers += stats.offers;
      this.nextOfferExpiry = stats.nextOfferExpiry;
      this.nextFilterExpiry = stats.nextFilterExpiry;
      this.lastRoundAgentWrites = stats.agentWrites;
    } catch (e) {
      if (e instanceof FencedError) {
        this.ctx.log.warn('lost leadership during a round', { epoch });
        return;
      }
      this.stats.errors++;
      this.ctx.log.error('leader duty failed', { error: e, epoch });
    }
  }

  /**
   * The first time this process runs as leader of an epoch: the election duties, then the old
   * epoch's offers voided. Only once all succeed is the epoch taken as begun (a failure is
   * retried at the next lease renewal or round, and no round allocates before then).
   */
  private checkElection(): Promise<void> {
    const epoch = this.lease.epoch;
    if (epoch === undefined || epoch === this.electedEpoch) return Promise.resolve();
    if (this.election?.epoch === epoch) return this.election.done;
    if (this.announcedEpoch !== epoch) {
      this.announcedEpoch = epoch;
      this.stats.elections++;
      this.ctx.log.info('elected leader', { epoch, holder: this.lease.holderId });
    }
    const done = (async () => {
      for (const duty of this.options.onElected ?? []) await duty(this.ctx, epoch);
      await expireOffers(this.ctx, epoch); // offers of the previous epoch are void
      this.electedEpoch = epoch;
      this.nextOfferExpiry = -Infinity;
      this.trigger();
    })().finally(() => {
      if (this.election?.epoch === epoch) this.election = undefined;
    });
    this.election = { epoch, done };
    return done;
  }
}
