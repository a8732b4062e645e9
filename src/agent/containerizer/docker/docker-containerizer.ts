import { hostname, availableParallelism } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { UnavailableError } from '../../../core/errors.js';
import type { CommandSpec, PullPolicy } from '../../../core/task.js';
import { isTerminal } from '../../../core/task-state.js';
import { BaseContainerizer, type Entry, type ExitInfo } from '../base.js';
import {
  nowSeconds,
  refKey,
  type ContainerInfo,
  type ContainerizerOptions,
  type EngineHealth,
  type LaunchRequest,
  type RecoverOptions,
  type RecoveryResult,
  type TaskRef,
} from '../containerizer.js';
import type { HealthProbe } from '../health-check.js';
import type { ContainerStateFile } from '../state-file.js';
import { LABEL_AGENT_ID, LABEL_CONTAINER_ID, type ValidatedLaunch } from '../validation.js';
import { createOptions } from './create-options.js';
import { CONFLICT, dockerMessage, EngineUnavailableError, httpStatus, ImageUnavailableError, NOT_FOUND, NOT_MODIFIED } from './engine-errors.js';
import { EngineMonitor, type EngineStats } from './engine-monitor.js';
import { EventStream } from './event-stream.js';
import { execProbe } from './exec-probe.js';
import { pullImage } from './image-pull.js';
import { namesImage, validateDockerLaunch } from './launch-validation.js';
import { LogFollower } from './log-follower.js';
import { recoverContainers, type RecoveryHost } from './recovery.js';

// Runs each task as a Docker container through dockerode, like Mesos's Docker containerizer:
// host networking by default, CFS quota + hard memory limit from the task's resources, Stratus
// labels for recovery, output copied into capped <sandbox>/stdout|stderr files.
//
// This file is the container lifecycle (launch, kill, settle an exit, remove, adopt) and ties
// the parts together: the engine monitor (engine-monitor.ts), the event stream
// (event-stream.ts), one log follower per container (log-follower.ts), and recovery
// (recovery.ts).
//
// Watching: the event stream signals `die` and `oom`; a container's log follow ends when it
// exits. Either triggers `settle`, which inspects the container for the exit code and
// OOMKilled. When the engine stops answering the monitor reports it UNHEALTHY and pings until it
// answers; then the event and log streams re-attach (with `since`, so nothing is lost or
// duplicated) and every tracked container is reconciled. A task is never failed just because
// the engine was away.

export interface DockerContainerizerOptions extends ContainerizerOptions {
  /** Default /var/run/docker.sock. */
  readonly socketPath?: string;
  /** Image for tasks that carry a command but no container (Mesos would use its own containerizer). */
  readonly defaultImage?: string;
  /** Run an init (docker-init) as PID 1 so SIGTERM reaches the task and zombies are reaped. Default true. */
  readonly init?: boolean;
  /** Default 5 min. */
  readonly pullTimeoutMs?: number;
  /** Bound on one API request/response; a silent engine counts as unavailable. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** How long a launch (or recover) waits for an unavailable engine before failing. Default 30 s. */
  readonly engineRetryMs?: number;
  /** Ping period while healthy (1 s while unhealthy). Default 5 s. */
  readonly engineCheckIntervalMs?: number;
  /** Remove a container once its terminal status is reported (its logs are in the sandbox). Default true. */
  readonly removeOnExit?: boolean;
}

export type DockerContainerizerStats = EngineStats;

const CURSOR_FLUSH_MS = 1_000;

interface DockerEntry extends Entry {
  dockerId: string | undefined;
  readonly name: string;
  launching: Promise<void> | undefined;
  oomSeen: boolean;
  readonly logs: LogFollower;
  settling: Promise<void> | undefined;
  resettle: boolean;
  removed: boolean;
}

