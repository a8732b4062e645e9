import { ConflictError, FencedError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../core/logger.js';
import type { LeaderDuty } from '../../master-lambda/extension.js';
import type { Registry } from '../../state/registry.js';
import { regionCapacity } from '../gossip/digest-builder.js';
import type { FederatedJobSummary } from '../gossip/digest.js';
import type { LeaderView, RegionGossip } from '../gossip/region-gossip.js';
import { federatedJobsConfig, type FederatedJobsConfig } from './config.js';
import { byName, childrenOf, regionsOf, type ControllerContext, type ControllerStats } from './controller-context.js';
import { FederatedJobStore, type VersionedJob } from './federated-job.js';
import { Follower } from './follower.js';
import type { LocalJobs } from './local-jobs.js';
import { OperatorApi } from './operator-api.js';
import { OwnerReconcile } from './owner-reconcile.js';
import { quorum } from './ownership.js';
import { learnFromPeers } from './peer-learning.js';
import type { RegionJobs } from './region-jobs.js';
import { regionStates, type RoundView } from './round-view.js';
import { JobSummaries } from './summaries.js';
import type { FederatedJobView } from './views.js';

// The federated jobs controller of one region. On the region's leader, every gossip interval:
//   1. it learns from peers' digests: definitions from their owners (kept as replicas) and
//      ownership claims (a higher term wins): peer-learning.ts;
//   2. for each job it owns (with a quorum, after warming up): plans per-region targets and
//      brings each live region's child job to them through that region's jobs API:
//      owner-reconcile.ts;
//   3. for each job it does not own: takes it over when the owner is dead and this region is
//      the successor (then reconciles it as its owner); removes replicas and children of jobs
//      their live owner no longer lists: follower.ts.
// It also gives the gossip the summaries this region's digest carries (summaries.ts), and
// serves the operations behind /api/v1/federation/jobs (operator-api.ts).

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

export class FederatedJobsController {
  readonly region: string;
  readonly config: FederatedJobsConfig;
  readonly store: FederatedJobStore;
  /** Rounds, takeovers and changes sent, for tests and metrics. */
  readonly stats: ControllerStats = { rounds: 0, takeovers: 0, stepDowns: 0, changesSent: 0, changeFailures: 0, adopted: 0, orphansRemoved: 0 };
  private readonly ctx: ControllerContext;
  private readonly owner: OwnerReconcile;
  private readonly follower: Follower;
  private readonly digest: JobSummaries;
  private readonly api: OperatorApi;
  private startedAt: number | undefined;
  private lastRoundAt: number | undefined;
  private startedEpoch: number | undefined;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private wakeLoop: (() => void) | undefined;
  private current: Promise<void> | undefined;

  constructor(private readonly options: FederatedJobsOptions) {
    const gossip = options.gossip;
    this.region = gossip.region;
    this.config = federatedJobsConfig(options.config);
    const log = options.log ?? createLogger('stratus-federated-jobs', undefined, { region: this.region });
    this.store = new FederatedJobStore(options.registry ?? options.jobs.store.registry, (id, error) => log.error('unreadable federated job skipped', { id, error }));
    this.ctx = {
      region: this.region,
      gossip,
      config: this.config,
      get interval() {
        return gossip.config.intervalMs;
      },
      store: this.store,
      jobs: options.jobs,
      log,
      stats: this.stats,
      clock: options.clock ?? (() => performance.now()),
      wallClock: options.wallClock ?? Date.now,
    };
    this.owner = new OwnerReconcile(this.ctx, {
      ...(options.regionJobs ? { regionJobs: options.regionJobs } : {}),
      ...(options.peerHeaders ? { peerHeaders: options.peerHeaders } : {}),
    });
    this.follower = new Follower(this.ctx);
    this.digest = new JobSummaries(this.ctx);
    this.api = new OperatorApi(this.ctx, (id, region) => this.owner.errorOf(id, region), () => this.changed());
  }

  /** Every region of the federation, this one first. */
  get regions(): string[] {
    return regionsOf(this.ctx);
  }

  private get warmupMs(): number {
    return (this.config.warmupIntervals ?? this.ctx.gossip.config.suspectAfterMissed + 1) * this.ctx.interval;
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
          this.timer = setTimeout(resolve, this.ctx.interval);
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
    const now = this.ctx.clock();
    if (this.lastRoundAt !== undefined && now - this.lastRoundAt < this.ctx.interval) return;
    await this.round(epoch);
  };

  /** One round now (after any running one). */
  round(epoch?: number): Promise<void> {
    if (this.current) return this.current;
    this.current = this.runRound(epoch)
      .catch((e: unknown) => {
        if (e instanceof FencedError) this.ctx.log.warn('lost the lease during a federated jobs round', { epoch });
        else this.ctx.log.error('federated jobs round failed', { error: e });
      })
      .finally(() => (this.current = undefined));
    return this.current;
  }

  /** An API change: the next digest reads the definitions afresh, and a round runs soon. */
  private changed(): void {
    this.digest.forget();
    this.wakeLoop?.();
  }

  // ---- the round ----

  private async runRound(epoch: number | undefined): Promise<void> {
    const now = this.ctx.clock();
    this.lastRoundAt = now;
    if (this.startedAt === undefined || epoch !== this.startedEpoch) {
      // A new leader (or a restart) listens before deciding.
      this.startedAt = now;
      this.startedEpoch = epoch;
    }
    this.stats.rounds++;
    const wall = this.ctx.wallClock();
    const [peers, stored, children, agents] = await Promise.all([
      this.ctx.gossip.peerDigests(),
      this.store.list(),
      childrenOf(this.ctx, wall),
      this.ctx.jobs.store.registry.listAgents(),
    ]);
    const warm = now - this.startedAt >= this.warmupMs;
    const regions = regionStates(this.region, this.ctx.gossip.peerNames, peers, regionCapacity(agents), children, warm);
    const alive = [...regions.values()].filter((r) => r.state === 'alive').length;
    const view: RoundView = { self: this.region, now, wall, warm, quorate: alive >= quorum(regions.size), regions, children, reserved: new Map(), epoch };

    await learnFromPeers(this.ctx, view, stored);
    for (const id of [...stored.keys()].sort(byName)) {
      const job = stored.get(id)!;
      try {
        if (job.doc.owner === this.region) {
          if (view.warm && view.quorate) keep(stored, id, await this.owner.reconcile(view, job));
        } else {
          const taken = await this.follower.takeOver(view, job);
          if (taken) keep(stored, id, await this.owner.reconcile(view, taken));
          else await this.follower.cleanUp(view, job, stored);
        }
      } catch (e) {
        if (e instanceof FencedError) throw e;
        if (e instanceof ConflictError) this.ctx.log.info('federated job changed meanwhile; next round', { id });
        else this.ctx.log.error('federated job round failed', { id, error: e });
      }
    }
    await this.follower.removeStrayChildren(view, stored);
    this.digest.remember(stored);
  }

  // ---- what this region's digest says ----

  /** This region's federated job summaries (the gossip's `federatedJobs`): definitions for the jobs it owns. */
  summaries(): Promise<FederatedJobSummary[]> {
    return this.digest.summaries();
  }

  // ---- the API's operations ----

  submit(body: unknown): Promise<FederatedJobView> {
    return this.api.submit(body);
  }

  update(id: string, body: unknown): Promise<FederatedJobView> {
    return this.api.update(id, body);
  }

  remove(id: string): Promise<FederatedJobView> {
    return this.api.remove(id);
  }

  get(id: string): Promise<FederatedJobView> {
    return this.api.get(id);
  }

  list(): Promise<FederatedJobView[]> {
    return this.api.list();
  }
}

/** Records what a reconcile left: the job as stored now, or gone. */
function keep(stored: Map<string, VersionedJob>, id: string, job: VersionedJob | undefined): void {
  if (job) stored.set(id, job);
  else stored.delete(id);
}
