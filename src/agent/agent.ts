import { NotFoundError } from '../core/errors.js';
import { isValidId, type AgentId, type FrameworkId, type TaskId } from '../core/ids.js';
import { toSpec, type Resources } from '../core/resources.js';
import type { TaskSpec } from '../core/task.js';
import { isTerminal } from '../core/task-state.js';
import type { StatusUpdate } from '../wire/agent-api.js';
import { encodeResources } from '../wire/mesos-resources.js';
import { createLogger, type Logger } from '../core/logger.js';
import { startAgentEndpoint, type RunningEndpoint } from './agent-endpoint.js';
import { Backoff } from '../core/backoff.js';
import { sleep } from '../core/sleep.js';
import { refKey, type Containerizer, type ContainerStatus, type EngineHealth, type LaunchRequest, type LogRead, type LogStream, type TaskRef } from './containerizer/containerizer.js';
import { readStates } from './containerizer/state-file.js';
import { ContainerizerSet, type ContainerizerMode, type ContainerizerSetEvent } from './containerizers.js';
import { ApiError } from '../wire/api-error.js';
import { MasterClient, ReregisterRequired } from './master-client.js';
import type { LaunchWork, StatusResponse, StatusResult, WorkResponse } from '../wire/agent-api.js';
import { checkAgentOptions, resolveAgent, type AgentOptions, type ResolvedAgent } from './options.js';
import { StatusJournal, type TaskKeyed } from './status-journal.js';
import { StatusUpdateManager } from './status-update-manager.js';
import { isTerminalUpdateState, newStatusUuid, toStatusUpdate } from './status-update.js';
import { WorkDir } from './work-dir.js';

// The agent daemon: registers with the master (and again whenever the master asks), heartbeats,
// long-polls its work, runs tasks through the containerizers, and turns every state change into
// a journaled status update. After a restart it recovers its containers first, then registers
// with the tasks it still runs; the master answers with those it must kill.

export interface AgentHealth {
  readonly healthy: boolean;
  readonly message: string;
  readonly registered: boolean;
  /** Containerizers whose recovery has not finished (the Docker engine does not answer). */
  readonly recovering: readonly string[];
  readonly engine?: EngineHealth;
}

/** One task on this agent, as GET /api/v1/state shows it. */
export interface AgentTask {
  readonly framework_id: string;
  readonly task_id: string;
  readonly state: string;
  readonly containerizer: 'docker' | 'process';
  readonly container_id: string;
  readonly engine_id?: string;
  readonly sandbox: string;
  readonly reason?: string;
  readonly message?: string;
  readonly healthy?: boolean;
  readonly timestamp: number;
}

export type AgentEvent =
  | { readonly type: 'registered'; readonly agentId: string; readonly session: string; readonly killTasks: number }
  /** A work poll answered; `at` is performance.now(). */
  | { readonly type: 'work'; readonly at: number; readonly launch: readonly TaskKeyed[]; readonly kill: readonly TaskKeyed[]; readonly acks: number }
  | { readonly type: 'status'; readonly at: number; readonly update: StatusUpdate }
  | { readonly type: 'delivered'; readonly at: number; readonly update: StatusUpdate; readonly result: StatusResult }
  | { readonly type: 'health'; readonly health: AgentHealth }
  | { readonly type: 'message'; readonly frameworkId: string; readonly executorId: string; readonly data: string };

export type AgentListener = (event: AgentEvent) => void;

export interface AgentDaemon {
  /** Recovers, serves the endpoint, and resolves once registered with the master (it retries until then). */
  start(): Promise<void>;
  /**
   * Stops talking to the master and serving; tasks keep running for the next start to adopt
   * (a Mesos agent restart). With destroyTasks, kills and removes every task first.
   */
  stop(options?: { readonly destroyTasks?: boolean }): Promise<void>;
  readonly agentId: string | undefined;
  /** The agent endpoint's URL (registered with the master), once started. */
  readonly endpoint: string | undefined;
  readonly registered: boolean;
  health(): AgentHealth;
  tasks(): AgentTask[];
  /** Status updates not yet done (awaiting acknowledgement), in journal order. */
  pendingUpdates(): StatusUpdate[];
  subscribe(listener: AgentListener): () => void;
}