export class DockerContainerizer extends BaseContainerizer<DockerEntry> {
  readonly kind = 'docker' as const;
  private readonly socketPath: string;
  /** Request/response calls, each bounded by requestTimeoutMs. */
  private readonly api: Docker;
  /** Long-lived streams (events, logs, exec, pull): bounded until the response starts only. */
  private readonly streams: Docker;
  private readonly opts: Required<Pick<DockerContainerizerOptions, 'init' | 'pullTimeoutMs' | 'requestTimeoutMs' | 'engineRetryMs' | 'engineCheckIntervalMs' | 'removeOnExit'>>;
  private readonly monitor: EngineMonitor;
  private readonly events: EventStream;
  private started = false;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(private readonly dockerOptions: DockerContainerizerOptions) {
    super(dockerOptions);
    this.socketPath = dockerOptions.socketPath ?? '/var/run/docker.sock';
    this.opts = {
      init: dockerOptions.init ?? true,
      pullTimeoutMs: dockerOptions.pullTimeoutMs ?? 300_000,
      requestTimeoutMs: dockerOptions.requestTimeoutMs ?? 30_000,
      engineRetryMs: dockerOptions.engineRetryMs ?? 30_000,
      engineCheckIntervalMs: dockerOptions.engineCheckIntervalMs ?? 5_000,
      removeOnExit: dockerOptions.removeOnExit ?? true,
    };
    this.api = new Docker({ socketPath: this.socketPath, timeout: this.opts.requestTimeoutMs });
    // docker-modem's connectionTimeout (not in @types/dockerode) bounds the wait for the response head only.
    this.streams = new Docker({ socketPath: this.socketPath, connectionTimeout: this.opts.requestTimeoutMs } as Docker.DockerOptions);
    const closed = (): boolean => this.closed;
    this.monitor = new EngineMonitor({
      api: this.api,
      socketPath: this.socketPath,
      checkIntervalMs: this.opts.engineCheckIntervalMs,
      retryMs: this.opts.engineRetryMs,
      health: () => this.engineHealth(),
      setHealth: (state, message) => this.setEngine(state, message),
      attach: async () => {
        if (!this.events.attached) await this.events.connect().catch((e: unknown) => this.monitor.noteFailure('events', e));
        return this.events.attached;
      },
      closed,
      log: this.log,
    });
    this.events = new EventStream({
      streams: this.streams,
      agentId: this.options.agentId,
      closed,
      onAttached: () => {
        this.monitor.up();
        // Whatever happened while no stream was attached, find out from the containers themselves.
        this.reconcile();
      },
      onContainerEvent: (action, containerId) => this.onContainerEvent(action, containerId),
      onError: (e) => this.monitor.noteFailure('event stream', e),
      onLost: () => this.monitor.recheck(),
    });
  }

  // ---- the engine ----

  private ensureStarted(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.flushTimer = setInterval(() => this.flushCursors(), CURSOR_FLUSH_MS);
    this.flushTimer.unref();
    this.monitor.start();
  }

  async checkEngine(): Promise<EngineHealth> {
    this.ensureStarted();
    await this.monitor.ping();
    return this.engineHealth();
  }

  /** Counters of the engine monitor (for tests and diagnostics). */
  stats(): DockerContainerizerStats {
    return this.monitor.stats();
  }

  /** Attaches the event stream, retrying while the engine does not answer; throws if it cannot. */
  private attachEvents(): Promise<void> {
    return this.monitor.withEngine('connecting the event stream', () => this.events.connect().then(() => this.events.require()));
  }

  private onContainerEvent(action: string | undefined, containerId: string): void {
    const entry = this.byContainerId.get(containerId);
    if (entry === undefined) return;
    if (action === 'oom') entry.oomSeen = true;
    else if (action === 'die' || action === 'destroy') void this.settle(entry);
  }

  /** After an outage or reconnect: re-check every live container, resume kills, re-attach logs. */
  private reconcile(): void {
    for (const entry of this.entries.values()) {
      if (entry.dockerId === undefined || entry.launching) continue;
      if (isTerminal(entry.status.state)) {
        if (!entry.removed && this.opts.removeOnExit && entry.state !== undefined) void this.release(entry);
        continue;
      }
      void this.settle(entry, true);
    }
  }

  // ---- launch ----

  protected override hasImage(req: LaunchRequest): boolean {
    return namesImage(req);
  }

  protected validateMore(req: LaunchRequest, _v: ValidatedLaunch): void {
    validateDockerLaunch(req, this.dockerOptions.defaultImage);
  }

  protected newEntry(base: Entry, _req: LaunchRequest, _v: ValidatedLaunch): DockerEntry {
    return this.dockerEntry(base, undefined);
  }

  private dockerEntry(base: Entry, dockerId: string | undefined): DockerEntry {
    const entry: DockerEntry = {
      ...base,
      dockerId,
      name: `stratus-${base.containerId}`,
      launching: undefined,
      oomSeen: false,
      logs: new LogFollower(base.containerId, base.sandboxDir, this.logCap, base.state?.logCursors, {
        streams: this.streams,
        api: this.api,
        closed: () => this.closed,
        log: this.log,
        onStopped: () => void this.settle(entry),
        onFailure: (what, e) => this.monitor.noteFailure(what, e),
      }),
      settling: undefined,
      resettle: false,
      removed: false,
    };
    return entry;
  }

  protected start(entry: DockerEntry, v: ValidatedLaunch): Promise<void> {
    entry.launching = this.doStart(entry, v).finally(() => (entry.launching = undefined));
    return entry.launching;
  }

