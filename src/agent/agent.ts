import { NotFoundError } from '../core/errors.js';
import type { AgentId, FrameworkId, TaskId } from '../core/ids.js';
import { toSpec } from '../core/resources.js';
import { isTerminal } from '../core/task-state.js';
import type { RegisterRequest, StatusUpdate } from '../wire/agent-api.js';
import { encodeResources } from '../wire/mesos-resources.js';
import { createLogger, type Logger } from '../core/logger.js';
import { startAgentEndpoint, type RunningEndpoint } from './agent-endpoint.js';
import type { AgentEvent, AgentHealth, AgentListener } from './agent-events.js';
import { Backoff } from '../core/backoff.js';
import { sleep } from '../core/sleep.js';
import { refKey, type Containerizer, type ContainerStatus, type LogRead, type LogStream, type TaskRef } from './containerizer/containerizer.js';
import { readStates } from './containerizer/state-file.js';
import { ContainerizerSet, type ContainerizerMode, type ContainerizerSetEvent } from './containerizers.js';
import { MasterClient, type MasterChannel } from './master-client.js';
import { SocketMasterClient } from './master-socket.js';
import { MasterSession } from './master-session.js';
import { checkAgentOptions, resolveAgent, type AgentOptions, type ResolvedAgent } from './options.js';
import { StatusJournal, type TaskKeyed } from './status-journal.js';
import { AgentMetrics } from './metrics.js';
import { StatusUpdateManager } from './status-update-manager.js';
import { isTerminalUpdateState, taskRefOf, toStatusUpdate } from './status-update.js';
import { WorkDir } from './work-dir.js';
import { WorkLoop } from './work-loop.js';
import { ReaderAccess, type ReaderGrant } from './reader-access.js';
import type { AgentOperatorView } from './operator-endpoint.js';
import { ExecutorManager, type ExecutorView } from './executor/executor-manager.js';

export type { AgentEvent, AgentHealth, AgentListener } from './agent-events.js';

// The agent daemon: registers with the master (and again whenever the master asks), heartbeats,
// long-polls its work, runs tasks through the containerizers, and turns every state change into
// a journaled status update. After a restart it recovers its containers first, then registers
// with the tasks it still runs; the master answers with those it must kill.
//
// This file wires the parts: the master session (master-session.ts: registration, heartbeats,
// the session status updates go under), the work loop (work-loop.ts: launches, kills, acks,
// messages), the containerizers and their recovery, the status update manager, the agent
// endpoint, and the removal of ended tasks.

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
  /** Set for a task that runs on a custom executor. */
  readonly executor_id?: string;
  readonly timestamp: number;
}

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
  /** The custom executors on this agent and their tasks. */
  customExecutors?(): ExecutorView[];
  subscribe(listener: AgentListener): () => void;
}

export function createAgent(options: AgentOptions): AgentDaemon {
  checkAgentOptions(options);
  return new StratusAgent(options);
}

class StratusAgent implements AgentDaemon {
  private readonly log: Logger;
  private readonly workDir: WorkDir;
  private readonly client: MasterChannel;
  private readonly readers: ReaderAccess;
  private readonly mode: ContainerizerMode;
  private readonly abort = new AbortController();
  private readonly listeners = new Set<AgentListener>();
  private readonly session: MasterSession;
  private readonly work: WorkLoop;
  private readonly executorManager: ExecutorManager;
  private phase: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private stopping = false;

  private resolved: ResolvedAgent | undefined;
  private journal: StatusJournal | undefined;
  private updates: StatusUpdateManager | undefined;
  private server: RunningEndpoint | undefined;
  private endpointUrl: string | undefined;
  private id: AgentId | undefined;
  /** The secret the master gave this agent id: proof of identity when registering again. */
  private secret: string | undefined;
  private containers: ContainerizerSet | undefined;
  private unsubscribe: (() => void) | undefined;
  private gcTimer: NodeJS.Timeout | undefined;
  private lastHealth: string | undefined;
  private readonly startedAt = Date.now();

  /** Containerizers still recovering (their engine does not answer). */
  private readonly recovering = new Set<Containerizer>();
  /** Tasks the master wants gone that no recovered containerizer has shown yet. */
  private readonly orphanKills = new Set<string>();
  /** GET /metrics and /metrics/snapshot on the agent endpoint. */
  readonly metrics: AgentMetrics;

