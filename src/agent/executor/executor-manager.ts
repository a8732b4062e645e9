import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { ApiError } from '../../wire/api-error.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../core/errors.js';
import { isValidId, type AgentId, type FrameworkId, type TaskId } from '../../core/ids.js';
import type { JsonObject } from '../../core/json.js';
import type { Logger } from '../../core/logger.js';
import { isTerminal, parseTaskStateName } from '../../core/task-state.js';
import type { CommandSpec, ContainerSpec, ExecutorSpec, TaskSpec } from '../../core/task.js';
import type { Resources } from '../../core/resources.js';
import type { LaunchWork, StatusUpdate } from '../../wire/agent-api.js';
import { encodeResources } from '../../wire/mesos-resources.js';
import { recordToLabels } from '../../wire/validate.js';
import type { ContainerStatus, TaskRef } from '../containerizer/containerizer.js';
import type { ContainerizerSet } from '../containerizers.js';
import { newStatusUuid } from '../status-update.js';
import { EventChannel } from './event-channel.js';
import { readCheckpoint, writeCheckpoint, type ExecutorRunRecord, type ExecutorTaskRecord } from './executor-checkpoint.js';
import type { ExecutorCall, ExecutorTaskStatus } from './executor-call.js';
import { acknowledgedEvent, killEvent, launchEvent, messageEvent, shutdownEvent, subscribedEvent } from './executor-events.js';
import { connectionFrom, type ConnectionEnds, type ExecutorPlace } from './peer-process.js';

// Custom executors on this agent (Mesos's TaskInfo.executor), as a Mesos agent runs them:
//   - the first task naming an executor launches it, as a container of its own (a host process,
//     or Docker when the ExecutorInfo has an image) with the environment Mesos gives executors;
//     later tasks naming the same executor id go to the running one;
//   - tasks wait until the executor SUBSCRIBEs, then go out as LAUNCH events; KILL, framework
//     MESSAGEs and SHUTDOWN follow on its event stream;
//   - its UPDATEs enter the agent's own status path (journal, uuids, resends until the framework
//     acknowledges); ACKNOWLEDGED goes back once the update is journaled, as in Mesos (from then
//     on the agent owns its delivery);
//   - when the executor's container ends, its tasks that have not ended are TASK_FAILED with
//     REASON_EXECUTOR_TERMINATED (TASK_KILLED if a kill was asked for);
//   - when its last task has ended the agent shuts it down (SHUTDOWN, then a kill after the
//     grace period): the master returns its resources with that last task's;
//   - a restarted agent reads its checkpoint, finds the executors' containers again and waits
//     for them to SUBSCRIBE again (they retry, MESOS_CHECKPOINT=1); one that does not within
//     the reregistration timeout is killed.
// The executor is authenticated on every call: the bearer token the agent put in its
// environment (MESOS_EXECUTOR_AUTHENTICATION_TOKEN), the stream id of its subscription, or a
// connection from a process of its own container (executor libraries that send no credential).

const CONTAINER_TASK_PREFIX = '__executor__';

export interface ExecutorManagerTiming {
  /** HEARTBEAT events on a subscription. Default 15 s. */
  readonly heartbeatMs?: number;
  /** SHUTDOWN to kill (MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD). Default 5 s. */
  readonly shutdownGraceMs?: number;
  /** A launched executor must SUBSCRIBE within this (Mesos's executor_registration_timeout). Default 60 s. */
  readonly registrationTimeoutMs?: number;
  /** After an agent restart, a running executor must SUBSCRIBE again within this. Default 30 s. */
  readonly reregistrationTimeoutMs?: number;
}

export interface ExecutorManagerOptions {
  readonly workDir: string;
  readonly log: Logger;
  readonly agentId: () => AgentId | undefined;
  readonly containers: () => ContainerizerSet | undefined;
  /** host:port of the agent endpoint (MESOS_AGENT_ENDPOINT). */
  readonly endpoint: () => string | undefined;
  readonly hostname: () => string;
  /** Into the agent's status update manager. */
  readonly report: (update: StatusUpdate) => void;
  /** Executor -> framework messages, to the master (best effort). */
  readonly sendMessages: (messages: { framework_id: string; executor_id: string; data: string }[]) => Promise<void>;
  readonly timing?: ExecutorManagerTiming;
}

