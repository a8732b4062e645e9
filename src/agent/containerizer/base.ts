import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NotFoundError } from '../../core/errors.js';
import { isValidId, type FrameworkId, type TaskId } from '../../core/ids.js';
import { DEFAULT_KILL_GRACE_PERIOD_MS, type CommandSpec, type TaskSpec } from '../../core/task.js';
import { isTerminal } from '../../core/task-state.js';
import {
  DEFAULT_LOG_CAP_BYTES,
  nowSeconds,
  refKey,
  type Containerizer,
  type ContainerizerEvent,
  type ContainerizerListener,
  type ContainerizerOptions,
  type ContainerInfo,
  type ContainerReason,
  type ContainerState,
  type ContainerStatus,
  type EngineHealth,
  type EngineState,
  type KillOptions,
  type LaunchRequest,
  type LogRead,
  type LogStream,
  type RecoverOptions,
  type RecoveryResult,
  type TaskRef,
} from './containerizer.js';
import { HealthChecker, networkProbe, type HealthProbe } from './health-check.js';
import { readLog } from './log-store.js';
import { removeState, stateDir, writeState, type ContainerStateFile } from './state-file.js';
import { InvalidTask, validateLaunch, type ValidatedLaunch } from './validation.js';
import { sleep } from '../../core/sleep.js';

// What both adapters share: the table of containers, status reporting (ordered, never after a
// terminal one), kill with grace, health-check wiring, logs and destroy. Adapters supply the
// engine side: start a container, signal it, probe inside it, remove it, recover.

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T>(): Deferred<T> {
  let resolveFn!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolveFn = r));
  return { promise, resolve: (v) => resolveFn(v) };
}


export interface Entry {
  readonly ref: TaskRef;
  readonly key: string;
  readonly containerId: string;
  readonly sandboxDir: string;
  readonly spec: TaskSpec;
  /** The checkpoint; undefined for a launch refused before anything was created. */
  state: ContainerStateFile | undefined;
  status: ContainerStatus;
  healthy: boolean | undefined;
  health: HealthChecker | undefined;
  killTimer: NodeJS.Timeout | undefined;
  readonly done: Deferred<ContainerStatus>;
}

export interface StatusChange {
  readonly state: ContainerState;
  readonly reason?: ContainerReason;
  readonly message?: string;
  readonly exitCode?: number;
}

/** How a container ended, as far as the engine can tell. */
export interface ExitInfo {
  readonly code?: number;
  readonly signal?: string;
  readonly oom?: boolean;
  /** Set when the container vanished or its status cannot be known; says why. */
  readonly lost?: string;
}

const SIGNALS: Readonly<Record<number, string>> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM' };

export function describeExit(code: number): string {
  // Shells and init report death by signal N as 128+N.
  const sig = code > 128 && code < 160 ? SIGNALS[code - 128] ?? `signal ${code - 128}` : undefined;
  return `Command exited with status ${code}${sig ? ` (terminated by ${sig})` : ''}`;
}

export abstract class BaseContainerizer<E extends Entry> implements Containerizer {
  abstract readonly kind: 'docker' | 'process';
  protected readonly entries = new Map<string, E>();
  protected readonly byContainerId = new Map<string, E>();
  private readonly listeners = new Set<ContainerizerListener>();
  private engine: EngineHealth = { state: 'UNKNOWN', message: 'not checked yet', since: nowSeconds() };
  protected closed = false;
  protected readonly logCap: number;
  protected readonly log: (message: string) => void;

  constructor(protected readonly options: ContainerizerOptions) {
    this.logCap = options.logCapBytes ?? DEFAULT_LOG_CAP_BYTES;
    this.log = options.log ?? (() => undefined);
  }

  // ---- adapter hooks ----