  constructor(private readonly options: AgentOptions) {
    this.log = options.log ?? createLogger('stratus-agent');
    this.workDir = new WorkDir(options.workDir);
    this.mode = options.containerizer ?? 'auto';
    const clientOptions = {
      ...(options.headers !== undefined && { headers: options.headers }),
      ...(options.timing?.requestTimeoutMs !== undefined && { requestTimeoutMs: options.timing.requestTimeoutMs }),
    };
    // Over the socket the master pushes work and the agent pings every few minutes; over HTTP it long-polls.
    this.client =
      options.masterSocket !== undefined
        ? new SocketMasterClient(options.masterSocket, {
            ...clientOptions,
            log: this.log.child({ component: 'master-socket' }),
            ...(options.timing?.reconnectMaxMs !== undefined && { reconnectMaxMs: options.timing.reconnectMaxMs }),
          })
        : new MasterClient(options.master, clientOptions);
    this.readers = new ReaderAccess(this.client, () => this.id);
    const timing = options.timing ?? {};
    this.session = new MasterSession({
      client: this.client,
      log: this.log,
      signal: this.abort.signal,
      ...(timing.heartbeatIntervalMs !== undefined && { heartbeatIntervalMs: timing.heartbeatIntervalMs }),
      ...(timing.reconnectMaxMs !== undefined && { reconnectMaxMs: timing.reconnectMaxMs }),
      agentId: () => this.id,
      agentSecret: () => this.secret,
      registration: () => this.registration(),
      acceptAgentId: (previous, id, secret) => this.acceptAgentId(previous, id, secret),
      killOrphan: (task) => this.killOrphan(task),
      health: () => this.health(),
      pauseUpdates: () => this.updates?.pause(),
      resumeUpdates: () => this.updates?.resume(),
      emit: (event) => this.emit(event),
    });
    this.metrics = new AgentMetrics({
      registered: () => this.registered,
      tasks: () => this.tasks(),
      pendingUpdates: () => this.pendingUpdates(),
      total: () => this.resolved?.resources,
      subscribe: (l) => this.subscribe(l),
    });
    this.executorManager = new ExecutorManager({
      workDir: this.workDir.root,
      log: this.log.child({ component: 'executors' }),
      agentId: () => this.id,
      containers: () => this.containers,
      endpoint: () => (this.endpointUrl !== undefined ? new URL(this.endpointUrl).host : undefined),
      hostname: () => this.resolved?.hostname ?? '',
      report: (update) => this.reportUpdate(update),
      sendMessages: (messages) => this.sendExecutorMessages(messages),
      ...(options.executorTiming !== undefined && { timing: options.executorTiming }),
    });
    this.work = new WorkLoop({
      client: this.client,
      session: this.session,
      log: this.log,
      signal: this.abort.signal,
      ...(timing.longPollSeconds !== undefined && { longPollSeconds: timing.longPollSeconds }),
      ...(timing.workSafetyIntervalMs !== undefined && { workSafetyIntervalMs: timing.workSafetyIntervalMs }),
      ...(timing.reconnectMaxMs !== undefined && { reconnectMaxMs: timing.reconnectMaxMs }),
      agentId: () => this.id,
      containers: () => this.containers,
      journal: () => this.journal,
      acknowledge: (uuid) => this.updates?.acknowledge(uuid),
      recovering: () => this.recovering.size > 0,
      reportUpdate: (update) => this.reportUpdate(update),
      emit: (event) => this.emit(event),
      executors: () => (this.containers !== undefined ? this.executorManager : undefined),
    });
  }

  get agentId(): string | undefined {
    return this.id;
  }

  get endpoint(): string | undefined {
    return this.endpointUrl;
  }