interface Subscription {
  readonly streamId: string;
  readonly channel: EventChannel;
}

interface Run extends ExecutorRunRecord {
  subscription?: Subscription;
  timer?: NodeJS.Timeout;
  /** A run for the same executor id waiting for this one's container to end. */
  successor?: Run;
}

/** What the agent's work gives a custom executor task; malformed input becomes TASK_ERROR. */
const executorSpecShape = z.object({
  executorId: z.string().refine(isValidId, 'malformed executor id'),
  name: z.string().optional(),
  command: z.object({ shell: z.boolean() }).passthrough(),
  container: z.object({ type: z.enum(['DOCKER', 'MESOS']) }).passthrough().optional(),
  resources: z.object({ cpus: z.number(), mem: z.number() }).passthrough(),
  info: z.record(z.string(), z.unknown()),
});

export function isExecutorContainer(ref: TaskRef): boolean {
  return ref.taskId.startsWith(CONTAINER_TASK_PREFIX);
}

function containerTaskId(executorId: string): string {
  return CONTAINER_TASK_PREFIX + createHash('sha256').update(executorId).digest('hex').slice(0, 40);
}

const key = (frameworkId: string, executorId: string): string => `${frameworkId}/${executorId}`;

function seconds(ms: number): string {
  return `${Math.max(0, ms / 1000)}secs`;
}

export class ExecutorManager {
  private readonly runs = new Map<string, Run>();
  /** Runs whose container has not ended yet but that are no longer current (replaced, shut down). */
  private readonly retired: Run[] = [];
  private loadedFor: string | undefined;
  private readonly heartbeatMs: number;
  private readonly shutdownGraceMs: number;

  constructor(private readonly o: ExecutorManagerOptions) {
    this.heartbeatMs = o.timing?.heartbeatMs ?? 15_000;
    this.shutdownGraceMs = o.timing?.shutdownGraceMs ?? 5_000;
  }

  private get checkpointPath(): string {
    return join(this.o.workDir, 'executors', 'executors.json');
  }

  // ---- lifecycle ----

  /** Reads the checkpoint of this agent id (before its containers recover). */
  load(agentId: AgentId): void {
    if (this.loadedFor === agentId) return;
    this.reset();
    this.loadedFor = agentId;
    for (const r of readCheckpoint(this.checkpointPath, (m) => this.o.log.warn(m))) {
      if (r.agentId !== agentId || r.terminated) continue;
      this.runs.set(key(r.frameworkId, r.executorId), { ...r });
    }
    if (this.runs.size > 0) this.o.log.info('custom executors to recover', { executors: [...this.runs.keys()] });
  }

  /** After the containerizers recovered: executors whose container is gone are terminated; live ones must subscribe again. */
  afterRecovery(set: ContainerizerSet, recovering: boolean): void {
    for (const run of [...this.runs.values()]) {
      if (run.terminated || run.timer !== undefined || run.subscription !== undefined) continue;
      const info = set.containers().find((i) => i.frameworkId === run.frameworkId && i.taskId === run.containerTaskId);
      if (info === undefined) {
        if (!recovering) this.terminated(run, 'the executor container was not found after the agent restarted');
        continue;
      }
      if (isTerminal(info.status.state)) {
        this.terminated(run, info.status.message ?? 'the executor ended while the agent was down');
        continue;
      }
      run.containerId = info.containerId;
      run.timer = setTimeout(() => {
        run.timer = undefined;
        if (run.subscription === undefined && !run.terminated) this.destroyContainer(run, 'the executor did not subscribe again after the agent restarted');
      }, this.o.timing?.reregistrationTimeoutMs ?? 30_000);
      run.timer.unref();
    }
  }

  /** Stops timers and streams (an agent stop); executors keep running for the next start. */
  close(): void {
    for (const run of [...this.runs.values(), ...this.retired]) {
      if (run.timer) clearTimeout(run.timer);
      run.timer = undefined;
      run.subscription?.channel.close();
    }
  }