export function createAgent(options: AgentOptions): AgentDaemon {
  checkAgentOptions(options);
  return new StratusAgent(options);
}

/** Repeated work (a kill still in its grace period, a launch not yet STARTING) is polled for again after this pause. */
const REPEAT_PAUSE_MS = 250;

class StratusAgent implements AgentDaemon {
  private readonly log: Logger;
  private readonly workDir: WorkDir;
  private readonly client: MasterClient;
  private readonly mode: ContainerizerMode;
  private readonly abort = new AbortController();
  private readonly listeners = new Set<AgentListener>();
  private phase: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private stopping = false;

  private resolved: ResolvedAgent | undefined;
  private journal: StatusJournal | undefined;
  private updates: StatusUpdateManager | undefined;
  private server: RunningEndpoint | undefined;
  private endpointUrl: string | undefined;
  private id: AgentId | undefined;
  private containers: ContainerizerSet | undefined;
  private unsubscribe: (() => void) | undefined;
  private session: string | undefined;
  private registering: Promise<void> | undefined;
  private failedSession: string | undefined;
  private heartbeatMs = 15_000;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private gcTimer: NodeJS.Timeout | undefined;
  private workLoopDone: Promise<void> | undefined;
  private lastHealth: string | undefined;

  /** Launches handed to a containerizer and not yet answered. */
  private readonly launching = new Set<string>();
  /** Tasks a kill was passed on for (the master repeats kill work until the task ends). */
  private readonly killsPassed = new Set<string>();
  /** Containerizers still recovering (their engine does not answer). */
  private readonly recovering = new Set<Containerizer>();
  /** Tasks the master wants gone that no recovered containerizer has shown yet. */
  private readonly orphanKills = new Set<string>();
  /** The work version last applied, and the session it belongs to. */
  private workVersion: number | undefined;
  private workSession: string | undefined;
  /** Acknowledgements applied to the journal, to confirm with the next work poll. */
  private confirmedAcks: { framework_id: string; task_id: string; uuid: string }[] = [];

  constructor(private readonly options: AgentOptions) {
    this.log = options.log ?? createLogger('stratus-agent');
    this.workDir = new WorkDir(options.workDir);
    this.mode = options.containerizer ?? 'auto';
    this.client = new MasterClient(options.master, {
      ...(options.headers !== undefined && { headers: options.headers }),
      ...(options.timing?.requestTimeoutMs !== undefined && { requestTimeoutMs: options.timing.requestTimeoutMs }),
    });
  }

  get agentId(): string | undefined {
    return this.id;
  }

  get endpoint(): string | undefined {
    return this.endpointUrl;
  }

  get registered(): boolean {
    return this.session !== undefined;
  }

