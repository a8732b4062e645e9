import { randomUUID } from 'node:crypto';
import { ConflictError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import type { TaskAssignmentFailure, VMTaskFitnessCalculator } from '../fenzo/index.js';
import type { Registry } from '../state/registry.js';
import { SchedulerDriver, type Credentials, type DriverLogger, type TaskStatus } from '../sdk/index.js';
import { registryAgents, type AgentSource, type ClusterAgent } from './agents.js';
import { JobsApi } from './api.js';
import { planConverge, type JobPlan } from './converge.js';
import { JobsState, type JobEntry } from './jobs-state.js';
import { planLaunches, type HostLaunch, type LaunchPlan, type SlotChange } from './launch-plan.js';
import { applyStatus } from './lifecycle.js';
import { clean, hasLiveTask } from './model.js';
import { HeldOffers } from './offers.js';
import { JobsStore, type Expectation } from './store.js';
import { jobsTiming, type JobsTiming } from './timing.js';
import { pendingTask, type PendingTask } from './views.js';

// The built-in jobs framework (Marathon/Titus-like): a Mesos framework through the SDK's driver
// that keeps services at N instances spread over zones, runs batch jobs to completion, and
// places with Fenzo. Its state lives in the Registry (jobs, instance slots, its framework id),
// so a restarted framework resubscribes as itself and reconciles instead of starting over.
//
// All work happens in bounded steps under one lock: an event (persisted before it is
// acknowledged), or a `step()` that converges each job towards its spec (scale, rolling
// update, rebalance, delete), runs one Fenzo pass over the offers held, and says whether it
// wants offers (REVIVE/SUPPRESS). The same step can run from a timer here or from a tick.
// What a step does is decided by pure planners (converge.ts per job, launch-plan.ts for the
// pass); this class stores their plans in the Registry and then acts on them through the driver.

export interface JobsFrameworkOptions {
  /** The master's URL. */
  readonly master: string | URL;
  /** The region's Registry: the framework keeps its jobs, instances and framework id there. */
  readonly registry: Registry;
  /** Default 'stratus-jobs'. */
  readonly frameworkName?: string;
  /** Default '*'. */
  readonly role?: string;
  readonly user?: string;
  readonly credentials?: Credentials;
  readonly eventMode?: 'stream' | 'poll';
  /** How long the master keeps the tasks while the framework is away (default 7 days). */
  readonly failoverTimeoutSeconds?: number;
  readonly timing?: Partial<JobsTiming>;
  /** Where agents are learnt (default: the Registry's agents). */
  readonly agents?: AgentSource;
  /** Fenzo's fitness calculator (default CPU+memory bin packing). */
  readonly fitness?: VMTaskFitnessCalculator;
  readonly log?: DriverLogger;
  readonly now?: () => number;
}

const LIVE_STATES = new Set(['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE']);
/** Updates that say the agent itself is gone or cut off: its zone stops counting at once. */
const AGENT_LOST = new Set(['TASK_UNREACHABLE', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR']);

function newTaskId(job: string, index: number): string {
  return `${job}.${index}.${randomUUID().slice(0, 8)}`;
}

/** Changes grouped per job, in the order the jobs first appear. */
function perJob<T extends { readonly job: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const list = out.get(item.job);
    if (list) list.push(item);
    else out.set(item.job, [item]);
  }
  return out;
}

export class JobsFramework {
  readonly store: JobsStore;
  readonly api: JobsApi;
  private readonly timing: JobsTiming;
  private readonly log: DriverLogger;
  private readonly now: () => number;
  private readonly agentSource: AgentSource;
  private readonly state: JobsState;
  private readonly offers: HeldOffers;
  private driverValue: SchedulerDriver | undefined;
  private storedFrameworkId: string | undefined;
  private frameworkIdVersion: Expectation = 'absent';
  private agents = new Map<string, ClusterAgent>();
  private readonly killSent = new Map<string, number>();
  private latestFailures: ReadonlyMap<string, TaskAssignmentFailure> = new Map();
  private nextRefresh = 0;
  private nextAgentRefresh = 0;
  private lastPassAt = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private ticker: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private stopped = false;
  private standDownReason: string | undefined;
  /** Steps run, for tests and metrics. */
  readonly stats = { steps: 0, passes: 0, launched: 0, declined: 0, revives: 0, suppresses: 0, agentListings: 0 };

  constructor(private readonly options: JobsFrameworkOptions) {
    this.timing = jobsTiming(options.timing);
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.store = new JobsStore(options.registry, (what, error) => this.log.error('unreadable jobs document skipped', { what, error }));
    this.state = new JobsState(this.store, this.log);
    this.offers = new HeldOffers(() => this.driverValue, this.stats, this.log);
    this.agentSource = options.agents ?? registryAgents(options.registry);
    this.api = new JobsApi({
      store: this.store,
      agents: this.agentSource,
      onChange: () => {
        this.nextRefresh = 0;
        this.wake();
      },
      now: this.now,
    });
  }

  /** The scheduler driver (after start). */
  get driver(): SchedulerDriver | undefined {
    return this.driverValue;
  }

  get frameworkId(): string | undefined {
    return this.driverValue?.frameworkId ?? this.storedFrameworkId;
  }

  /** Set when another jobs framework took over this framework id: this one no longer acts. */
  get standingDown(): string | undefined {
    return this.standDownReason;
  }

  /** Loads the state from the Registry, subscribes (as the stored framework id if any) and starts stepping. */
  async start(): Promise<this> {
    await this.exclusive(() => this.load());
    this.startDriver();
    this.ticker = setInterval(() => this.wake(), this.timing.tickMs);
    this.wake();
    return this;
  }

  /** Stops stepping and closes the connection. Tasks keep running; a new framework resubscribes to them. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.ticker);
    clearTimeout(this.debounce);
    await this.driverValue?.stop();
    await this.chain.catch(() => undefined);
  }

  /** Runs one step now (after any running one). For ticks and tests. */
  step(): Promise<void> {
    return this.exclusive(() => this.stepOnce());
  }

  /** Instances waiting for placement, with Fenzo's reasons from the latest pass (for the autoscaler). */
  pendingTasks(): PendingTask[] {
    const out: PendingTask[] = [];
    for (const job of this.state.jobs.values()) {
      if (job.doc.deleting) continue;
      for (const slot of job.slots.values()) {
        if (slot.doc.state === 'pending' && slot.doc.remove !== true) out.push(pendingTask(job.doc.spec, slot.doc));
      }
    }
    return out;
  }

  /** The raw Fenzo failures of the latest pass, by `<job>/<index>`. */
  latestPlacementFailures(): ReadonlyMap<string, TaskAssignmentFailure> {
    return this.latestFailures;
  }

  // ---- plumbing ----

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Schedules a step soon (coalescing bursts of events). */
  wake(): void {
    if (this.stopped || this.debounce !== undefined) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.step().catch((e: unknown) => this.log.error('jobs step failed', { error: e }));
    }, this.timing.debounceMs);
  }

  private startDriver(): void {
    const frameworkId = this.storedFrameworkId;
    const driver = new SchedulerDriver({
      master: this.options.master,
      framework: {
        name: this.options.frameworkName ?? 'stratus-jobs',
        ...(this.options.user !== undefined ? { user: this.options.user } : {}),
        roles: [this.options.role ?? '*'],
        failoverTimeoutSeconds: this.options.failoverTimeoutSeconds ?? 7 * 24 * 3600,
        checkpoint: true,
      },
      ...(frameworkId !== undefined ? { frameworkId } : {}),
      ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
      ...(this.options.eventMode ? { eventMode: this.options.eventMode } : {}),
      reconcileTasks: () => this.state.liveTasks(),
      reconcile: { backoff: { initialMs: Math.min(1000, this.timing.tickMs * 2), maxMs: 30_000, jitter: 0 } },
      reconnectBackoff: { initialMs: Math.min(500, this.timing.tickMs), maxMs: 15_000 },
      log: this.log,
    });
    driver.on('subscribed', (info) => this.exclusive(() => this.onSubscribed(info.frameworkId)));
    driver.on('offers', (offers) => {
      this.offers.add(offers);
      // An offer from an agent the framework has not listed, or listed as lost: list again before
      // placing or rebalancing, or zone spread would balance over the zones of a stale list (an
      // agent that just registered, a zone that just came back).
      if (offers.some((o) => this.agents.get(o.agentId)?.reachable !== true)) this.nextAgentRefresh = 0;
      this.wake();
    });
    driver.on('rescind', (id) => this.offers.remove([id]));
    driver.on('update', (status) => this.exclusive(() => this.onUpdate(status)));
    driver.on('failure', (f) => {
      if (f.agentId !== undefined && f.executorId === undefined) this.agentLost(f.agentId);
    });
    driver.on('reconciled', (r) => this.log.info('reconciled', { answered: r.statuses.size, unanswered: r.unanswered.length }));
    driver.on('error', (e) => this.exclusive(() => this.onDriverStopped(e.message)));
    this.driverValue = driver;
    driver.start();
  }

  // ---- state ----

  private async load(): Promise<void> {
    const stored = await this.store.getFrameworkId();
    this.storedFrameworkId = stored?.frameworkId;
    this.frameworkIdVersion = stored?.version ?? 'absent';
    await this.state.load();
  }

  private async refreshAgents(): Promise<void> {
    this.stats.agentListings++;
    try {
      this.agents = new Map((await this.agentSource()).map((a) => [a.agentId, a]));
    } catch (e) {
      this.log.warn('listing agents failed', { error: e });
    }
  }

  private agentLost(agentId: string): void {
    const a = this.agents.get(agentId);
    if (a) this.agents.set(agentId, { ...a, reachable: false });
    this.nextAgentRefresh = 0;
    this.wake();
  }

  // ---- events ----

  private async onSubscribed(frameworkId: string): Promise<void> {
    this.offers.reset();
    if (this.storedFrameworkId !== frameworkId) {
      try {
        this.frameworkIdVersion = await this.store.putFrameworkId(frameworkId, this.frameworkIdVersion);
        this.storedFrameworkId = frameworkId;
      } catch (e) {
        this.log.error('storing the framework id failed', { error: e, frameworkId });
      }
    }
    this.wake();
  }

  private async killUnknown(status: TaskStatus): Promise<void> {
    if (!LIVE_STATES.has(status.state) || status.state === 'TASK_UNREACHABLE') return;
    this.log.info('killing a task no instance owns', { taskId: status.taskId, state: status.state });
    await this.driverValue?.kill(status.taskId, status.agentId).catch((e: unknown) => this.log.warn('kill failed', { error: e, taskId: status.taskId }));
  }

  private async onUpdate(status: TaskStatus): Promise<void> {
    if (AGENT_LOST.has(status.state) && status.agentId) this.agentLost(status.agentId);
    const owner = this.state.owner(status.taskId);
    if (owner === undefined) {
      await this.killUnknown(status);
      return;
    }
    const { job, index, slot } = owner;
    const t = applyStatus(slot.doc, job.doc.spec, job.doc.specVersion, status, this.now(), this.timing.backoff);
    if (t.next === 'removed') await this.state.writeSlots(job, [], [index]);
    else await this.state.writeSlots(job, [t.next]);
    if (t.ended) {
      this.state.untrack(status.taskId);
      this.killSent.delete(status.taskId);
      this.wake();
    }
  }

  private async onDriverStopped(message: string): Promise<void> {
    if (this.stopped) return;
    if (/removed/i.test(message)) {
      // The master removed the framework (failover timeout, teardown): its tasks are gone. Register anew.
      this.log.error('the master removed the jobs framework; registering again', { reason: message });
      for (const job of this.state.jobs.values()) {
        const changes = this.state
          .instances(job)
          .filter(hasLiveTask)
          .map((doc) => clean({ ...doc, state: 'pending' as const, taskId: undefined, agentId: undefined, hostname: undefined, zone: undefined, kill: undefined, move: undefined, updatedAt: this.now() }));
        await this.state.writeSlots(job, changes);
      }
      this.state.untrackAll();
      try {
        this.frameworkIdVersion = await this.store.putFrameworkId(undefined, this.frameworkIdVersion);
      } catch (e) {
        this.log.warn('clearing the framework id failed', { error: e });
      }
      this.storedFrameworkId = undefined;
      this.startDriver();
      return;
    }
    // Another jobs framework subscribed with our id: it is in charge now.
    this.standDownReason = message;
    this.log.error('jobs framework standing down', { reason: message });
    clearInterval(this.ticker);
  }

  // ---- the step ----

  private async stepOnce(): Promise<void> {
    const driver = this.driverValue;
    if (this.stopped || this.standDownReason !== undefined || driver === undefined) return;
    this.stats.steps++;
    const now = this.now();
    if (now >= this.nextRefresh) {
      this.nextRefresh = now + this.timing.refreshMs;
      await this.state.refreshJobs();
    }
    // A rebalance spreads over the zones of the agents listed: it is planned on a fresh list (it is rare).
    const rebalancing = [...this.state.jobs.values()].some((j) => j.doc.rebalanceRequests > (j.status?.doc.rebalanceHandled ?? 0));
    if (now >= this.nextAgentRefresh || rebalancing) {
      this.nextAgentRefresh = now + this.timing.agentRefreshMs;
      await this.refreshAgents();
    }
    // Nothing is launched or killed without a live subscription; events will wake us.
    if (!driver.subscribed) return;
    for (const job of [...this.state.jobs.values()]) {
      try {
        await this.converge(job, now);
      } catch (e) {
        this.log.error('converging a job failed', { job: job.name, error: e });
      }
    }
    const plan = planLaunches({
      jobs: [...this.state.jobs.values()].map((job) => ({ name: job.name, job: job.doc, instances: this.state.instances(job) })),
      offers: this.offers.list(),
      agents: this.agents,
      ...(this.options.fitness ? { fitness: this.options.fitness } : {}),
      now,
      lastPassAt: this.lastPassAt,
      reasonsRefreshMs: this.timing.reasonsRefreshMs,
      newTaskId,
    });
    await this.schedule(plan, now);
    if ((await this.offers.adjustInterest(plan.launchable)) === 'revive') {
      // Offers are on their way: no pass without offers until they had time to come.
      this.lastPassAt = this.now();
    }
  }

  /** Moves one job towards its spec: stores what its plan changes, then sends its KILLs. */
  private async converge(job: JobEntry, now: number): Promise<void> {
    const plan = planConverge({
      job: job.doc,
      status: job.status?.doc,
      instances: this.state.instances(job),
      agents: [...this.agents.values()],
      killSent: this.killSent,
      now,
      launchTimeoutMs: this.timing.launchTimeoutMs,
      killRetryMs: this.timing.killRetryMs,
    });
    for (const k of plan.kills) {
      if (k.cause === 'timeout' && !k.retry) this.log.warn('task did not start in time; replacing it', { job: job.name, taskId: k.taskId, state: job.slots.get(k.index)?.doc.state });
    }
    await this.state.writeSlots(job, plan.writes, plan.removals);
    if (plan.rebalance) await this.recordRebalance(job, plan.rebalance);
    for (const k of plan.kills) await this.sendKill(job, k.taskId, k.agentId, now);
    if (plan.deleteJob) {
      try {
        await this.store.deleteJob(job.name, job.version);
        this.state.jobs.delete(job.name);
        this.log.info('job deleted', { job: job.name });
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
        this.nextRefresh = 0; // changed meanwhile (re-read next step)
      }
    }
  }

  private async recordRebalance(job: JobEntry, rebalance: NonNullable<JobPlan['rebalance']>): Promise<void> {
    const version = await this.store.putStatus(job.name, rebalance.status, job.status?.version ?? 'absent');
    job.status = { doc: rebalance.status, version };
    this.log.info('rebalancing', { job: job.name, moves: rebalance.plan.moves, targets: rebalance.plan.targets });
  }

  private async sendKill(job: JobEntry, taskId: string, agentId: string | undefined, now: number): Promise<void> {
    this.killSent.set(taskId, now);
    const grace = job.doc.spec.killGraceSeconds;
    await this.driverValue?.kill(taskId, agentId, grace !== undefined ? grace * 1000 : undefined).catch((e: unknown) => this.log.warn('kill failed; will retry', { error: e, taskId }));
  }

  /** Carries out one pass: launch what was placed, store why the rest waits, decline what is left. */
  private async schedule(plan: LaunchPlan, now: number): Promise<void> {
    if (plan.kind === 'idle') return this.offers.decline(this.timing.idleRefuseSeconds);
    if (plan.kind === 'wait') return;
    this.lastPassAt = now;
    this.stats.passes++;
    for (const host of plan.launches) await this.launch(host);
    this.latestFailures = plan.failures;
    await this.writeChanges(plan.reasons);
    await this.offers.decline(this.timing.declineRefuseSeconds, plan.decline);
  }

  /** Records every launch before sending it: a framework that dies in between reconciles it. */
  private async launch(host: HostLaunch): Promise<void> {
    const driver = this.driverValue!;
    this.offers.remove(host.offerIds);
    try {
      await this.writeChanges(host.tasks);
    } catch (e) {
      this.log.error('recording launches failed; offers declined', { error: e });
      await driver.decline(host.offerIds, { refuse_seconds: 0 }).catch(() => undefined);
      return;
    }
    for (const t of host.tasks) this.state.track(t.taskId, t.job, t.index);
    try {
      await driver.launch(host.offerIds, host.tasks.map((t) => t.info), { refuse_seconds: this.timing.acceptRefuseSeconds });
      this.stats.launched += host.tasks.length;
      this.log.info('launched', { agentId: host.agentId, hostname: host.hostname, tasks: host.tasks.map((t) => t.taskId) });
    } catch (e) {
      // Unknown whether the master took it: reconciliation says (UNKNOWN → the slot relaunches).
      this.log.warn('launch call failed; reconciling its tasks', { error: e });
      void driver.reconcileTasks(host.tasks.map((t) => ({ taskId: t.taskId, agentId: host.agentId }))).catch(() => undefined);
    }
  }

  /** Stores slot changes of several jobs, one job after the other. */
  private async writeChanges(changes: readonly SlotChange[]): Promise<void> {
    for (const [name, list] of perJob(changes)) {
      const job = this.state.jobs.get(name);
      if (job) await this.state.writeSlots(job, list.map((c) => c.doc));
    }
  }
}