  /** Forgets everything (a new agent id: the old one's containers are destroyed by the agent). */
  reset(): void {
    this.close();
    this.runs.clear();
    this.retired.length = 0;
  }

  /** Forgets everything for good (the agent destroyed its containers): the checkpoint is emptied too. */
  forgetAll(): void {
    this.reset();
    if (this.loadedFor !== undefined) this.save();
  }

  // ---- what the agent asks ----

  /** A container of one of the executors (not a task): its statuses are the executor's, not reported. */
  owns(ref: TaskRef): boolean {
    return isExecutorContainer(ref);
  }

  hasTask(ref: TaskRef): boolean {
    return this.findTask(ref) !== undefined;
  }

  /** The tasks on executors that have not ended, for (re)registration. */
  reportedTasks(): { framework_id: string; task_id: string; state: string }[] {
    const out: { framework_id: string; task_id: string; state: string }[] = [];
    for (const run of this.runs.values()) {
      for (const t of run.tasks) if (!isTerminal(parseTaskStateName(t.state) ?? 'FINISHED')) out.push({ framework_id: run.frameworkId, task_id: t.taskId, state: t.state });
    }
    return out;
  }

  /** Executors and their tasks, for GET /api/v1/state. */
  view(): ExecutorView[] {
    return [...this.runs.values()].map((r) => ({
      framework_id: r.frameworkId,
      executor_id: r.executorId,
      ...(r.containerId !== undefined && { container_id: r.containerId }),
      sandbox: r.sandbox,
      subscribed: r.subscription !== undefined,
      tasks: r.tasks.map((t) => ({ task_id: t.taskId, state: t.state })),
    }));
  }

  /** A launch for a task with a custom executor; false when it is a repeat of one already here. */
  launch(item: LaunchWork): boolean {
    const ref = { frameworkId: item.framework_id as FrameworkId, taskId: item.task_id as TaskId };
    const found = this.findTask(ref);
    if (found !== undefined && !isTerminal(parseTaskStateName(found.task.state) ?? 'FINISHED')) return false;
    const spec = item.spec as TaskSpec;
    const shape = executorSpecShape.safeParse(spec.executor);
    if (!shape.success) {
      this.reportState(ref, 'TASK_ERROR', 'REASON_TASK_INVALID', `the task's executor is malformed: ${shape.error.issues[0]?.message ?? 'invalid'}`);
      return true;
    }
    const exec = spec.executor!;
    if (found !== undefined) found.run.tasks = found.run.tasks.filter((t) => t.taskId !== ref.taskId); // the id used again
    const k = key(item.framework_id, exec.executorId);
    let run = this.runs.get(k);
    if (run === undefined || run.terminated || run.shuttingDown) {
      const next = this.newRun(item.framework_id, exec);
      if (run !== undefined && !run.terminated) {
        // Shutting down: the new run starts once the old one's container has ended.
        run.successor = next;
        this.retired.push(run);
      }
      this.runs.set(k, next);
      if (run === undefined || run.terminated) this.startContainer(next);
      run = next;
    }
    const task: ExecutorTaskRecord = {
      taskId: item.task_id,
      taskInfo: this.taskInfo(item, exec),
      state: 'TASK_STAGING',
      sent: false,
      killRequested: false,
      ...(item.kill_grace_period_ms !== undefined && { killGracePeriodMs: item.kill_grace_period_ms }),
      uuids: [],
    };
    run.tasks.push(task);
    this.o.log.info('task for a custom executor', { frameworkId: item.framework_id, taskId: item.task_id, executorId: exec.executorId, subscribed: run.subscription !== undefined });
    if (run.subscription !== undefined) this.deliver(run, task);
    this.save();
    return true;
  }