  get registered(): boolean {
    return this.session.registered;
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
        send: (updates) => this.session.sendStatus(updates),
        ...(timing.statusRetryInitialMs !== undefined && { retryInitialMs: timing.statusRetryInitialMs }),
        ...(timing.statusRetryMaxMs !== undefined && { retryMaxMs: timing.statusRetryMaxMs }),
        log: this.log,
        onReregister: () => this.session.reregisterAfterStatus(),
        onKill: (task) => this.killOrphan(task),
        onAcknowledged: (ack) => this.work.confirm(ack),
        onResult: (update, result) => this.emit({ type: 'delivered', at: performance.now(), update, result }),
      });
      if (journal.size > 0) this.log.info('status updates to resend from the journal', { pending: journal.size });

      const host = this.options.host ?? '127.0.0.1';
      this.server = await startAgentEndpoint(this, { host, port: this.options.port ?? 5051, log: this.log.child({ component: 'endpoint' }) });
      const wildcard = host === '0.0.0.0' || host === '::';
      const advertiseHost = wildcard ? (this.resolved.ec2?.localIpv4 ?? this.resolved.hostname) : host.includes(':') ? `[${host}]` : host;
      this.endpointUrl = this.options.advertiseUrl ?? `http://${advertiseHost}:${this.server.port}`;

      const identity = this.workDir.readIdentity();
      if (identity !== undefined) {
        this.secret = identity.agent_secret;
        await this.useAgentId(identity.agent_id as AgentId);
      }
      await this.session.register();
      if (!this.session.registered) throw new Error('the agent was stopped before it registered');
      this.work.start();
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
      this.executorManager.forgetAll();
    }
    await this.teardown();
  }

  private async teardown(): Promise<void> {
    this.stopping = true;
    this.phase = 'stopped';
    // The session and the work loop stop on this signal.
    this.abort.abort();
    this.session.stop();
    if (this.gcTimer) clearInterval(this.gcTimer);
    this.updates?.stop();
    this.executorManager.close();
    await this.work.stopped();
    await this.session.settled();
    this.client.close?.();
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
    this.executorManager.load(id);
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
    if (this.containers !== undefined) this.executorManager.afterRecovery(this.containers, this.recovering.size > 0);
  }

  /** The master gave this agent a new id (the old one was removed): nothing of the old one may run. */
  private async retire(): Promise<void> {
    const set = this.containers;
    if (set === undefined) return;
    this.containers = undefined;
    this.unsubscribe?.();
    this.recovering.clear();
    this.executorManager.forgetAll();
    for (const info of set.containers()) {
      await set.owner(info)?.destroy(info).catch((e: unknown) => this.log.warn('cannot remove a task of the old agent id', { taskId: info.taskId, error: e }));
      this.journal?.forget({ framework_id: info.frameworkId, task_id: info.taskId });
    }
    await set.close();
  }

  // ---- registration ----

  /** What this agent registers with: itself and the tasks it has. */
  private registration(): Omit<RegisterRequest, 'agent_id'> {
    const r = this.resolved!;
    return {
      hostname: r.hostname,
      ...(this.endpointUrl !== undefined && { endpoint: this.endpointUrl }),
      resources: encodeResources(r.resources),
      attributes: { ...r.attributes },
      tasks: this.reportedTasks(),
    };
  }

  /** The master answered a registration with this agent's id: a new one means the old one was removed. */
  private async acceptAgentId(previous: AgentId | undefined, id: AgentId, secret: string | undefined): Promise<void> {
    const newSecret = secret !== undefined && secret !== this.secret;
    if (secret !== undefined) this.secret = secret;
    const identity = { agent_id: id, master: this.client.base, ...(this.secret !== undefined && { agent_secret: this.secret }) };
    if (id === previous && this.containers !== undefined) {
      if (newSecret) this.workDir.writeIdentity(identity);
      return;
    }
    if (previous !== undefined && id !== previous) {
      this.log.warn('the master gave this agent a new id (the old one was removed); removing the old tasks', { previous, agentId: id });
      await this.retire();
    }
    this.workDir.writeIdentity(identity);
    await this.useAgentId(id);
  }

  /**
   * What this agent has, for (re)registration: running tasks, and ended ones whose final update
   * is still in the journal (the master waits for it rather than taking the task for lost).
   */
  private reportedTasks(): { framework_id: string; task_id: string; state: string }[] {
    const out = new Map<string, { framework_id: string; task_id: string; state: string }>();
    const pending = new Map<string, string>();
    for (const u of this.journal?.pending() ?? []) pending.set(`${u.framework_id}/${u.task_id}`, u.state);
    for (const t of this.executorManager.reportedTasks()) out.set(`${t.framework_id}/${t.task_id}`, t);
    for (const i of this.containers?.containers() ?? []) {
      if (this.executorManager.owns(i)) continue;
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
        if (this.executorManager.owns({ frameworkId: st.frameworkId as FrameworkId, taskId: st.taskId as TaskId })) continue;
        if (st.terminal === undefined && !out.has(k)) out.set(k, { framework_id: st.frameworkId, task_id: st.taskId, state: st.engineId !== undefined ? 'TASK_RUNNING' : 'TASK_STARTING' });
      }
    }
    return [...out.values()].slice(0, 10_000);
  }

  // ---- health ----

  health(): AgentHealth {
    const engine = this.containers?.engineHealth();
    const recovering = [...this.recovering].map((c) => c.kind);
    const down = engine?.state === 'UNHEALTHY';
    const message = down ? engine.message : recovering.length > 0 ? `recovering ${recovering.join(', ')} containers` : !this.session.registered ? 'not registered with the master' : 'ok';
    return { healthy: !down, message, registered: this.session.registered, recovering, ...(engine !== undefined && { engine }) };
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
    void this.session.heartbeat();
  }

  // ---- orphans ----

  /** A task the master does not want (kill_tasks, or unknown_task with kill): killed and removed. */
  private killOrphan(task: TaskKeyed): void {
    const ref = taskRefOf(task);
    if (ref === undefined) return;
    if (this.executorManager.hasTask(ref)) {
      this.executorManager.kill(ref, undefined);
      return;
    }
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
    // A custom executor's own container: its life is the executor's, not a task's.
    if (this.executorManager.owns(status)) {
      this.executorManager.containerStatus(status);
      return;
    }
    const update = toStatusUpdate(status);
    if (update === undefined) {
      this.log.warn('a containerizer reported a status for a malformed task id; not sent', { taskId: status.taskId, state: status.state, message: status.message });
      return;
    }
    if (isTerminal(status.state)) this.work.taskEnded(status);
    const level = status.state === 'RUNNING' || status.state === 'STARTING' || status.state === 'FINISHED' ? 'debug' : 'info';
    this.log[level]('task status', { taskId: status.taskId, state: status.state, reason: status.reason, message: status.message });
    this.reportUpdate(update);
  }

  private reportUpdate(update: StatusUpdate): void {
    this.updates?.report(update);
    this.emit({ type: 'status', at: performance.now(), update });
  }

  private async sendExecutorMessages(messages: { framework_id: string; executor_id: string; data: string }[]): Promise<void> {
    const id = this.id;
    const session = this.session.current;
    if (id === undefined || session === undefined) throw new Error('not registered with the master');
    const r = await this.client.executorMessages(id, { session, messages }, this.abort.signal);
    r.results.forEach((result, i) => {
      if (result !== 'delivered') this.log.warn('the master did not relay an executor message', { executorId: messages[i]?.executor_id, result });
    });
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
    const set = this.containers;
    const onExecutors = this.executorManager.view().flatMap((e) => {
      const c = set?.containers().find((i) => i.containerId === e.container_id);
      return e.tasks.map((t) => ({
        framework_id: e.framework_id,
        task_id: t.task_id,
        state: t.state,
        containerizer: c?.containerizer ?? ('process' as const),
        container_id: e.container_id ?? '',
        ...(c?.engineId !== undefined && { engine_id: c.engineId }),
        sandbox: e.sandbox,
        executor_id: e.executor_id,
        timestamp: c?.status.timestamp ?? 0,
      }));
    });
    return [...(set?.containers() ?? []).filter((i) => !this.executorManager.owns(i)).map((i) => ({
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
    })), ...onExecutors];
  }

  customExecutors(): ExecutorView[] {
    return this.executorManager.view();
  }

  /** The custom executors, for the executor API on the agent endpoint (once the agent has an id). */
  executors(): ExecutorManager | undefined {
    return this.containers !== undefined ? this.executorManager : undefined;
  }

  state(): Record<string, unknown> & { tasks: AgentTask[] } {
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

  /** What the Mesos-shaped endpoints (operator-endpoint.ts) show. */
  operatorView(): AgentOperatorView {
    const r = this.resolved;
    const o = this.options;
    const timing = o.timing ?? {};
    const flags: Record<string, string> = {
      master: this.client.base,
      work_dir: o.workDir,
      hostname: r?.hostname ?? '',
      ip: o.host ?? '127.0.0.1',
      port: String(this.server?.port ?? o.port ?? 5051),
      advertise_url: this.endpointUrl ?? '',
      containerizers: this.containers?.list().map((c) => c.kind).join(',') ?? this.mode,
      docker_socket: o.dockerSocket ?? '/var/run/docker.sock',
      ...(o.defaultImage !== undefined && { default_container_image: o.defaultImage }),
      attributes: Object.entries(r?.attributes ?? {}).map(([k, v]) => `${k}:${v}`).join(';'),
      resources: r ? (() => { const x = toSpec(r.resources); return `cpus:${x.cpus};mem:${x.mem};disk:${x.disk}${x.ports.length ? `;ports:[${x.ports.map((p) => `${p.begin}-${p.end}`).join(',')}]` : ''}`; })() : '',
      log_cap_bytes: String(o.logCapBytes ?? 1024 * 1024),
      gc_delay: `${Math.round((timing.completedTaskRetentionMs ?? 3_600_000) / 1000)}secs`,
      max_completed_tasks: String(timing.maxCompletedTasks ?? 500),
    };
    return {
      id: this.id,
      hostname: r?.hostname,
      endpoint: this.endpointUrl,
      master: this.client.base,
      startTime: this.startedAt / 1000,
      resources: r?.resources,
      attributes: r?.attributes ?? {},
      flags,
      healthy: this.health().healthy,
      containers: this.containers?.containers() ?? [],
    };
  }

  authorize(authorization: string | undefined, frameworkIds: readonly string[]): Promise<ReaderGrant> {
    return this.readers.check(authorization, frameworkIds);
  }

  async logs(ref: TaskRef, stream: LogStream, tailBytes: number | undefined): Promise<LogRead> {
    const owner = this.containers?.owner(ref);
    if (owner === undefined) throw new NotFoundError(`task ${ref.taskId} of framework ${ref.frameworkId} is not on this agent`, 'task_id');
    return owner.logs(ref, stream, tailBytes !== undefined ? { tailBytes } : {});
  }
}