  subscribe(listener: AgentListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: AgentEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (e) {
        this.log.warn('agent event listener threw', { error: e });
      }
    }
  }

  // ---- start / stop ----

  async start(): Promise<void> {
    if (this.phase !== 'new') throw new Error(`the agent cannot start: it is ${this.phase}`);
    this.phase = 'starting';
    const timing = this.options.timing ?? {};
    try {
      this.workDir.create();
      this.workDir.lock(this);
      this.resolved = await resolveAgent(this.options, this.log);
      const journal = StatusJournal.open(this.workDir.journalPath, { log: (m) => this.log.warn(m) });
      this.journal = journal;
      this.updates = new StatusUpdateManager({
        journal,
        send: (updates) => this.sendStatus(updates),
        ...(timing.statusRetryInitialMs !== undefined && { retryInitialMs: timing.statusRetryInitialMs }),
        ...(timing.statusRetryMaxMs !== undefined && { retryMaxMs: timing.statusRetryMaxMs }),
        log: this.log,
        onReregister: () => this.reregister(this.failedSession),
        onKill: (task) => this.killOrphan(task),
        onAcknowledged: (ack) => this.confirmedAcks.push(ack),
        onResult: (update, result) => this.emit({ type: 'delivered', at: performance.now(), update, result }),
      });
      if (journal.size > 0) this.log.info('status updates to resend from the journal', { pending: journal.size });

      const host = this.options.host ?? '127.0.0.1';
      this.server = await startAgentEndpoint(this, { host, port: this.options.port ?? 5051, log: this.log.child({ component: 'endpoint' }) });
      const wildcard = host === '0.0.0.0' || host === '::';
      const advertiseHost = wildcard ? (this.resolved.ec2?.localIpv4 ?? this.resolved.hostname) : host.includes(':') ? `[${host}]` : host;
      this.endpointUrl = this.options.advertiseUrl ?? `http://${advertiseHost}:${this.server.port}`;

      const identity = this.workDir.readIdentity();
      if (identity !== undefined) await this.useAgentId(identity.agent_id as AgentId);
      await this.register();
      if (this.session === undefined) throw new Error('the agent was stopped before it registered');
      this.workLoopDone = this.workLoop();
      const gcEvery = timing.gcIntervalMs ?? 60_000;
      this.gcTimer = setInterval(() => this.collectGarbage(), gcEvery);
      this.gcTimer.unref();
      this.phase = 'running';
    } catch (e) {
      await this.teardown();
      throw e;
    }
  }

  async stop(options: { readonly destroyTasks?: boolean } = {}): Promise<void> {
    if (this.phase === 'stopped' || this.phase === 'new') {
      this.phase = 'stopped';
      return;
    }
    if (options.destroyTasks && this.containers) {
      const all = this.containers.containers();
      await Promise.all(all.map((i) => this.containers?.owner(i)?.destroy(i).catch((e: unknown) => this.log.warn('cannot destroy task', { taskId: i.taskId, error: e }))));
      for (const i of all) this.journal?.forget({ framework_id: i.frameworkId, task_id: i.taskId });
    }
    await this.teardown();
  }

  private async teardown(): Promise<void> {
    this.stopping = true;
    this.phase = 'stopped';
    this.abort.abort();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.gcTimer) clearInterval(this.gcTimer);
    this.updates?.stop();
    await this.workLoopDone;
    await this.registering;
    await this.server?.close();
    this.unsubscribe?.();
    await this.containers?.close();
    this.journal?.close();
    this.workDir.unlock(this);
  }

  // ---- containerizers and recovery ----

  private async useAgentId(id: AgentId): Promise<void> {
    const resolved = this.resolved!;
    const timing = this.options.timing ?? {};
    const set = await ContainerizerSet.create({
      mode: this.mode,
      agentId: id,
      workDir: this.workDir.root,
      agentPorts: resolved.resources.ports,
      dockerSocket: this.options.dockerSocket ?? '/var/run/docker.sock',
      ...(this.options.defaultImage !== undefined && { defaultImage: this.options.defaultImage }),
      ...(this.options.logCapBytes !== undefined && { logCapBytes: this.options.logCapBytes }),
      ...(timing.engineCheckIntervalMs !== undefined && { engineCheckIntervalMs: timing.engineCheckIntervalMs }),
      ...(timing.engineRetryMs !== undefined && { engineRetryMs: timing.engineRetryMs }),
      log: (m) => this.log.warn(m),
    });
    this.id = id;
    this.containers = set;
    this.unsubscribe = set.subscribe((e) => this.onContainerEvent(e));
    this.log.info('containerizers', { agentId: id, containerizers: set.description });
    const waits: Promise<unknown>[] = [];
    for (const c of set.list()) {
      this.recovering.add(c);
      const done = this.recoverWithRetry(set, c);
      // Host processes recover at once; an engine that does not answer must not hold up registration.
      waits.push(c.kind === 'process' ? done : Promise.race([done, sleep(timing.recoveryWaitMs ?? 5_000, this.abort.signal)]));
    }
    await Promise.all(waits);
  }

  private async recoverWithRetry(set: ContainerizerSet, c: Containerizer): Promise<void> {
    const backoff = new Backoff({ initialMs: 1_000, maxMs: 10_000, jitter: 0.2 });
    while (!this.stopping && this.containers === set) {
      try {
        const r = await c.recover();
        this.recovering.delete(c);
        if (r.recovered.length + r.orphans.length > 0) {
          this.log.info('recovered containers', { containerizer: c.kind, recovered: r.recovered.length, orphansRemoved: r.orphans.length });
        }
        if (!this.stopping && this.containers === set) this.afterRecovery(c);
        this.healthChanged();
        return;
      } catch (e) {
        if (this.stopping) return;
        this.log.warn('cannot recover containers yet; retrying', { containerizer: c.kind, error: (e as Error).message });
        this.healthChanged();
        await sleep(backoff.next(), this.abort.signal);
      }
    }
  }

  /**
   * Squares recovered containers with the journal: a state the journal never recorded (the
   * agent died between the change and its fsync) is reported now, and tasks the master wants
   * gone are removed.
   */
  private afterRecovery(c: Containerizer): void {
    for (const info of c.containers()) {
      const task = { framework_id: info.frameworkId, task_id: info.taskId };
      if (this.orphanKills.delete(refKey(info))) {
        this.killOrphan(task);
        continue;
      }
      const last = this.journal?.lastState(task);
      if (isTerminal(info.status.state)) {
        if (!isTerminalUpdateState(last)) this.reportStatus(info.status);
      } else if (last !== 'TASK_RUNNING' && !isTerminalUpdateState(last)) {
        this.reportStatus({ ...info.status, state: 'RUNNING', timestamp: Date.now() / 1000 });
      }
    }
    if (this.recovering.size === 0) this.orphanKills.clear();
  }

  /** The master gave this agent a new id (the old one was removed): nothing of the old one may run. */
  private async retire(): Promise<void> {
    const set = this.containers;
    if (set === undefined) return;
    this.containers = undefined;
    this.unsubscribe?.();
    this.recovering.clear();
    for (const info of set.containers()) {
      await set.owner(info)?.destroy(info).catch((e: unknown) => this.log.warn('cannot remove a task of the old agent id', { taskId: info.taskId, error: e }));
      this.journal?.forget({ framework_id: info.frameworkId, task_id: info.taskId });
    }
    await set.close();
  }

  // ---- registration ----

  /** Registers (single flight); resolves once registered, or when the agent stops. */
  private register(): Promise<void> {
    this.registering ??= this.registerLoop().finally(() => (this.registering = undefined));
    return this.registering;
  }

  /** Registers again unless someone already did since `failed` was turned down. */
  private async reregister(failed: string | undefined): Promise<void> {
    if (this.session !== undefined && this.session !== failed) {
      this.updates?.resume();
      return;
    }
    await this.register();
  }

  private async registerLoop(): Promise<void> {
    this.session = undefined;
    this.updates?.pause();
    const backoff = new Backoff({ initialMs: 200, maxMs: this.options.timing?.reconnectMaxMs ?? 5_000, jitter: 0.2 });
    while (!this.stopping) {
      try {
        await this.registerOnce();
        return;
      } catch (e) {
        if (this.stopping) return;
        const level = backoff.attempts >= 3 ? 'warn' : 'info';
        this.log[level]('cannot register with the master; retrying', { master: this.client.base, error: (e as Error).message });
        await sleep(backoff.next(), this.abort.signal);
      }
    }
  }

  /**
   * What this agent has, for (re)registration: running tasks, and ended ones whose final update
   * is still in the journal (the master waits for it rather than taking the task for lost).
   */
  private reportedTasks(): { framework_id: string; task_id: string; state: string }[] {
    const out = new Map<string, { framework_id: string; task_id: string; state: string }>();
    const pending = new Map<string, string>();
    for (const u of this.journal?.pending() ?? []) pending.set(`${u.framework_id}/${u.task_id}`, u.state);
    for (const i of this.containers?.containers() ?? []) {
      const k = refKey(i);
      if (!isTerminal(i.status.state) || pending.has(k)) out.set(k, { framework_id: i.frameworkId, task_id: i.taskId, state: `TASK_${i.status.state}` });
    }
    // Updates without a container (a kill that overtook its launch): their latest state.
    for (const [k, state] of pending) {
      if (out.has(k)) continue;
      const [framework_id = '', task_id = ''] = k.split('/');
      out.set(k, { framework_id, task_id, state });
    }
    // Containers the engine cannot show yet: their checkpoints say what runs.
    for (const c of this.recovering) {
      if (this.id === undefined) break;
      for (const st of readStates(this.workDir.root, c.kind, this.id, () => undefined)) {
        const k = `${st.frameworkId}/${st.taskId}`;
        if (st.terminal === undefined && !out.has(k)) out.set(k, { framework_id: st.frameworkId, task_id: st.taskId, state: st.engineId !== undefined ? 'TASK_RUNNING' : 'TASK_STARTING' });
      }
    }
    return [...out.values()].slice(0, 10_000);
  }

  private async registerOnce(): Promise<void> {
    const r = this.resolved!;
    const previous = this.id;
    const answer = await this.client.register(
      {
        ...(previous !== undefined && { agent_id: previous }),
        hostname: r.hostname,
        ...(this.endpointUrl !== undefined && { endpoint: this.endpointUrl }),
        resources: encodeResources(r.resources),
        attributes: { ...r.attributes },
        tasks: this.reportedTasks(),
      },
      this.abort.signal,
    );
    if (this.stopping) return;
    if (answer.agent_id !== previous || this.containers === undefined) {
      if (previous !== undefined && answer.agent_id !== previous) {
        this.log.warn('the master gave this agent a new id (the old one was removed); removing the old tasks', { previous, agentId: answer.agent_id });
        await this.retire();
      }
      this.workDir.writeIdentity({ agent_id: answer.agent_id, master: this.client.base });
      await this.useAgentId(answer.agent_id as AgentId);
    }
    this.session = answer.session;
    this.heartbeatMs = this.options.timing?.heartbeatIntervalMs ?? answer.heartbeat_interval_seconds * 1000;
    for (const k of answer.kill_tasks) {
      this.log.warn('the master does not want a task this agent runs; killing it', { frameworkId: k.framework_id, taskId: k.task_id });
      this.killOrphan(k);
    }
    this.log.info(previous === undefined ? 'agent registered' : 'agent reregistered', { agentId: answer.agent_id, master: this.client.base, endpoint: this.endpointUrl, attributes: r.attributes });
    this.emit({ type: 'registered', agentId: answer.agent_id, session: answer.session, killTasks: answer.kill_tasks.length });
    this.restartHeartbeat();
    this.updates?.resume();
  }

  // ---- heartbeats and health ----

  private restartHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private async heartbeat(): Promise<void> {
    const session = this.session;
    const id = this.id;
    if (session === undefined || id === undefined || this.stopping) return;
    const h = this.health();
    try {
      await this.client.heartbeat(id, { session, healthy: h.healthy, ...(!h.healthy && { message: h.message.slice(0, 1024) }) }, this.abort.signal);
    } catch (e) {
      if (this.stopping) return;
      if (e instanceof ReregisterRequired) void this.reregister(session);
      else this.log.debug('heartbeat failed', { error: (e as Error).message });
    }
  }

  health(): AgentHealth {
    const engine = this.containers?.engineHealth();
    const recovering = [...this.recovering].map((c) => c.kind);
    const down = engine?.state === 'UNHEALTHY';
    const message = down ? engine.message : recovering.length > 0 ? `recovering ${recovering.join(', ')} containers` : this.session === undefined ? 'not registered with the master' : 'ok';
    return { healthy: !down, message, registered: this.session !== undefined, recovering, ...(engine !== undefined && { engine }) };
  }

  private healthChanged(): void {
    const h = this.health();
    const sig = `${h.healthy}|${h.message}`;
    if (sig === this.lastHealth) return;
    const wasKnown = this.lastHealth !== undefined;
    this.lastHealth = sig;
    if (h.healthy) {
      if (wasKnown) this.log.info('agent healthy', { message: h.message });
    } else this.log.warn('agent unhealthy', { message: h.message });
    this.emit({ type: 'health', health: h });
    void this.heartbeat();
  }

  // ---- work ----

  private async workLoop(): Promise<void> {
    const backoff = new Backoff({ initialMs: 200, maxMs: this.options.timing?.reconnectMaxMs ?? 5_000, jitter: 0.2 });
    const wait = this.options.timing?.longPollSeconds ?? 20;
    while (!this.stopping) {
      const session = this.session;
      const id = this.id;
      if (session === undefined || id === undefined) {
        await this.register();
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
        work = await this.client.work(
          id,
          { session, wait_seconds: wait, ...(confirmed.length > 0 && { confirmed_acks: confirmed }), ...(this.workVersion !== undefined && { since_version: this.workVersion }) },
          this.abort.signal,
        );
      } catch (e) {
        this.confirmedAcks.unshift(...confirmed);
        if (this.stopping) return;
        if (e instanceof ReregisterRequired) {
          this.log.info('the master asks this agent to register again', { reason: e.message });
          await this.reregister(session);
          continue;
        }
        const level = backoff.attempts >= 3 ? 'warn' : 'debug';
        this.log[level]('work poll failed; retrying', { error: (e as Error).message });
        await sleep(backoff.next(), this.abort.signal);
        continue;
      }
      backoff.reset();
      let news = false;
      try {
        news = this.handleWork(work);
        if (work.version !== undefined) this.workVersion = work.version;
      } catch (e) {
        this.log.error('handling work failed', { error: e });
      }
      if (!news) await sleep(REPEAT_PAUSE_MS, this.abort.signal);
    }
  }

  /** Applies one work answer; true when it held anything not seen before. */
  private handleWork(work: WorkResponse): boolean {
    this.emit({
      type: 'work',
      at: performance.now(),
      launch: work.launch.map((l) => ({ framework_id: l.framework_id, task_id: l.task_id })),
      kill: work.kill.map((k) => ({ framework_id: k.framework_id, task_id: k.task_id })),
      acks: work.acks.length,
    });
    let news = work.acks.length > 0 || work.messages.length > 0;
    for (const a of work.acks) {
      this.updates?.acknowledge(a.uuid);
      this.confirmedAcks.push(a);
    }
    for (const l of work.launch) if (this.launchTask(l)) news = true;
    for (const k of work.kill) if (this.killTask(k)) news = true;
    for (const m of work.messages) {
      // Stratus runs no custom executors: a framework message is logged (Mesos would hand it to the executor).
      const preview = Buffer.from(m.data, 'base64').toString('utf8').slice(0, 256);
      this.log.info('framework message', { frameworkId: m.framework_id, executorId: m.executor_id, bytes: Math.floor((m.data.length * 3) / 4), preview });
      this.emit({ type: 'message', frameworkId: m.framework_id, executorId: m.executor_id, data: m.data });
    }
    return news;
  }

  private refOf(t: TaskKeyed): TaskRef | undefined {
    if (!isValidId(t.framework_id) || !isValidId(t.task_id)) return undefined;
    return { frameworkId: t.framework_id as FrameworkId, taskId: t.task_id as TaskId };
  }

  private launchTask(item: LaunchWork): boolean {
    const ref = this.refOf(item);
    const set = this.containers;
    const id = this.id;
    if (ref === undefined) {
      this.log.warn('ignoring launch work with a malformed task id', { frameworkId: item.framework_id, taskId: item.task_id });
      return false;
    }
    if (set === undefined || id === undefined) return false; // between agent ids: the launch comes again
    const key = refKey(ref);
    // The master repeats a launch until it has applied STARTING, and the framework cannot have
    // acknowledged STARTING before that: while the task has updates pending, it is a repeat.
    if (this.launching.has(key) || this.journal?.hasPending(item)) return false;
    const previous = set.owner(ref);
    const before = previous?.status(ref);
    if (before !== undefined && !isTerminal(before.state)) return false;
    const c = set.pick(item.spec);
    const req: LaunchRequest = { ...ref, agentId: id, spec: item.spec as TaskSpec, resources: item.resources as Resources };
    this.launching.add(key);
    this.log.info('launching task', { frameworkId: ref.frameworkId, taskId: ref.taskId, containerizer: c.kind });
    // A task id used again (the earlier task ended and was forgotten by the master): a new run.
    const cleared = previous !== undefined ? previous.destroy(ref).then(() => this.journal?.forget(item)) : Promise.resolve();
    void cleared
      .then(() => c.launch(req))
      .catch((e: unknown) => this.log.error('launch failed unexpectedly', { taskId: ref.taskId, error: e }))
      .finally(() => this.launching.delete(key));
    return true;
  }

  private killTask(item: TaskKeyed & { readonly grace_period_ms?: number }): boolean {
    const ref = this.refOf(item);
    const set = this.containers;
    if (ref === undefined || set === undefined) return false;
    const key = refKey(ref);
    const owner = set.owner(ref);
    if (owner !== undefined) {
      const st = owner.status(ref);
      if (st === undefined || isTerminal(st.state) || this.killsPassed.has(key)) return false;
      this.killsPassed.add(key);
      this.log.info('killing task', { frameworkId: ref.frameworkId, taskId: ref.taskId, gracePeriodMs: item.grace_period_ms });
      void owner
        .kill(ref, item.grace_period_ms !== undefined ? { gracePeriodMs: item.grace_period_ms } : {})
        .catch((e: unknown) => this.log.error('kill failed unexpectedly', { taskId: ref.taskId, error: e }));
      return true;
    }
    // Not here (yet): a launch in progress, or containers still to recover, will show it; the kill comes again.
    if (this.launching.has(key) || this.recovering.size > 0 || this.journal?.lastState(item) !== undefined) return false;
    // The kill overtook the launch: the task never reached this agent.
    this.reportUpdate({
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

  /** A task the master does not want (kill_tasks, or unknown_task with kill): killed and removed. */
  private killOrphan(task: TaskKeyed): void {
    const ref = this.refOf(task);
    if (ref === undefined) return;
    const owner = this.containers?.owner(ref);
    if (owner === undefined) {
      // Maybe in a container still to recover: removed once it shows up.
      if (this.recovering.size > 0) this.orphanKills.add(refKey(ref));
      return;
    }
    void owner
      .destroy(ref)
      .then(() => this.journal?.forget(task))
      .catch((e: unknown) => this.log.error('cannot remove an orphan task', { taskId: ref.taskId, error: e }));
  }

  // ---- status updates ----

  private onContainerEvent(e: ContainerizerSetEvent): void {
    if (e.type === 'engine') {
      this.healthChanged();
      return;
    }
    this.reportStatus(e.status);
  }

  private reportStatus(status: ContainerStatus): void {
    const update = toStatusUpdate(status);
    if (update === undefined) {
      this.log.warn('a containerizer reported a status for a malformed task id; not sent', { taskId: status.taskId, state: status.state, message: status.message });
      return;
    }
    if (isTerminal(status.state)) this.killsPassed.delete(refKey(status));
    const level = status.state === 'RUNNING' || status.state === 'STARTING' || status.state === 'FINISHED' ? 'debug' : 'info';
    this.log[level]('task status', { taskId: status.taskId, state: status.state, reason: status.reason, message: status.message });
    this.reportUpdate(update);
  }

  private reportUpdate(update: StatusUpdate): void {
    this.updates?.report(update);
    this.emit({ type: 'status', at: performance.now(), update });
  }

  private async sendStatus(updates: StatusUpdate[]): Promise<StatusResponse> {
    const session = this.session;
    const id = this.id;
    if (session === undefined || id === undefined) throw new ApiError(0, 'not registered');
    try {
      return await this.client.status(id, { session, updates }, this.abort.signal);
    } catch (e) {
      if (e instanceof ReregisterRequired) this.failedSession = session;
      throw e;
    }
  }

  pendingUpdates(): StatusUpdate[] {
    return this.updates?.pending() ?? [];
  }

  // ---- completed tasks ----

  /** Removes ended tasks' sandboxes once their updates are done and they are old (or too many). */
  private collectGarbage(): void {
    const set = this.containers;
    const journal = this.journal;
    if (set === undefined || journal === undefined) return;
    const timing = this.options.timing ?? {};
    const retention = timing.completedTaskRetentionMs ?? 3_600_000;
    const max = timing.maxCompletedTasks ?? 500;
    const pendingTasks = new Set(journal.pending().map((u) => `${u.framework_id}/${u.task_id}`));
    const ended = set
      .containers()
      .filter((i) => isTerminal(i.status.state) && !pendingTasks.has(refKey(i)))
      .sort((a, b) => a.status.timestamp - b.status.timestamp);
    const now = Date.now();
    ended.forEach((info, i) => {
      const expired = info.status.timestamp * 1000 + retention <= now || ended.length - i > max;
      if (!expired) return;
      void set
        .owner(info)
        ?.destroy(info)
        .then(() => journal.forget({ framework_id: info.frameworkId, task_id: info.taskId }))
        .catch((e: unknown) => this.log.warn('cannot remove an ended task', { taskId: info.taskId, error: e }));
    });
  }

  // ---- the agent endpoint ----

  tasks(): AgentTask[] {
    return (this.containers?.containers() ?? []).map((i) => ({
      framework_id: i.frameworkId,
      task_id: i.taskId,
      state: `TASK_${i.status.state}`,
      containerizer: i.containerizer,
      container_id: i.containerId,
      ...(i.engineId !== undefined && { engine_id: i.engineId }),
      sandbox: i.sandboxDir,
      ...(i.status.reason !== undefined && { reason: `REASON_${i.status.reason}` }),
      ...(i.status.message !== undefined && { message: i.status.message }),
      ...(i.status.healthy !== undefined && { healthy: i.status.healthy }),
      timestamp: i.status.timestamp,
    }));
  }

  state(): Record<string, unknown> {
    const r = this.resolved;
    const res = r ? toSpec(r.resources) : undefined;
    return {
      agent_id: this.id ?? null,
      hostname: r?.hostname ?? null,
      endpoint: this.endpointUrl ?? null,
      master: this.client.base,
      registered: this.registered,
      health: this.health(),
      attributes: r?.attributes ?? {},
      resources: r ? encodeResources(r.resources) : [],
      ports: res?.ports ?? [],
      containerizers: this.containers?.list().map((c) => c.kind) ?? [],
      pending_status_updates: this.journal?.size ?? 0,
      tasks: this.tasks(),
    };
  }

  async logs(ref: TaskRef, stream: LogStream, tailBytes: number | undefined): Promise<LogRead> {
    const owner = this.containers?.owner(ref);
    if (owner === undefined) throw new NotFoundError(`task ${ref.taskId} of framework ${ref.frameworkId} is not on this agent`, 'task_id');
    return owner.logs(ref, stream, tailBytes !== undefined ? { tailBytes } : {});
  }
}