  /** A kill: the executor gets KILL; a task it never received ends here as TASK_KILLED. */
  kill(ref: TaskRef, gracePeriodMs: number | undefined): boolean {
    const found = this.findTask(ref);
    if (found === undefined) return false;
    const { run, task } = found;
    if (isTerminal(parseTaskStateName(task.state) ?? 'FINISHED') || task.killRequested) return false;
    task.killRequested = true;
    if (task.sent && run.subscription !== undefined) {
      run.subscription.channel.push(killEvent(task.taskId, gracePeriodMs ?? task.killGracePeriodMs));
    } else if (!task.sent) {
      this.endTask(run, task, 'TASK_KILLED', 'REASON_TASK_KILLED_DURING_LAUNCH', 'Task killed before the executor received it');
    }
    // Sent but the executor is not connected: it gets the KILL when it subscribes again.
    this.save();
    return true;
  }

  /** A framework message for an executor; false when no such executor is subscribed here (dropped, as in Mesos). */
  frameworkMessage(frameworkId: string, executorId: string, data: string): boolean {
    const run = this.runs.get(key(frameworkId, executorId));
    if (run?.subscription === undefined) return false;
    return run.subscription.channel.push(messageEvent(data));
  }

  /**
   * Its framework asked for the executor to be shut down (scheduler SHUTDOWN, repeated in the
   * agent's work until it is gone): SHUTDOWN on its stream, a kill after the grace period if it
   * has not exited. Its tasks count as killed: one it never received ends TASK_KILLED now, the
   * others when the executor reports them or, if it does not, when its container ends
   * (TASK_KILLED, REASON_EXECUTOR_TERMINATED). 'unknown' when no such executor is here.
   */
  shutdown(frameworkId: string, executorId: string): 'started' | 'already' | 'unknown' {
    const run = this.runs.get(key(frameworkId, executorId));
    if (run === undefined) return 'unknown';
    if (run.terminated || run.frameworkShutdown === true) return 'already';
    run.frameworkShutdown = true;
    for (const t of run.tasks) {
      if (isTerminal(parseTaskStateName(t.state) ?? 'FINISHED')) continue;
      t.killRequested = true;
      if (!t.sent) this.endTask(run, t, 'TASK_KILLED', 'REASON_EXECUTOR_TERMINATED', 'Executor shut down by its framework before the task reached it');
    }
    this.o.log.info('shutting down a custom executor at its framework\'s request', { frameworkId, executorId, gracePeriodMs: this.shutdownGraceMs });
    if (run.shuttingDown) this.save(); // already idle and shutting down: its deadline stands
    else this.beginShutdown(run);
    return 'started';
  }

  /** A status of an executor's own container. */
  containerStatus(status: ContainerStatus): void {
    // A retired run's container is the one alive: its successor (same container task id) waits for its end.
    const run = [...this.retired, ...this.runs.values()].find((r) => r.frameworkId === status.frameworkId && r.containerTaskId === status.taskId && !r.terminated);
    if (run === undefined) return;
    if (status.containerId !== '' && run.containerId === undefined) run.containerId = status.containerId;
    if (!isTerminal(status.state)) return;
    const why = [status.message, status.exitCode !== undefined ? `exit status ${status.exitCode}` : undefined].filter((m) => m !== undefined).join('; ');
    this.terminated(run, why || 'the executor ended');
  }

  // ---- the executor API ----