  private async doStart(entry: DockerEntry, v: ValidatedLaunch): Promise<void> {
    const spec = entry.spec;
    const image = spec.container?.docker?.image ?? this.dockerOptions.defaultImage ?? '';
    const policy: PullPolicy = spec.container?.docker?.pullPolicy ?? 'IF_NOT_PRESENT';
    try {
      this.ensureStarted();
      // The event stream must be attached before the container can die, or its exit could be missed.
      await this.attachEvents();
      if (policy === 'ALWAYS') await this.pull(image);
      const options = createOptions({
        name: entry.name,
        image,
        task: entry.ref,
        agentId: this.options.agentId,
        containerId: entry.containerId,
        spec,
        resources: entry.state?.resources ?? { cpus: 0, mem: 0 },
        ports: v.ports,
        network: v.network,
        init: this.opts.init,
        logCapBytes: this.logCap,
        host: { hostname: hostname(), cpuCount: availableParallelism() },
      });
      let id: string;
      try {
        id = await this.create(entry, options);
      } catch (e) {
        // No such image.
        if (httpStatus(e) !== NOT_FOUND) throw e;
        if (policy === 'NEVER') throw new ImageUnavailableError(`image '${image}' is not present on this agent and its pull policy is NEVER`);
        await this.pull(image);
        id = await this.create(entry, options);
      }
      entry.dockerId = id;
      this.checkpoint(entry, { engineId: id });
      if (entry.state?.killRequestedAt !== undefined) {
        await this.release(entry);
        this.report(entry, { state: 'KILLED', reason: 'TASK_KILLED_DURING_LAUNCH', message: 'Task killed before its container started' });
        return;
      }
      try {
        await this.monitor.withEngine('starting the container', () => this.api.getContainer(id).start());
      } catch (e) {
        // Already started by an earlier attempt whose answer was lost.
        if (httpStatus(e) !== NOT_MODIFIED) throw e;
      }
      const startedAt = Date.now();
      this.report(entry, { state: 'RUNNING' });
      void this.followLogs(entry);
      this.startHealth(entry, startedAt);
      if (entry.state?.killRequestedAt !== undefined) void this.resumeKill(entry);
    } catch (e) {
      const message = e instanceof UnavailableError || e instanceof ImageUnavailableError ? e.message : `Failed to launch container: ${dockerMessage(e)}`;
      if (entry.dockerId !== undefined) await this.release(entry);
      this.report(entry, { state: 'FAILED', reason: 'CONTAINER_LAUNCH_FAILED', message });
    }
  }

  private async create(entry: DockerEntry, options: Docker.ContainerCreateOptions): Promise<string> {
    try {
      const c = await this.monitor.withEngine('creating the container', () => this.api.createContainer(options));
      return c.id;
    } catch (e) {
      // The name is taken: a retried create whose first answer was lost finds its own container under it.
      if (httpStatus(e) !== CONFLICT) throw e;
      const info = await this.monitor.withEngine('inspecting the container', () => this.api.getContainer(entry.name).inspect());
      if (info.Config.Labels?.[LABEL_CONTAINER_ID] !== entry.containerId) throw e;
      return info.Id;
    }
  }

  private async pull(image: string): Promise<void> {
    try {
      await this.monitor.withEngine('pulling the image', () => pullImage(this.streams, image, this.opts.pullTimeoutMs));
    } catch (e) {
      if (e instanceof EngineUnavailableError) throw e;
      throw new ImageUnavailableError(`image '${image}' could not be pulled: ${dockerMessage(e)}`);
    }
  }

  // ---- logs ----

  private async followLogs(entry: DockerEntry): Promise<void> {
    if (this.closed || entry.dockerId === undefined || isTerminal(entry.status.state)) return;
    await entry.logs.follow(entry.dockerId);
  }

  private flushCursors(): void {
    for (const entry of this.entries.values()) {
      const moved = entry.logs.takeMoved();
      if (moved !== undefined) this.checkpoint(entry, { logCursors: moved });
    }
  }

  // ---- exits ----

  /** Finds out whether the container ended, and if so reports how (once). */
  private settle(entry: DockerEntry, afterOutage = false): Promise<void> {
    if (isTerminal(entry.status.state)) return Promise.resolve();
    if (entry.settling) {
      entry.resettle = true;
      return entry.settling;
    }
    entry.resettle = false;
    entry.settling = this.doSettle(entry, afterOutage).finally(() => {
      entry.settling = undefined;
      if (entry.resettle && !isTerminal(entry.status.state) && !this.closed) void this.settle(entry);
    });
    return entry.settling;
  }

