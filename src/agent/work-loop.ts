import { Backoff } from '../core/backoff.js';
import type { AgentId } from '../core/ids.js';
import type { Resources } from '../core/resources.js';
import type { Logger } from '../core/logger.js';
import { sleep } from '../core/sleep.js';
import type { TaskSpec } from '../core/task.js';
import { isTerminal } from '../core/task-state.js';
import type { LaunchWork, StatusUpdate, WorkResponse } from '../wire/agent-api.js';
import type { AgentEvent } from './agent-events.js';
import { refKey, type LaunchRequest, type TaskRef } from './containerizer/containerizer.js';
import type { ContainerizerSet } from './containerizers.js';
import { ReregisterRequired, type MasterChannel } from './master-client.js';
import type { MasterSession } from './master-session.js';
import type { ExecutorManager } from './executor/executor-manager.js';
import type { StatusJournal, TaskKeyed } from './status-journal.js';
import { newStatusUuid, taskRefOf } from './status-update.js';

// The agent's work: long-polls the master for what to do (launches, kills, acknowledgements
// relayed from frameworks, framework messages) and hands it to the containerizers (tasks with a
// custom executor, and framework messages, to the executor manager). The master
// repeats launch and kill work until it sees its effect, so each item is applied once: a
// repeat is recognised and skipped. Each poll confirms the acknowledgements the agent applied.

/** Repeated work (a kill still in its grace period, a launch not yet STARTING) is polled for again after this pause. */
const REPEAT_PAUSE_MS = 250;

/** Over a pushing channel, work is asked for after this long without a nudge (a safety net for a lost nudge). */
export const DEFAULT_WORK_SAFETY_INTERVAL_MS = 600_000;

export interface WorkLoopOptions {
  readonly client: MasterChannel;
  readonly session: MasterSession;
  readonly log: Logger;
  /** Aborted when the agent stops. */
  readonly signal: AbortSignal;
  /** The long-poll's wait_seconds. Default 20. */
  readonly longPollSeconds?: number;
  /**
   * Over a channel that pushes work nudges (the agent socket): ask for work again after this
   * long even without a nudge, a safety net for a nudge lost on the way. Default 10 minutes.
   */
  readonly workSafetyIntervalMs?: number;
  /** Cap of the backoff between failed polls. Default 5 s. */
  readonly reconnectMaxMs?: number;
  readonly agentId: () => AgentId | undefined;
  /** The containerizers (undefined between agent ids). */
  readonly containers: () => ContainerizerSet | undefined;
  readonly journal: () => StatusJournal | undefined;
  /** A framework's acknowledgement of a status update, relayed by the master. */
  readonly acknowledge: (uuid: string) => void;
  /** Some containerizer has not finished recovering: a task may still show up there. */
  readonly recovering: () => boolean;
  /** Reports a status update the agent makes up itself (a kill that overtook its launch). */
  readonly reportUpdate: (update: StatusUpdate) => void;
  readonly emit: (event: AgentEvent) => void;
  /** Custom executors (tasks with an ExecutorInfo go to them, and so do framework messages). */
  readonly executors?: () => ExecutorManager | undefined;
}

export class WorkLoop {
  private done: Promise<void> | undefined;
  /** Launches handed to a containerizer and not yet answered. */
  private readonly launching = new Set<string>();
  /** Tasks a kill was passed on for (the master repeats kill work until the task ends). */
  private readonly killsPassed = new Set<string>();
  /** The work version last applied, and the session it belongs to. */
  private workVersion: number | undefined;
  private workSession: string | undefined;
  /** Acknowledgements applied to the journal, to confirm with the next work poll. */
  private confirmedAcks: { framework_id: string; task_id: string; uuid: string }[] = [];