  /** SUBSCRIBE: the caller must be the executor; answers its event stream. */
  subscribe(call: ExecutorCall, auth: CallerProof, signal: AbortSignal | undefined): { streamId: string; channel: EventChannel } {
    const run = this.authenticate(call, auth, false);
    // Checked before anything changes: the resent updates must all be of this executor's tasks.
    (call.subscribe?.unacknowledged_updates ?? []).forEach((u, i) => {
      if (!run.tasks.some((t) => t.taskId === u.status.task_id.value)) {
        throw new ForbiddenError(`task ${u.status.task_id.value.slice(0, 64)} is not a task of executor ${run.executorId}`, `subscribe.unacknowledged_updates[${i}].status.task_id`);
      }
    });
    run.subscription?.channel.close();
    // The (re)registration deadline is met; a shutdown's deadline still stands.
    if (run.timer && !run.shuttingDown) {
      clearTimeout(run.timer);
      run.timer = undefined;
    }
    const channel = new EventChannel(signal, this.heartbeatMs);
    const sub: Subscription = { streamId: randomUUID(), channel };
    run.subscription = sub;
    channel.onClose(() => {
      if (run.subscription === sub) run.subscription = undefined;
    });
    const agentId = this.o.agentId() ?? '';
    const endpoint = this.o.endpoint();
    const port = endpoint !== undefined ? Number(endpoint.slice(endpoint.lastIndexOf(':') + 1)) : undefined;
    channel.push(
      subscribedEvent({
        executorInfo: this.executorInfo(run),
        frameworkId: run.frameworkId,
        agentId,
        hostname: this.o.hostname(),
        port: Number.isInteger(port) ? port : undefined,
        containerId: run.containerId,
      }),
    );
    // What the executor resends after a disconnection: updates not yet acknowledged, and tasks
    // it has. A task the agent handed out that the executor does not know (nor updated) was
    // lost with the connection, as Mesos decides on a re-subscription.
    for (const u of call.subscribe?.unacknowledged_updates ?? []) this.acceptUpdate(run, u.status, true);
    if (run.subscribedOnce) {
      const known = new Set((call.subscribe?.unacknowledged_tasks ?? []).map((t) => t.task_id.value));
      for (const t of run.tasks) {
        if (t.sent && t.state === 'TASK_STAGING' && !known.has(t.taskId)) {
          this.endTask(run, t, 'TASK_LOST', 'REASON_AGENT_RESTARTED', 'Task launched during agent restart: the executor never received it');
        }
      }
    }
    run.subscribedOnce = true;
    for (const t of run.tasks) {
      const state = parseTaskStateName(t.state) ?? 'FINISHED';
      if (!t.sent && !isTerminal(state)) this.deliver(run, t);
      else if (t.sent && t.killRequested && !isTerminal(state)) channel.push(killEvent(t.taskId, t.killGracePeriodMs));
    }
    if (run.shuttingDown) channel.push(shutdownEvent());
    this.o.log.info('executor subscribed', { frameworkId: run.frameworkId, executorId: run.executorId, tasks: run.tasks.length });
    this.save();
    this.maybeIdle(run);
    return { streamId: sub.streamId, channel };
  }

  /** UPDATE: the status of one of the caller's own tasks. */
  update(call: ExecutorCall, auth: CallerProof): void {
    const run = this.authenticate(call, auth, true);
    this.acceptUpdate(run, call.update!.status, false);
    this.save();
    this.maybeIdle(run);
  }

  /** MESSAGE: to the framework, through the master (best effort, as in Mesos). */
  message(call: ExecutorCall, auth: CallerProof): void {
    const run = this.authenticate(call, auth, true);
    void this.o
      .sendMessages([{ framework_id: run.frameworkId, executor_id: run.executorId, data: call.message!.data }])
      .catch((e: unknown) => this.o.log.warn('an executor message could not reach the master; dropped', { executorId: run.executorId, error: (e as Error).message }));
  }

  // ---- internals ----

  private newRun(frameworkId: string, exec: ExecutorSpec): Run {
    return {
      agentId: this.o.agentId() ?? '',
      frameworkId,
      executorId: exec.executorId,
      spec: exec as unknown as Record<string, unknown>,
      containerTaskId: containerTaskId(exec.executorId),
      sandbox: join(this.o.workDir, 'executors', randomUUID()),
      token: randomBytes(32).toString('base64url'),
      subscribedOnce: false,
      shuttingDown: false,
      terminated: false,
      tasks: [],
    };
  }

  private specOf(run: Run): ExecutorSpec {
    return run.spec as unknown as ExecutorSpec;
  }

  private executorInfo(run: Run): JsonObject {
    return { ...this.specOf(run).info, framework_id: { value: run.frameworkId } };
  }

  /** The TaskInfo the executor gets, rebuilt from what the master sent. */
  private taskInfo(item: LaunchWork, exec: ExecutorSpec): JsonObject {
    const spec = item.spec as TaskSpec;
    const labels = recordToLabels(spec.labels);
    return {
      name: spec.name,
      task_id: { value: item.task_id },
      agent_id: { value: this.o.agentId() ?? '' },
      resources: encodeResources(item.resources as Resources) as unknown as JsonObject[],
      executor: { ...exec.info, framework_id: { value: item.framework_id } },
      ...(spec.data !== undefined && { data: spec.data }),
      ...(labels !== undefined && { labels }),
    };
  }