  /** Adapter-specific input checks, after the common ones; throw InvalidTask. */
  protected abstract validateMore(req: LaunchRequest, v: ValidatedLaunch): void;
  protected abstract newEntry(base: Entry, req: LaunchRequest, v: ValidatedLaunch): E;
  /** Runs the launch after STARTING; must report RUNNING or a terminal status and never throw. */
  protected abstract start(entry: E, v: ValidatedLaunch): Promise<void>;
  /** Delivers a signal to the task (a no-op while it has no engine id: the launch checks for kills). */
  protected abstract signal(entry: E, signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Runs a COMMAND health check inside the task's environment. */
  protected abstract commandProbe(entry: E, command: CommandSpec): HealthProbe;
  /** Removes whatever the engine still holds for an ended task. */
  protected abstract release(entry: E): Promise<void>;
  abstract recover(options?: RecoverOptions): Promise<RecoveryResult>;
  abstract checkEngine(): Promise<EngineHealth>;
  protected abstract shutdown(): Promise<void>;

  // ---- events ----

  subscribe(listener: ContainerizerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected emit(event: ContainerizerEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (e) {
        this.log(`containerizer listener threw: ${(e as Error).message}`);
      }
    }
  }

  engineHealth(): EngineHealth {
    return this.engine;
  }

  protected setEngine(state: EngineState, message: string): void {
    if (this.engine.state === state) return;
    this.engine = { state, message, since: nowSeconds() };
    this.emit({ type: 'engine', health: this.engine });
  }

  /** Reports a status change; ignored once the task is terminal. */
  protected report(entry: E, change: StatusChange, healthy = entry.healthy): ContainerStatus {
    if (isTerminal(entry.status.state)) return entry.status;
    const status: ContainerStatus = {
      frameworkId: entry.ref.frameworkId,
      taskId: entry.ref.taskId,
      containerId: entry.containerId,
      state: change.state,
      ...(change.reason !== undefined && { reason: change.reason }),
      ...(change.message !== undefined && { message: change.message }),
      ...(healthy !== undefined && { healthy }),
      ...(change.exitCode !== undefined && { exitCode: change.exitCode }),
      timestamp: nowSeconds(),
    };
    entry.status = status;
    if (isTerminal(status.state)) {
      entry.health?.stop();
      if (entry.killTimer) clearTimeout(entry.killTimer);
      const { frameworkId: _f, taskId: _t, containerId: _c, ...terminal } = status;
      this.checkpoint(entry, { terminal });
      entry.done.resolve(status);
    }
    this.emit({ type: 'status', status });
    return status;
  }

  /** Updates and writes the state file (a failed write is logged: the task keeps running). */
  protected checkpoint(entry: E, patch: Partial<ContainerStateFile>): void {
    // A destroyed task's late launch steps must not bring its state file back.
    if (entry.state === undefined || this.entries.get(entry.key) !== entry) return;
    entry.state = { ...entry.state, ...patch };
    try {
      writeState(this.options.workDir, entry.state);
    } catch (e) {
      this.log(`cannot write state of container ${entry.containerId}: ${(e as Error).message}`);
    }
  }

  protected register(entry: E): void {
    this.entries.set(entry.key, entry);
    this.byContainerId.set(entry.containerId, entry);
  }

  protected baseEntry(ref: TaskRef, containerId: string, sandboxDir: string, spec: TaskSpec, state: ContainerStateFile | undefined, status: ContainerStatus): Entry {
    return { ref, key: refKey(ref), containerId, sandboxDir, spec, state, status, healthy: undefined, health: undefined, killTimer: undefined, done: deferred() };
  }

  // ---- launch ----

  async launch(req: LaunchRequest): Promise<ContainerStatus> {
    let v: ValidatedLaunch;
    try {
      v = validateLaunch(req, { agentId: this.options.agentId, agentPorts: this.options.agentPorts, imageAllowsNoCommand: this.kind === 'docker' && this.hasImage(req) });
      this.validateMore(req, v);
    } catch (e) {
      const message = e instanceof InvalidTask ? e.message : `invalid launch: ${(e as Error).message}`;
      return this.refuse(req, message);
    }
    const ref: TaskRef = { frameworkId: req.frameworkId, taskId: req.taskId };
    if (this.entries.has(refKey(ref))) {
      // Not emitted: an ERROR for this task id would overwrite the state of the running one.
      return { ...ref, containerId: '', state: 'ERROR', reason: 'TASK_INVALID', message: `task ${req.taskId} of framework ${req.frameworkId} was already launched on this agent`, timestamp: nowSeconds() };
    }
    if (this.closed) return this.refuse(req, 'the containerizer is closed', 'CONTAINER_LAUNCH_FAILED');
    const containerId = randomUUID();
    const sandboxDir = req.sandboxDir ?? stateDir(this.options.workDir, containerId);
    const state: ContainerStateFile = {
      version: 1,
      kind: this.kind,
      containerId,
      taskId: req.taskId,
      frameworkId: req.frameworkId,
      agentId: req.agentId,
      spec: req.spec,
      resources: { ...req.resources, ports: [...req.resources.ports] },
      ports: [...v.ports],
      sandboxDir,
      launchedAt: nowSeconds(),
    };
    const starting: ContainerStatus = { ...ref, containerId, state: 'STARTING', timestamp: nowSeconds() };
    const entry = this.newEntry(this.baseEntry(ref, containerId, sandboxDir, req.spec, state, starting), req, v);
    this.register(entry);
    try {
      mkdirSync(sandboxDir, { recursive: true });
      writeState(this.options.workDir, state);
    } catch (e) {
      entry.state = undefined;
      return this.report(entry, { state: 'ERROR', reason: 'CONTAINER_LAUNCH_FAILED', message: `cannot create the sandbox ${sandboxDir}: ${(e as Error).message}` });
    }
    this.report(entry, { state: 'STARTING' });
    try {
      await this.start(entry, v);
    } catch (e) {
      // start() reports its own failures; this is a last resort so a launch never rejects.
      this.report(entry, { state: 'FAILED', reason: 'CONTAINER_LAUNCH_FAILED', message: `launch failed: ${(e as Error).message}` });
    }
    return entry.status;
  }

  protected hasImage(_req: LaunchRequest): boolean {
    return false;
  }

  private refuse(req: LaunchRequest, message: string, reason: ContainerReason = 'TASK_INVALID'): ContainerStatus {
    const r = (typeof req === 'object' && req !== null ? req : {}) as Partial<LaunchRequest>;
    const ref: TaskRef = { frameworkId: (r.frameworkId ?? '') as FrameworkId, taskId: (r.taskId ?? '') as TaskId };
    const status: ContainerStatus = { ...ref, containerId: randomUUID(), state: 'ERROR', reason, message, timestamp: nowSeconds() };
    // Remember a well-formed refused task so that wait()/status() answer for it.
    if (isValidId(ref.frameworkId) && isValidId(ref.taskId) && !this.entries.has(refKey(ref))) {
      const entry = this.newEntry(this.baseEntry(ref, status.containerId, '', r.spec ?? { name: '' }, undefined, status), req, { ports: [], argv: undefined, killGracePeriodMs: undefined, network: 'HOST' });
      this.register(entry);
      entry.done.resolve(status);
    }
    this.emit({ type: 'status', status });
    return status;
  }

  /** Resolves a task's working directory for a host process: relative paths are under the sandbox. */
  protected hostWorkingDir(entry: E): string {
    const wd = entry.spec.workingDir;
    if (wd === undefined) return entry.sandboxDir;
    return resolve(entry.sandboxDir, wd);
  }

  // ---- kill ----

  async kill(ref: TaskRef, options: KillOptions = {}): Promise<boolean> {
    const entry = this.entries.get(refKey(ref));
    if (entry === undefined || isTerminal(entry.status.state)) return false;
    if (entry.state?.killRequestedAt !== undefined) return true;
    const grace = options.gracePeriodMs ?? entry.spec.killGracePeriodMs ?? DEFAULT_KILL_GRACE_PERIOD_MS;
    await this.requestKill(entry, Math.max(0, grace));
    return true;
  }

  protected async requestKill(entry: E, graceMs: number, reason?: ContainerReason, message?: string): Promise<void> {
    if (entry.state?.killRequestedAt === undefined) {
      this.checkpoint(entry, {
        killRequestedAt: Date.now(),
        killGracePeriodMs: graceMs,
        ...(reason !== undefined && { killReason: reason }),
        ...(message !== undefined && { killMessage: message }),
      });
    }
    await this.resumeKill(entry);
  }

  /** Signals according to the time left in the grace: SIGTERM and a SIGKILL timer, or SIGKILL now. */
  protected async resumeKill(entry: E): Promise<void> {
    const st = entry.state;
    if (st?.killRequestedAt === undefined || isTerminal(entry.status.state)) return;
    const left = st.killRequestedAt + (st.killGracePeriodMs ?? DEFAULT_KILL_GRACE_PERIOD_MS) - Date.now();
    if (left <= 0) {
      await this.signal(entry, 'SIGKILL');
      return;
    }
    if (entry.killTimer) clearTimeout(entry.killTimer);
    entry.killTimer = setTimeout(() => {
      entry.killTimer = undefined;
      void this.signal(entry, 'SIGKILL').catch((e: unknown) => this.log(`SIGKILL of ${entry.containerId} failed: ${(e as Error).message}`));
    }, left);
    entry.killTimer.unref();
    await this.signal(entry, 'SIGTERM');
  }

  /** The terminal status for an ended container. */
  protected terminalFor(entry: E, exit: ExitInfo): StatusChange {
    const st = entry.state;
    const exitCode = exit.code;
    const how = exit.code !== undefined ? describeExit(exit.code) : exit.signal ? `Command terminated by ${exit.signal}` : exit.lost;
    if (st?.killRequestedAt !== undefined) {
      return {
        state: 'KILLED',
        ...(st.killReason !== undefined && { reason: st.killReason as ContainerReason }),
        message: st.killMessage ?? `Task killed${how ? `: ${how}` : ''}`,
        ...(exitCode !== undefined && { exitCode }),
      };
    }
    if (exit.oom) {
      const mem = st?.resources.mem;
      return {
        state: 'FAILED',
        reason: 'CONTAINER_LIMITATION_MEMORY',
        message: `Task killed for exceeding its memory limit${mem ? ` of ${mem} MiB` : ''} (OOM killer)${how ? `; ${how}` : ''}`,
        ...(exitCode !== undefined && { exitCode }),
      };
    }
    if (exit.code === 0) return { state: 'FINISHED', message: describeExit(0), exitCode: 0 };
    if (exit.code !== undefined) return { state: 'FAILED', reason: 'COMMAND_EXECUTOR_FAILED', message: describeExit(exit.code), exitCode: exit.code };
    if (exit.signal) return { state: 'FAILED', reason: 'COMMAND_EXECUTOR_FAILED', message: `Command terminated by ${exit.signal}` };
    return { state: 'FAILED', reason: 'EXECUTOR_TERMINATED', message: exit.lost ?? 'the container ended and its exit status is unknown' };
  }

  // ---- health ----

  protected startHealth(entry: E, startedAtMs: number): void {
    const spec = entry.spec.healthCheck;
    if (spec === undefined || this.closed) return;
    const probe = networkProbe(spec) ?? (spec.command ? this.commandProbe(entry, spec.command) : undefined);
    if (probe === undefined) return;
    entry.health = new HealthChecker(
      spec,
      probe,
      {
        onHealthChange: (healthy, message) => {
          entry.healthy = healthy;
          if (entry.status.state === 'RUNNING') this.report(entry, { state: 'RUNNING', reason: 'TASK_HEALTH_CHECK_STATUS_UPDATED', message }, healthy);
        },
        onKill: (message) => {
          const grace = entry.spec.killGracePeriodMs ?? DEFAULT_KILL_GRACE_PERIOD_MS;
          void this.requestKill(entry, grace, 'TASK_HEALTH_CHECK_STATUS_UPDATED', message).catch((e: unknown) =>
            this.log(`health kill of ${entry.containerId} failed: ${(e as Error).message}`),
          );
        },
      },
      startedAtMs,
    );
    entry.health.start();
  }

  // ---- queries ----

  private get(ref: TaskRef): E {
    const entry = this.entries.get(refKey(ref));
    if (entry === undefined) throw new NotFoundError(`task ${ref.taskId} of framework ${ref.frameworkId} is not known to this containerizer`, 'task_id');
    return entry;
  }

  wait(ref: TaskRef): Promise<ContainerStatus> {
    try {
      return this.get(ref).done.promise;
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  status(ref: TaskRef): ContainerStatus | undefined {
    return this.entries.get(refKey(ref))?.status;
  }

  protected info(entry: E): ContainerInfo {
    const engineId = entry.state?.engineId;
    const st = entry.state;
    return {
      ...entry.ref,
      containerId: entry.containerId,
      ...(engineId !== undefined && { engineId }),
      sandboxDir: entry.sandboxDir,
      status: entry.status,
      spec: entry.spec,
      ...(st !== undefined && { resources: st.resources, launchedAt: st.launchedAt }),
    };
  }

  containers(): ContainerInfo[] {
    return [...this.entries.values()].map((e) => this.info(e));
  }

  async logs(ref: TaskRef, stream: LogStream, options: { readonly tailBytes?: number } = {}): Promise<LogRead> {
    const entry = this.get(ref);
    if (entry.sandboxDir === '') return { data: Buffer.alloc(0), totalBytes: 0, droppedBytes: 0, truncated: false };
    return readLog(join(entry.sandboxDir, stream), this.logCap, options.tailBytes);
  }

  // ---- destroy / close ----

  async destroy(ref: TaskRef): Promise<void> {
    const entry = this.entries.get(refKey(ref));
    if (entry === undefined) return;
    if (!isTerminal(entry.status.state)) {
      await this.requestKill(entry, 0, undefined, 'Task destroyed');
      await Promise.race([entry.done.promise, sleep(15_000, undefined, { unref: true })]);
    }
    await this.release(entry);
    entry.health?.stop();
    if (entry.killTimer) clearTimeout(entry.killTimer);
    removeState(this.options.workDir, entry.containerId);
    if (entry.sandboxDir !== '') rmSync(entry.sandboxDir, { recursive: true, force: true });
    this.entries.delete(entry.key);
    this.byContainerId.delete(entry.containerId);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const e of this.entries.values()) {
      e.health?.stop();
      if (e.killTimer) clearTimeout(e.killTimer);
    }
    await this.shutdown();
  }
}
