import { randomUUID } from 'node:crypto';
import { ConflictError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { isResourceShortfall, type TaskAssignmentFailure, type VMTaskFitnessCalculator } from '../fenzo/index.js';
import type { Registry } from '../state/registry.js';
import { SchedulerDriver, type Credentials, type DriverLogger, type Offer, type TaskRef, type TaskStatus } from '../sdk/index.js';
import { registryAgents, type AgentSource, type ClusterAgent } from './agents.js';
import { JobsApi } from './api.js';
import { applyStatus, DEFAULT_INSTANCE_BACKOFF, type InstanceBackoff } from './lifecycle.js';
import { clean, hasLiveTask, type InstanceDoc, type JobDoc, type JobStatusDoc, type KillCause } from './model.js';
import { place, ZONE_ATTRIBUTE, type PendingInstance, type PlacedInstance } from './placement.js';
import { eligibleZones, planRebalance } from './rebalance.js';
import { rolloutStep } from './rollout.js';
import { chooseScaleDownVictims } from './scale.js';
import { JobsStore, type Expectation, type Versioned } from './store.js';
import { buildTaskInfo } from './task-info.js';
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

export interface JobsTiming {
  /** How often a step runs without any event (backoffs expiring, kill retries). */
  readonly tickMs: number;
  /** Job intents are re-read from the Registry this often (changes made by other processes). */
  readonly refreshMs: number;
  readonly agentRefreshMs: number;
  /** A step follows an event or API change after this quiet time. */
  readonly debounceMs: number;
  readonly backoff: InstanceBackoff;
  /** A task not RUNNING this long after launch is killed and replaced (Marathon's task_launch_timeout). */
  readonly launchTimeoutMs: number;
  /** A KILL with no answer is sent again after this. */
  readonly killRetryMs: number;
  /** Offers left unused while instances wait (they may fit after the next change). */
  readonly declineRefuseSeconds: number;
  /** Offers declined with nothing to launch (the framework also suppresses). */
  readonly idleRefuseSeconds: number;
  /** What an ACCEPT leaves of its offers. */
  readonly acceptRefuseSeconds: number;
  /** With no offers, a pass still runs this often to keep pending reasons current. */
  readonly reasonsRefreshMs: number;
}

export const DEFAULT_JOBS_TIMING: JobsTiming = {
  tickMs: 1_000,
  refreshMs: 2_000,
  agentRefreshMs: 5_000,
  debounceMs: 20,
  backoff: DEFAULT_INSTANCE_BACKOFF,
  launchTimeoutMs: 300_000,
  killRetryMs: 10_000,
  declineRefuseSeconds: 5,
  idleRefuseSeconds: 30,
  acceptRefuseSeconds: 1,
  reasonsRefreshMs: 5_000,
};

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

interface Slot {
  doc: InstanceDoc;
  version: Expectation;
}

interface JobEntry {
  readonly name: string;
  doc: JobDoc;
  version: number;
  status: Versioned<JobStatusDoc> | undefined;
  readonly slots: Map<number, Slot>;
}

const LIVE_STATES = new Set(['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE']);
/** Updates that say the agent itself is gone or cut off: its zone stops counting at once. */
const AGENT_LOST = new Set(['TASK_UNREACHABLE', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR']);

function slotKey(job: string, index: number): string {
  return `${job}/${index}`;
}

function newTaskId(job: string, index: number): string {
  return `${job}.${index}.${randomUUID().slice(0, 8)}`;
}

export class JobsFramework {
  readonly store: JobsStore;
  readonly api: JobsApi;
  private readonly timing: JobsTiming;
  private readonly log: DriverLogger;
  private readonly now: () => number;
  private readonly agentSource: AgentSource;
  private driverValue: SchedulerDriver | undefined;
  private storedFrameworkId: string | undefined;
  private frameworkIdVersion: Expectation = 'absent';
  private readonly jobs = new Map<string, JobEntry>();
  private readonly byTask = new Map<string, { job: string; index: number }>();
  private readonly offers = new Map<string, Offer>();
  private agents = new Map<string, ClusterAgent>();
  private readonly killSent = new Map<string, number>();
  private readonly latestFailures = new Map<string, TaskAssignmentFailure>();
  private lastLaunchable = new Set<string>();
  private suppressed: boolean | undefined;
  private declinedSinceRevive = false;
  private nextRefresh = 0;
  private nextAgentRefresh = 0;
  private lastPassAt = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private ticker: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private stopped = false;
  private standDownReason: string | undefined;
  /** Steps run, for tests and metrics. */
  readonly stats = { steps: 0, passes: 0, launched: 0, declined: 0, revives: 0, suppresses: 0 };

  constructor(private readonly options: JobsFrameworkOptions) {
    this.timing = { ...DEFAULT_JOBS_TIMING, ...options.timing, backoff: { ...DEFAULT_JOBS_TIMING.backoff, ...options.timing?.backoff } };
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.store = new JobsStore(options.registry, (what, error) => this.log.error('unreadable jobs document skipped', { what, error }));
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
    for (const job of this.jobs.values()) {
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
      reconcileTasks: () => this.liveTasks(),
      reconcile: { backoff: { initialMs: Math.min(1000, this.timing.tickMs * 2), maxMs: 30_000, jitter: 0 } },
      reconnectBackoff: { initialMs: Math.min(500, this.timing.tickMs), maxMs: 15_000 },
      log: this.log,
    });
    driver.on('subscribed', (info) => this.exclusive(() => this.onSubscribed(info.frameworkId)));
    driver.on('offers', (offers) => {
      for (const o of offers) this.offers.set(o.id, o);
      this.wake();
    });
    driver.on('rescind', (id) => void this.offers.delete(id));
    driver.on('update', (status) => this.exclusive(() => this.onUpdate(status)));
    driver.on('failure', (f) => {
      if (f.agentId !== undefined && f.executorId === undefined) this.agentLost(f.agentId);
    });
    driver.on('reconciled', (r) => this.log.info('reconciled', { answered: r.statuses.size, unanswered: r.unanswered.length }));
    driver.on('error', (e) => this.exclusive(() => this.onDriverStopped(e.message)));
    this.driverValue = driver;
    driver.start();
  }

  private liveTasks(): TaskRef[] {
    const out: TaskRef[] = [];
    for (const job of this.jobs.values()) {
      for (const s of job.slots.values()) {
        if (hasLiveTask(s.doc)) out.push({ taskId: s.doc.taskId!, ...(s.doc.agentId ? { agentId: s.doc.agentId } : {}) });
      }
    }
    return out;
  }

  // ---- state ----

  private async load(): Promise<void> {
    const stored = await this.store.getFrameworkId();
    this.storedFrameworkId = stored?.frameworkId;
    this.frameworkIdVersion = stored?.version ?? 'absent';
    for (const [name, job] of await this.store.listJobs()) await this.addJob(name, job);
  }

  private async addJob(name: string, job: Versioned<JobDoc>): Promise<JobEntry> {
    const [status, instances] = await Promise.all([this.store.getStatus(name), this.store.listInstances(name)]);
    const entry: JobEntry = { name, doc: job.doc, version: job.version, status, slots: new Map() };
    for (const i of instances) {
      entry.slots.set(i.doc.index, { doc: i.doc, version: i.version });
      if (hasLiveTask(i.doc)) this.byTask.set(i.doc.taskId!, { job: name, index: i.doc.index });
    }
    this.jobs.set(name, entry);
    return entry;
  }

  private async refreshJobs(): Promise<void> {
    const docs = await this.store.listJobs();
    for (const [name, job] of docs) {
      const entry = this.jobs.get(name);
      if (entry === undefined) await this.addJob(name, job);
      else if (entry.version !== job.version) {
        entry.doc = job.doc;
        entry.version = job.version;
      }
    }
    // A job document removed behind our back: its instances go as if it were deleted.
    for (const entry of this.jobs.values()) if (!docs.has(entry.name) && !entry.doc.deleting) entry.doc = { ...entry.doc, deleting: true };
  }

  private async refreshAgents(): Promise<void> {
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

  /** Writes slot changes of one job (new versions kept); on a conflict the job's slots are re-read. */
  private async writeSlots(job: JobEntry, changes: readonly { index: number; next: InstanceDoc }[], removals: readonly number[] = []): Promise<void> {
    if (changes.length === 0 && removals.length === 0) return;
    const writes = changes.map((c) => ({ doc: clean(c.next), expect: job.slots.get(c.index)?.version ?? ('absent' as const) }));
    const deletes = removals.flatMap((index) => {
      const v = job.slots.get(index)?.version;
      return typeof v === 'number' ? [{ index, version: v }] : [];
    });
    try {
      const versions = await this.store.writeInstances(job.name, writes, deletes);
      changes.forEach((c, k) => job.slots.set(c.index, { doc: writes[k]!.doc, version: versions[k]! }));
      for (const index of removals) job.slots.delete(index);
    } catch (e) {
      if (e instanceof ConflictError) {
        this.log.warn('instance documents changed elsewhere; re-reading', { job: job.name, error: e });
        job.slots.clear();
        for (const i of await this.store.listInstances(job.name)) job.slots.set(i.doc.index, { doc: i.doc, version: i.version });
      }
      throw e;
    }
  }

  // ---- events ----

  private async onSubscribed(frameworkId: string): Promise<void> {
    // The master withdrew the previous subscription's offers; it starts with no suppression known.
    this.offers.clear();
    this.suppressed = undefined;
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
    const ref = this.byTask.get(status.taskId);
    const job = ref ? this.jobs.get(ref.job) : undefined;
    const slot = ref && job ? job.slots.get(ref.index) : undefined;
    if (!ref || !job || !slot || slot.doc.taskId !== status.taskId) {
      await this.killUnknown(status);
      return;
    }
    const t = applyStatus(slot.doc, job.doc.spec, job.doc.specVersion, status, this.now(), this.timing.backoff);
    if (t.next === 'removed') await this.writeSlots(job, [], [ref.index]);
    else await this.writeSlots(job, [{ index: ref.index, next: t.next }]);
    if (t.ended) {
      this.byTask.delete(status.taskId);
      this.killSent.delete(status.taskId);
      this.wake();
    }
  }

  private async onDriverStopped(message: string): Promise<void> {
    if (this.stopped) return;
    if (/removed/i.test(message)) {
      // The master removed the framework (failover timeout, teardown): its tasks are gone. Register anew.
      this.log.error('the master removed the jobs framework; registering again', { reason: message });
      for (const job of this.jobs.values()) {
        const changes = [...job.slots.values()]
          .filter((s) => hasLiveTask(s.doc))
          .map((s) => ({ index: s.doc.index, next: clean({ ...s.doc, state: 'pending' as const, taskId: undefined, agentId: undefined, hostname: undefined, zone: undefined, kill: undefined, move: undefined, updatedAt: this.now() }) }));
        await this.writeSlots(job, changes);
      }
      this.byTask.clear();
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
      await this.refreshJobs();
    }
    if (now >= this.nextAgentRefresh) {
      this.nextAgentRefresh = now + this.timing.agentRefreshMs;
      await this.refreshAgents();
    }
    // Nothing is launched or killed without a live subscription; events will wake us.
    if (!driver.subscribed) return;
    for (const job of [...this.jobs.values()]) {
      try {
        await this.converge(job, now);
      } catch (e) {
        this.log.error('converging a job failed', { job: job.name, error: e });
      }
    }
    const launchable = this.launchable(now);
    await this.schedule(launchable, now);
    await this.adjustOfferInterest(launchable);
  }

  private slotsOf(job: JobEntry): InstanceDoc[] {
    return [...job.slots.values()].map((s) => s.doc).sort((a, b) => a.index - b.index);
  }

  /** Marks the slot's task to be killed for `cause` and sends the KILL. */
  private async kill(job: JobEntry, doc: InstanceDoc, cause: KillCause, now: number): Promise<void> {
    if (doc.taskId === undefined) return;
    if (doc.kill === undefined) {
      await this.writeSlots(job, [{ index: doc.index, next: { ...doc, kill: cause, state: 'killing', ...(cause === 'scale' ? { remove: true } : {}), updatedAt: now } }]);
    }
    await this.sendKill(job, doc.taskId, doc.agentId, now);
  }

  private async sendKill(job: JobEntry, taskId: string, agentId: string | undefined, now: number): Promise<void> {
    this.killSent.set(taskId, now);
    const grace = job.doc.spec.killGraceSeconds;
    await this.driverValue?.kill(taskId, agentId, grace !== undefined ? grace * 1000 : undefined).catch((e: unknown) => this.log.warn('kill failed; will retry', { error: e, taskId }));
  }

  /** Moves one job towards its spec: delete, scale, pending specs, rebalance, rolling update, timeouts. */
  private async converge(job: JobEntry, now: number): Promise<void> {
    const spec = job.doc.spec;
    if (job.doc.deleting) {
      const removals: number[] = [];
      for (const doc of this.slotsOf(job)) {
        if (hasLiveTask(doc)) {
          if (doc.kill !== 'delete') await this.kill(job, { ...doc, kill: undefined }, 'delete', now);
        } else removals.push(doc.index);
      }
      // The kill marker replaced any other cause: the slot goes when its task ends.
      await this.writeSlots(job, [], removals);
      await this.retryKills(job, now);
      if (job.slots.size === 0) {
        try {
          await this.store.deleteJob(job.name, job.version);
          this.jobs.delete(job.name);
          this.log.info('job deleted', { job: job.name });
        } catch (e) {
          if (!(e instanceof ConflictError)) throw e;
          this.nextRefresh = 0; // changed meanwhile (re-read next step)
        }
      }
      return;
    }

    // Slots scaled away whose task is gone (e.g. ended while the framework was away) go now.
    await this.writeSlots(job, [], this.slotsOf(job).filter((d) => d.remove === true && !hasLiveTask(d)).map((d) => d.index));

    // Scale: add slots, or remove the surplus (the ones not serving first, then by crowded zone).
    const active = this.slotsOf(job).filter((d) => d.remove !== true);
    if (active.length < spec.instances) {
      let next = Math.max(-1, ...[...job.slots.keys()]) + 1;
      const created = Array.from({ length: spec.instances - active.length }, () => ({
        index: next,
        next: { index: next++, state: 'pending' as const, specVersion: job.doc.specVersion, launches: 0, failures: 0, updatedAt: now },
      }));
      await this.writeSlots(job, created);
    } else if (active.length > spec.instances) {
      const victims = chooseScaleDownVictims(active, active.length - spec.instances);
      const removals: number[] = [];
      for (const v of victims) {
        if (hasLiveTask(v)) await this.kill(job, v, 'scale', now);
        else removals.push(v.index);
      }
      await this.writeSlots(job, [], removals);
    }

    // Slots waiting for a task take the current spec.
    const refreshed = this.slotsOf(job)
      .filter((d) => d.state === 'pending' && d.specVersion < job.doc.specVersion)
      .map((d) => ({ index: d.index, next: { ...d, specVersion: job.doc.specVersion, updatedAt: now } }));
    await this.writeSlots(job, refreshed);

    // A new rebalance request: mark the surplus of crowded zones to move.
    const handled = job.status?.doc.rebalanceHandled ?? 0;
    if (job.doc.rebalanceRequests > handled) {
      const plan = planRebalance(this.slotsOf(job), eligibleZones(spec, [...this.agents.values()]));
      await this.writeSlots(
        job,
        plan.victims.map((index) => ({ index, next: { ...job.slots.get(index)!.doc, move: true, updatedAt: now } })),
      );
      const status: JobStatusDoc = { rebalanceHandled: job.doc.rebalanceRequests, lastRebalance: { at: now, moves: plan.moves } };
      const version = await this.store.putStatus(job.name, status, job.status?.version ?? 'absent');
      job.status = { doc: status, version };
      this.log.info('rebalancing', { job: job.name, moves: plan.moves, targets: plan.targets });
    }

    // Rolling update and moves, within maxUnavailable.
    const step = rolloutStep(this.slotsOf(job), spec, job.doc.specVersion);
    for (const k of step.kill) {
      const doc = job.slots.get(k.index)?.doc;
      if (doc) await this.kill(job, doc, k.cause, now);
    }

    // A launch that never got going: replace it (counted as a failure).
    for (const doc of this.slotsOf(job)) {
      if (doc.taskId === undefined || doc.kill !== undefined || doc.state === 'running' || doc.launchedAt === undefined) continue;
      if (now - doc.launchedAt >= this.timing.launchTimeoutMs) {
        this.log.warn('task did not start in time; replacing it', { job: job.name, taskId: doc.taskId, state: doc.state });
        await this.kill(job, doc, 'timeout', now);
      }
    }
    await this.retryKills(job, now);
  }

  /** Kills can be lost (the master or an agent restarting, or this framework): ask again. */
  private async retryKills(job: JobEntry, now: number): Promise<void> {
    for (const doc of this.slotsOf(job)) {
      if (doc.taskId !== undefined && doc.kill !== undefined && now - (this.killSent.get(doc.taskId) ?? 0) >= this.timing.killRetryMs) {
        await this.sendKill(job, doc.taskId, doc.agentId, now);
      }
    }
  }

  /** Slots that need a task now: pending and not backing off. */
  private launchable(now: number): { job: JobEntry; doc: InstanceDoc }[] {
    const out: { job: JobEntry; doc: InstanceDoc }[] = [];
    for (const job of [...this.jobs.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (job.doc.deleting) continue;
      for (const doc of this.slotsOf(job)) {
        if (doc.state === 'pending' && doc.remove !== true && (doc.backoffUntil ?? 0) <= now) out.push({ job, doc });
      }
    }
    return out;
  }

  private placed(): PlacedInstance[] {
    const out: PlacedInstance[] = [];
    for (const job of this.jobs.values()) {
      for (const doc of job.slots.values()) {
        if (hasLiveTask(doc.doc) && doc.doc.hostname !== undefined) out.push({ taskId: doc.doc.taskId!, spec: job.doc.spec, hostname: doc.doc.hostname });
      }
    }
    return out;
  }

  /** One Fenzo pass: launch what fits, record why the rest does not, decline what is left. */
  private async schedule(launchable: readonly { job: JobEntry; doc: InstanceDoc }[], now: number): Promise<void> {
    const driver = this.driverValue!;
    if (launchable.length === 0) {
      if (this.offers.size > 0) await this.declineAll(this.timing.idleRefuseSeconds);
      return;
    }
    const haveOffers = this.offers.size > 0;
    // Without offers a pass only refreshes the reasons (every host busy or none at all).
    if (!haveOffers && now - this.lastPassAt < this.timing.reasonsRefreshMs) return;
    this.lastPassAt = now;
    this.stats.passes++;
    const pending: PendingInstance[] = launchable.map(({ job, doc }) => ({ key: slotKey(job.name, doc.index), spec: job.doc.spec }));
    const bySlot = new Map(launchable.map((l) => [slotKey(l.job.name, l.doc.index), l]));
    const reachable = new Map([...this.agents].filter(([, a]) => a.reachable));
    // Offers arriving while this pass awaits wait for the next pass (they woke it already).
    const considered = [...this.offers.values()];
    const { result, leases } = place({
      pending,
      offers: considered,
      placed: this.placed(),
      agents: reachable,
      ...(this.options.fitness ? { fitness: this.options.fitness } : {}),
    });

    // Record every launch before sending it: a framework that dies in between reconciles it.
    for (const host of result.hosts) {
      const lease = leases.get(host.agentId)!;
      const perJob = new Map<JobEntry, { index: number; next: InstanceDoc }[]>();
      const tasks = host.tasks.map((a) => {
        const { job, doc } = bySlot.get(a.taskId)!;
        const taskId = newTaskId(job.name, doc.index);
        const zone = lease.attributes[ZONE_ATTRIBUTE];
        const next: InstanceDoc = clean({
          ...doc,
          state: 'launching' as const,
          taskId,
          agentId: host.agentId,
          hostname: host.hostname,
          zone,
          taskState: undefined,
          healthy: undefined,
          runningSince: undefined,
          backoffUntil: undefined,
          pending: undefined,
          launches: doc.launches + 1,
          launchedAt: now,
          updatedAt: now,
        });
        const list = perJob.get(job) ?? [];
        list.push({ index: doc.index, next });
        perJob.set(job, list);
        return { job, index: doc.index, taskId, info: buildTaskInfo(job.doc.spec, doc.index, { taskId, agentId: host.agentId, hostname: host.hostname, resources: a.resources, ...(lease.role !== undefined ? { role: lease.role } : {}) }) };
      });
      for (const id of lease.offerIds) this.offers.delete(id);
      try {
        for (const [job, changes] of perJob) await this.writeSlots(job, changes);
      } catch (e) {
        this.log.error('recording launches failed; offers declined', { error: e });
        await driver.decline(lease.offerIds, { refuse_seconds: 0 }).catch(() => undefined);
        continue;
      }
      for (const t of tasks) this.byTask.set(t.taskId, { job: t.job.name, index: t.index });
      try {
        await driver.launch(lease.offerIds, tasks.map((t) => t.info), { refuse_seconds: this.timing.acceptRefuseSeconds });
        this.stats.launched += tasks.length;
        this.log.info('launched', { agentId: host.agentId, hostname: host.hostname, tasks: tasks.map((t) => t.taskId) });
      } catch (e) {
        // Unknown whether the master took it: reconciliation says (UNKNOWN → the slot relaunches).
        this.log.warn('launch call failed; reconciling its tasks', { error: e });
        void driver.reconcileTasks(tasks.map((t) => ({ taskId: t.taskId, agentId: host.agentId }))).catch(() => undefined);
      }
    }

    // Why the others were not placed; persisted when the explanation changes.
    this.latestFailures.clear();
    const reasonChanges = new Map<JobEntry, { index: number; next: InstanceDoc }[]>();
    for (const f of result.failures) {
      this.latestFailures.set(f.taskId, f);
      const { job, doc } = bySlot.get(f.taskId)!;
      // A pass without offers only fills in instances no pass with offers has explained lately.
      if (!haveOffers && doc.pending !== undefined && now - doc.pending.at < this.timing.reasonsRefreshMs * 2) continue;
      // The same explanation is still rewritten now and then: its `at` tells the autoscaler the
      // shortfall was checked against the current hosts, not just once long ago.
      if (doc.pending?.message === f.message && now - doc.pending.at < this.timing.reasonsRefreshMs) continue;
      const list = reasonChanges.get(job) ?? [];
      list.push({ index: doc.index, next: { ...doc, pending: { message: f.message, reasons: f.reasons, shortfall: isResourceShortfall(f), at: now }, updatedAt: now } });
      reasonChanges.set(job, list);
    }
    for (const [job, changes] of reasonChanges) await this.writeSlots(job, changes);

    // What no assignment used (and offers of a second role on one agent) goes back.
    await this.declineAll(this.timing.declineRefuseSeconds, considered.map((o) => o.id));
  }

  private async declineAll(refuseSeconds: number, among?: readonly string[]): Promise<void> {
    const ids = (among ?? [...this.offers.keys()]).filter((id) => this.offers.has(id));
    for (const id of ids) this.offers.delete(id);
    if (ids.length === 0) return;
    this.stats.declined += ids.length;
    this.declinedSinceRevive = true;
    await this.driverValue?.decline(ids, { refuse_seconds: refuseSeconds }).catch((e: unknown) => this.log.warn('decline failed', { error: e }));
  }

  /** SUPPRESS when nothing waits; REVIVE when something does (again when new instances wait after a decline). */
  private async adjustOfferInterest(launchable: readonly { job: JobEntry; doc: InstanceDoc }[]): Promise<void> {
    const driver = this.driverValue!;
    const keys = new Set(launchable.map((l) => slotKey(l.job.name, l.doc.index)));
    const fresh = [...keys].some((k) => !this.lastLaunchable.has(k));
    this.lastLaunchable = keys;
    try {
      if (keys.size > 0) {
        if (this.suppressed !== false || (fresh && this.declinedSinceRevive)) {
          await driver.revive();
          // Offers are on their way: no pass without offers until they had time to come.
          this.lastPassAt = this.now();
          this.stats.revives++;
          this.suppressed = false;
          this.declinedSinceRevive = false;
        }
      } else if (this.suppressed !== true) {
        await driver.suppress();
        this.stats.suppresses++;
        this.suppressed = true;
      }
    } catch (e) {
      this.suppressed = undefined;
      this.log.warn('revive/suppress failed', { error: e });
    }
  }
}