  private startContainer(run: Run): void {
    const set = this.o.containers();
    const agentId = this.o.agentId();
    const endpoint = this.o.endpoint();
    const spec = this.specOf(run);
    if (set === undefined || agentId === undefined || endpoint === undefined) {
      this.terminated(run, 'the agent cannot launch executors now');
      return;
    }
    const command: CommandSpec = {
      ...spec.command,
      environment: {
        ...spec.command.environment,
        // Mesos's executor environment (docs: executor-http-api, "Executor Environment Variables").
        MESOS_FRAMEWORK_ID: run.frameworkId,
        MESOS_EXECUTOR_ID: run.executorId,
        MESOS_AGENT_ID: agentId,
        MESOS_SLAVE_ID: agentId,
        MESOS_AGENT_ENDPOINT: endpoint,
        MESOS_DIRECTORY: run.sandbox,
        MESOS_SANDBOX: run.sandbox,
        // Stratus agents always checkpoint and recover: executors retry after a disconnection.
        MESOS_CHECKPOINT: '1',
        MESOS_RECOVERY_TIMEOUT: '15mins',
        MESOS_SUBSCRIPTION_BACKOFF_MAX: '2secs',
        MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: seconds(this.shutdownGraceMs),
        MESOS_HTTP_COMMAND_EXECUTOR: '0',
        MESOS_EXECUTOR_AUTHENTICATION_TOKEN: run.token,
      },
    };
    const taskSpec: TaskSpec = {
      name: spec.name ?? `executor ${run.executorId}`,
      command,
      ...(spec.container !== undefined && { container: spec.container as ContainerSpec }),
      killGracePeriodMs: this.shutdownGraceMs,
    };
    const c = set.pick(taskSpec);
    const ref = { frameworkId: run.frameworkId as FrameworkId, taskId: run.containerTaskId as TaskId };
    this.o.log.info('launching custom executor', { frameworkId: run.frameworkId, executorId: run.executorId, containerizer: c.kind });
    this.save();
    run.timer = setTimeout(() => {
      run.timer = undefined;
      if (!run.subscribedOnce && !run.terminated) this.destroyContainer(run, 'the executor did not subscribe within the registration timeout');
    }, this.o.timing?.registrationTimeoutMs ?? 60_000);
    run.timer.unref();
    const previous = set.owner(ref);
    void (previous !== undefined ? previous.destroy(ref) : Promise.resolve())
      .then(() => c.launch({ ...ref, agentId, spec: taskSpec, resources: spec.resources, sandboxDir: run.sandbox }))
      .then((s) => {
        if (s.containerId !== '') run.containerId ??= s.containerId;
        // A refused launch is not emitted as an event for a task id already known: end it here.
        if (isTerminal(s.state)) this.terminated(run, s.message ?? 'the executor could not be launched');
      })
      .catch((e: unknown) => this.terminated(run, `the executor could not be launched: ${(e as Error).message}`));
  }

  private destroyContainer(run: Run, why: string): void {
    this.o.log.warn('killing a custom executor', { frameworkId: run.frameworkId, executorId: run.executorId, why });
    const set = this.o.containers();
    const ref = { frameworkId: run.frameworkId as FrameworkId, taskId: run.containerTaskId as TaskId };
    const owner = set?.owner(ref);
    if (owner === undefined) {
      this.terminated(run, why);
      return;
    }
    void owner.kill(ref, { gracePeriodMs: 0 }).then((killed) => {
      if (!killed) this.terminated(run, why);
    });
  }