  /** Pushed nudges (socket channel): the highest version announced, or 'any' after a reconnect. */
  private nudged: number | 'any' | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly o: WorkLoopOptions) {}

  /** The channel pushes work nudges: work is asked for when one comes, not long-polled. */
  private get pushed(): boolean {
    return this.o.client.onWork !== undefined;
  }

  private get stopping(): boolean {
    return this.o.signal.aborted;
  }

  start(): void {
    this.done = this.run();
  }

  /** Resolves once the loop has ended (after the agent's signal is aborted). */
  async stopped(): Promise<void> {
    await this.done;
  }

  /** An acknowledgement applied to the journal: confirmed with the next poll. */
  confirm(ack: TaskKeyed & { readonly uuid: string }): void {
    this.confirmedAcks.push(ack);
    // Without a long-poll in flight, the confirmation goes out now.
    this.wake?.();
  }

  /** The task ended: a later kill of it (a new run under the same id) is passed on again. */
  taskEnded(ref: TaskRef): void {
    this.killsPassed.delete(refKey(ref));
  }

  private async run(): Promise<void> {
    const backoff = new Backoff({ initialMs: 200, maxMs: this.o.reconnectMaxMs ?? 5_000, jitter: 0.2 });
    const wait = this.pushed ? 0 : (this.o.longPollSeconds ?? 20);
    const unsubscribe = this.o.client.onWork?.((version) => {
      if (version === undefined) this.nudged = 'any';
      else if (this.nudged !== 'any') this.nudged = Math.max(this.nudged ?? -1, version);
      this.wake?.();
    });
    try {
      await this.loop(backoff, wait);
    } finally {
      unsubscribe?.();
    }
  }

  private async loop(backoff: Backoff, wait: number): Promise<void> {
    while (!this.stopping) {
      const session = this.o.session.current;
      const id = this.o.agentId();
      if (session === undefined || id === undefined) {
        await this.o.session.register();
        continue;
      }
      const confirmed = this.confirmedAcks.splice(0, 10_000);
      let work: WorkResponse;
      // A new session starts from all its work; then each poll waits for work beyond what it applied.
      if (this.workSession !== session) {
        this.workSession = session;
        this.workVersion = undefined;
      }
      try {
        work = await this.o.client.work(
          id,
          { session, wait_seconds: wait, ...(confirmed.length > 0 && { confirmed_acks: confirmed }), ...(this.workVersion !== undefined && { since_version: this.workVersion }) },
          this.o.signal,
        );
      } catch (e) {
        this.confirmedAcks.unshift(...confirmed);
        if (this.stopping) return;
        if (e instanceof ReregisterRequired) {
          this.o.log.info('the master asks this agent to register again', { reason: e.message });
          await this.o.session.reregister(session);
          continue;
        }
        const level = backoff.attempts >= 3 ? 'warn' : 'debug';
        this.o.log[level]('work poll failed; retrying', { error: (e as Error).message });
        await sleep(backoff.next(), this.o.signal);
        continue;
      }
      backoff.reset();
      let news = false;
      try {
        news = this.handleWork(work);
        if (work.version !== undefined) this.workVersion = work.version;
      } catch (e) {
        this.o.log.error('handling work failed', { error: e });
      }
      if (this.pushed) await this.untilNudged();
      else if (!news) await sleep(REPEAT_PAUSE_MS, this.o.signal);
    }
  }

  /** Waits for a nudge beyond the work applied, acknowledgements to confirm, the safety interval or the stop. */
  private async untilNudged(): Promise<void> {
    const due = (): boolean => {
      const n = this.nudged;
      return this.confirmedAcks.length > 0 || n === 'any' || (n !== undefined && (this.workVersion === undefined || n > this.workVersion));
    };
    if (!due()) {
      const woken = new AbortController();
      this.wake = () => due() && woken.abort();
      await sleep(this.o.workSafetyIntervalMs ?? DEFAULT_WORK_SAFETY_INTERVAL_MS, AbortSignal.any([this.o.signal, woken.signal]));
      this.wake = undefined;
    }
    this.nudged = undefined;
  }

  /** Applies one work answer; true when it held anything not seen before. */
  private handleWork(work: WorkResponse): boolean {
    this.o.emit({
      type: 'work',
      at: performance.now(),
      launch: work.launch.map((l) => ({ framework_id: l.framework_id, task_id: l.task_id, resources: l.resources as Resources })),
      kill: work.kill.map((k) => ({ framework_id: k.framework_id, task_id: k.task_id })),
      acks: work.acks.length,
    });
    let news = work.acks.length > 0 || work.messages.length > 0;
    for (const a of work.acks) {
      this.o.acknowledge(a.uuid);
      this.confirmedAcks.push(a);
    }
    for (const l of work.launch) if (this.launchTask(l)) news = true;
    for (const k of work.kill) if (this.killTask(k)) news = true;
    for (const x of work.shutdown_executors) {
      const r = this.o.executors?.()?.shutdown(x.framework_id, x.executor_id) ?? 'unknown';
      if (r === 'started') news = true;
      // As Mesos: a shutdown for an executor this agent does not run is ignored (logged).
      if (r === 'unknown') this.o.log.info('shutdown for an executor not running here; ignored', { frameworkId: x.framework_id, executorId: x.executor_id });
    }
    for (const m of work.messages) {
      this.o.emit({ type: 'message', frameworkId: m.framework_id, executorId: m.executor_id, data: m.data });
      if (this.o.executors?.()?.frameworkMessage(m.framework_id, m.executor_id, m.data)) continue;
      // No such executor subscribed here: dropped, as in Mesos (logged).
      const preview = Buffer.from(m.data, 'base64').toString('utf8').slice(0, 256);
      this.o.log.info('framework message for no subscribed executor; dropped', { frameworkId: m.framework_id, executorId: m.executor_id, bytes: Math.floor((m.data.length * 3) / 4), preview });
    }
    return news;
  }

  private launchTask(item: LaunchWork): boolean {
    const ref = taskRefOf(item);
    const set = this.o.containers();
    const id = this.o.agentId();
    if (ref === undefined) {
      this.o.log.warn('ignoring launch work with a malformed task id', { frameworkId: item.framework_id, taskId: item.task_id });
      return false;
    }
    if (set === undefined || id === undefined) return false; // between agent ids: the launch comes again
    const key = refKey(ref);
    const journal = this.o.journal();
    // The master repeats a launch until it has applied STARTING, and the framework cannot have
    // acknowledged STARTING before that: while the task has updates pending, it is a repeat.
    if (this.launching.has(key) || journal?.hasPending(item)) return false;
    const executors = this.o.executors?.();
    if (executors !== undefined && (item.spec as TaskSpec | undefined)?.executor !== undefined) return executors.launch(item);
    const previous = set.owner(ref);
    const before = previous?.status(ref);
    if (before !== undefined && !isTerminal(before.state)) return false;
    const c = set.pick(item.spec);
    const req: LaunchRequest = { ...ref, agentId: id, spec: item.spec as TaskSpec, resources: item.resources as Resources };
    this.launching.add(key);
    this.o.log.info('launching task', { frameworkId: ref.frameworkId, taskId: ref.taskId, containerizer: c.kind });
    // A task id used again (the earlier task ended and was forgotten by the master): a new run.
    const cleared = previous !== undefined ? previous.destroy(ref).then(() => this.o.journal()?.forget(item)) : Promise.resolve();
    void cleared
      .then(() => c.launch(req))
      .catch((e: unknown) => this.o.log.error('launch failed unexpectedly', { taskId: ref.taskId, error: e }))
      .finally(() => this.launching.delete(key));
    return true;
  }

  private killTask(item: TaskKeyed & { readonly grace_period_ms?: number }): boolean {
    const ref = taskRefOf(item);
    const set = this.o.containers();
    if (ref === undefined || set === undefined) return false;
    const key = refKey(ref);
    const executors = this.o.executors?.();
    if (executors?.hasTask(ref)) return executors.kill(ref, item.grace_period_ms);
    const owner = set.owner(ref);
    if (owner !== undefined) {
      const st = owner.status(ref);
      if (st === undefined || isTerminal(st.state) || this.killsPassed.has(key)) return false;
      this.killsPassed.add(key);
      this.o.log.info('killing task', { frameworkId: ref.frameworkId, taskId: ref.taskId, gracePeriodMs: item.grace_period_ms });
      void owner
        .kill(ref, item.grace_period_ms !== undefined ? { gracePeriodMs: item.grace_period_ms } : {})
        .catch((e: unknown) => this.o.log.error('kill failed unexpectedly', { taskId: ref.taskId, error: e }));
      return true;
    }
    // Not here (yet): a launch in progress, or containers still to recover, will show it; the kill comes again.
    if (this.launching.has(key) || this.o.recovering() || this.o.journal()?.lastState(item) !== undefined) return false;
    // The kill overtook the launch: the task never reached this agent.
    this.o.reportUpdate({
      framework_id: ref.frameworkId,
      task_id: ref.taskId,
      state: 'TASK_KILLED',
      uuid: newStatusUuid(),
      source: 'SOURCE_AGENT',
      reason: 'REASON_TASK_KILLED_DURING_LAUNCH',
      message: 'Task killed before it was launched on this agent',
      timestamp: Date.now() / 1000,
    });
    return true;
  }
}