  private async doSettle(entry: DockerEntry, afterOutage: boolean): Promise<void> {
    try {
      if (entry.launching) await entry.launching;
      const id = entry.dockerId;
      if (isTerminal(entry.status.state) || id === undefined) return;
      let info: Docker.ContainerInspectInfo;
      try {
        info = await this.api.getContainer(id).inspect();
      } catch (e) {
        if (httpStatus(e) !== NOT_FOUND) throw e;
        entry.removed = true;
        this.finish(entry, { lost: 'the container was removed outside the containerizer' });
        return;
      }
      const s = info.State;
      if (s.Running || s.Restarting || s.Paused) {
        void this.followLogs(entry);
        if (afterOutage) await this.resumeKill(entry);
        return;
      }
      if (s.Status === 'created') {
        await this.release(entry);
        this.report(entry, { state: 'FAILED', reason: 'AGENT_RESTARTED', message: 'the agent restarted before the container started' });
        return;
      }
      await entry.logs.drain(id);
      // Removed before the terminal status goes out, so that "ended" means "nothing left".
      if (this.opts.removeOnExit) await this.release(entry);
      // cgroup v1 engines set OOMKilled; the `oom` event plus SIGKILL's 137 is the fallback.
      this.finish(entry, { code: s.ExitCode, oom: s.OOMKilled || (s.ExitCode === 137 && entry.oomSeen) });
    } catch (e) {
      this.monitor.noteFailure(`settling container ${entry.containerId}`, e);
    }
  }

  private finish(entry: DockerEntry, exit: ExitInfo): void {
    entry.logs.close();
    this.checkpoint(entry, { logCursors: entry.logs.position() });
    this.report(entry, this.terminalFor(entry, exit));
  }

  // ---- kill / remove ----

  protected async signal(entry: DockerEntry, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const id = entry.dockerId;
    if (id === undefined || isTerminal(entry.status.state)) return;
    try {
      await this.api.getContainer(id).kill({ signal });
    } catch (e) {
      const status = httpStatus(e);
      // Not running (409) or gone (404): it ended on its own; settle reports how.
      if (status === NOT_FOUND || status === CONFLICT) void this.settle(entry);
      else this.monitor.noteFailure(`${signal} to container ${entry.containerId}`, e);
    }
  }

  protected async release(entry: DockerEntry): Promise<void> {
    const id = entry.dockerId;
    if (id === undefined || entry.removed) return;
    try {
      await this.api.getContainer(id).remove({ force: true });
      entry.removed = true;
    } catch (e) {
      if (httpStatus(e) === NOT_FOUND) entry.removed = true;
      else this.monitor.noteFailure(`removing container ${entry.containerId}`, e);
    }
  }

  // ---- health ----

  protected commandProbe(entry: DockerEntry, command: CommandSpec): HealthProbe {
    return execProbe(this.streams, entry.spec, command, () => entry.dockerId);
  }

  // ---- recovery ----

  async recover(options: RecoverOptions = {}): Promise<RecoveryResult> {
    this.ensureStarted();
    return recoverContainers(this.recoveryHost(), options);
  }

  private recoveryHost(): RecoveryHost<DockerEntry> {
    return {
      agentId: this.options.agentId,
      workDir: this.options.workDir,
      removeOnExit: this.opts.removeOnExit,
      log: this.log,
      listContainers: async () => {
        await this.attachEvents();
        return this.monitor.withEngine('listing containers', () => this.api.listContainers({ all: true, filters: { label: [`${LABEL_AGENT_ID}=${this.options.agentId}`] } }));
      },
      removeContainer: (dockerId) => this.monitor.withEngine('removing an orphan container', () => this.api.getContainer(dockerId).remove({ force: true })),
      watches: (containerId) => this.byContainerId.has(containerId),
      tracks: (ref) => this.entries.has(refKey(ref)),
      adopt: (ref, containerId, dockerId, state) => this.adopt(ref, containerId, dockerId, state),
      watch: (entry, launchedAtMs) => {
        void this.followLogs(entry);
        this.startHealth(entry, launchedAtMs);
        if (entry.state?.killRequestedAt !== undefined) void this.resumeKill(entry);
      },
      settle: (entry) => this.settle(entry),
      release: (entry) => this.release(entry),
      report: (entry, change) => void this.report(entry, change),
      finish: (entry, exit) => this.finish(entry, exit),
      info: (entry) => this.info(entry),
    };
  }

  private adopt(ref: TaskRef, containerId: string, dockerId: string | undefined, state: ContainerStateFile | undefined): DockerEntry {
    const sandboxDir = state?.sandboxDir ?? join(this.options.workDir, 'containers', containerId);
    const status = state?.terminal
      ? { ...ref, containerId, ...state.terminal, reason: state.terminal.reason as ContainerInfo['status']['reason'] }
      : { ...ref, containerId, state: 'RUNNING' as const, timestamp: nowSeconds() };
    const entry = this.dockerEntry(this.baseEntry(ref, containerId, sandboxDir, state?.spec ?? { name: ref.taskId }, state, status), dockerId);
    if (state?.terminal) entry.done.resolve(status);
    this.register(entry);
    return entry;
  }

  protected async shutdown(): Promise<void> {
    this.monitor.stop();
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushCursors();
    this.events.close();
    for (const entry of this.entries.values()) entry.logs.detach();
  }
}