  /** The executor's container has ended: its tasks end with it, its stream closes, a successor starts. */
  private terminated(run: Run, why: string): void {
    if (run.terminated) return;
    run.terminated = true;
    if (run.timer) clearTimeout(run.timer);
    run.timer = undefined;
    for (const t of run.tasks) {
      if (isTerminal(parseTaskStateName(t.state) ?? 'FINISHED')) continue;
      if (t.killRequested) this.endTask(run, t, 'TASK_KILLED', 'REASON_EXECUTOR_TERMINATED', `Executor terminated: ${why}`);
      else this.endTask(run, t, 'TASK_FAILED', 'REASON_EXECUTOR_TERMINATED', `Executor terminated: ${why}`);
    }
    run.subscription?.channel.close();
    run.subscription = undefined;
    this.o.log.info('custom executor terminated', { frameworkId: run.frameworkId, executorId: run.executorId, why });
    const i = this.retired.indexOf(run);
    if (i >= 0) this.retired.splice(i, 1);
    if (run.successor !== undefined && !run.successor.terminated) this.startContainer(run.successor);
    this.save();
  }

  /** An executor with no task left to run is shut down (its resources return at the master with its last task's). */
  private maybeIdle(run: Run): void {
    if (run.terminated || run.shuttingDown) return;
    if (run.tasks.some((t) => !isTerminal(parseTaskStateName(t.state) ?? 'FINISHED'))) return;
    this.beginShutdown(run);
  }

  /** SHUTDOWN to the executor (now, or when it subscribes), then a kill once the grace period has passed. */
  private beginShutdown(run: Run): void {
    run.shuttingDown = true;
    run.subscription?.channel.push(shutdownEvent());
    if (run.timer) clearTimeout(run.timer);
    run.timer = setTimeout(() => {
      run.timer = undefined;
      if (!run.terminated) this.destroyContainer(run, 'the executor did not exit within its shutdown grace period');
    }, this.shutdownGraceMs);
    run.timer.unref();
    this.save();
  }

  private deliver(run: Run, task: ExecutorTaskRecord): void {
    if (run.subscription?.channel.push(launchEvent(task.taskInfo as JsonObject))) task.sent = true;
  }

  private acceptUpdate(run: Run, s: ExecutorTaskStatus, resent: boolean): void {
    const task = run.tasks.find((t) => t.taskId === s.task_id.value);
    if (task === undefined) {
      throw new ForbiddenError(`task ${s.task_id.value.slice(0, 64)} is not a task of executor ${run.executorId}`, resent ? 'subscribe.unacknowledged_updates' : 'update.status.task_id');
    }
    if (task.uuids.includes(s.uuid)) {
      // Already journaled: say so again (the executor missed the first ACKNOWLEDGED).
      run.subscription?.channel.push(acknowledgedEvent(task.taskId, s.uuid));
      return;
    }
    const current = parseTaskStateName(task.state) ?? 'FINISHED';
    if (isTerminal(current)) {
      if (resent) return;
      throw new ApiError(409, `task ${task.taskId} has ended (${task.state}): no update may follow`, 'update.status.state');
    }
    const message = s.message !== undefined && s.message.length > 4096 ? `${s.message.slice(0, 4093)}...` : s.message;
    const update: StatusUpdate = {
      framework_id: run.frameworkId,
      task_id: task.taskId,
      state: s.state,
      uuid: s.uuid,
      source: 'SOURCE_EXECUTOR',
      ...(s.reason !== undefined && { reason: s.reason }),
      ...(message !== undefined && { message }),
      ...(s.healthy !== undefined && { healthy: s.healthy }),
      timestamp: s.timestamp !== undefined && s.timestamp > 0 ? s.timestamp : Date.now() / 1000,
    };
    task.state = s.state;
    task.sent = true;
    task.uuids = [...task.uuids, s.uuid].slice(-32);
    this.o.report(update);
    run.subscription?.channel.push(acknowledgedEvent(task.taskId, s.uuid));
  }

  /** An ending the agent decides (executor gone, kill before delivery): reported as the agent's own. */
  private endTask(run: Run, task: ExecutorTaskRecord, state: string, reason: string, message: string): void {
    task.state = state;
    this.reportState({ frameworkId: run.frameworkId as FrameworkId, taskId: task.taskId as TaskId }, state, reason, message);
  }

  private reportState(ref: TaskRef, state: string, reason: string, message: string): void {
    this.o.report({ framework_id: ref.frameworkId, task_id: ref.taskId, state, uuid: newStatusUuid(), source: 'SOURCE_AGENT', reason, message, timestamp: Date.now() / 1000 });
  }

  private findTask(ref: TaskRef): { run: Run; task: ExecutorTaskRecord } | undefined {
    for (const run of this.runs.values()) {
      if (run.frameworkId !== ref.frameworkId) continue;
      const task = run.tasks.find((t) => t.taskId === ref.taskId);
      if (task !== undefined) return { run, task };
    }
    return undefined;
  }

  /**
   * The run the call is about, once the caller proved to be its executor: its token, its
   * subscription's stream id (UPDATE, MESSAGE), or a connection from its own container.
   */
  private authenticate(call: ExecutorCall, auth: CallerProof, streamIdCounts: boolean): Run {
    const run = this.runs.get(key(call.framework_id.value, call.executor_id.value));
    if (run === undefined || run.terminated) {
      throw new NotFoundError(`executor ${call.executor_id.value} of framework ${call.framework_id.value} does not run on this agent`, 'executor_id');
    }
    if (auth.bearer !== undefined) {
      const a = Buffer.from(auth.bearer);
      const b = Buffer.from(run.token);
      if (a.length === b.length && timingSafeEqual(a, b)) return run;
      throw new ApiError(401, `the bearer token is not executor ${run.executorId}'s`, 'Authorization');
    }
    if (streamIdCounts && auth.streamId !== undefined && run.subscription !== undefined && auth.streamId === run.subscription.streamId) return run;
    const place = this.placeOf(run);
    if (place !== undefined && auth.connection !== undefined && connectionFrom(auth.connection, place)) return run;
    throw new ApiError(
      401,
      `the caller is not executor ${run.executorId}: send its MESOS_EXECUTOR_AUTHENTICATION_TOKEN as 'Authorization: Bearer <token>', or call from the executor's own container`,
      'Authorization',
    );
  }

  private placeOf(run: Run): ExecutorPlace | undefined {
    const info = this.o.containers()?.containers().find((i) => i.frameworkId === run.frameworkId && i.taskId === run.containerTaskId);
    if (info?.engineId === undefined || isTerminal(info.status.state)) return undefined;
    if (info.containerizer === 'docker') return { kind: 'docker', containerId: info.engineId };
    const pid = Number(info.engineId);
    return Number.isInteger(pid) && pid > 0 ? { kind: 'process', sessionId: pid } : undefined;
  }

  private save(): void {
    if (this.loadedFor === undefined) return;
    try {
      const records: ExecutorRunRecord[] = [...this.runs.values(), ...this.retired].filter((r) => !r.terminated).map(({ subscription: _s, timer: _t, successor: _n, ...r }) => r);
      writeCheckpoint(this.checkpointPath, records);
    } catch (e) {
      this.o.log.error('cannot write the executor checkpoint', { error: e });
    }
  }
}

/** One executor as GET /api/v1/state and tests see it. */
export interface ExecutorView {
  readonly framework_id: string;
  readonly executor_id: string;
  readonly container_id?: string;
  readonly sandbox: string;
  readonly subscribed: boolean;
  readonly tasks: readonly { readonly task_id: string; readonly state: string }[];
}

/** What a call to the executor API carries that may prove who sent it. */
export interface CallerProof {
  readonly bearer?: string;
  readonly streamId?: string;
  readonly connection?: ConnectionEnds;
}

export function callerProof(headers: Readonly<Record<string, string | undefined>>, connection: ConnectionEnds | undefined): CallerProof {
  const authz = headers.authorization;
  if (authz !== undefined && !/^Bearer \S+$/i.test(authz)) throw new ValidationError("Authorization must be 'Bearer <MESOS_EXECUTOR_AUTHENTICATION_TOKEN>'", 'Authorization');
  return {
    ...(authz !== undefined && { bearer: authz.slice(7).trim() }),
    ...(headers['mesos-stream-id'] !== undefined && { streamId: headers['mesos-stream-id'] }),
    ...(connection !== undefined && { connection }),
  };
}

