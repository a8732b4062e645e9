import { Backoff } from '../core/backoff.js';
import type { AgentId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { sleep } from '../core/sleep.js';
import type { RegisterRequest, StatusResponse, StatusUpdate } from '../wire/agent-api.js';
import { ApiError } from '../wire/api-error.js';
import type { AgentEvent, AgentHealth } from './agent-events.js';
import { ReregisterRequired, type MasterChannel } from './master-client.js';
import type { TaskKeyed } from './status-journal.js';

// The agent's session with the master: registers (retrying with backoff until it succeeds or
// the agent stops), registers again whenever the master asks (a 404/409 on any call: unknown
// agent, superseded session), heartbeats with the agent's health, and sends status updates
// under the current session. The session id is undefined while not registered.

export interface MasterSessionOptions {
  readonly client: MasterChannel;
  readonly log: Logger;
  /** Aborted when the agent stops. */
  readonly signal: AbortSignal;
  /** Heartbeat period; default the master's heartbeat_interval_seconds. */
  readonly heartbeatIntervalMs?: number;
  /** Cap of the backoff between registration attempts. Default 5 s. */
  readonly reconnectMaxMs?: number;
  /** The agent's id, once it has one, and the secret the master gave it (proof at re-registration). */
  readonly agentId: () => AgentId | undefined;
  readonly agentSecret: () => string | undefined;
  /** What to register with (the agent's id is added here). */
  readonly registration: () => Omit<RegisterRequest, 'agent_id'>;
  /** Takes the agent id (and secret) the master answered with; runs before the session opens. */
  readonly acceptAgentId: (previous: AgentId | undefined, id: AgentId, secret: string | undefined) => Promise<void>;
  /** A task the master does not want running (kill_tasks). */
  readonly killOrphan: (task: TaskKeyed) => void;
  /** What heartbeats report. */
  readonly health: () => AgentHealth;
  /** Status updates wait while there is no session. */
  readonly pauseUpdates: () => void;
  readonly resumeUpdates: () => void;
  readonly emit: (event: AgentEvent) => void;
}

export class MasterSession {
  private session: string | undefined;
  private registering: Promise<void> | undefined;
  /** The session a status request was turned down for (404/409). */
  private failedSession: string | undefined;
  private heartbeatMs = 15_000;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: MasterSessionOptions) {}

  /** The session id, while registered. */
  get current(): string | undefined {
    return this.session;
  }

  get registered(): boolean {
    return this.session !== undefined;
  }

  private get stopping(): boolean {
    return this.o.signal.aborted;
  }

  /** Registers (single flight); resolves once registered, or when the agent stops. */
  register(): Promise<void> {
    this.registering ??= this.registerLoop().finally(() => (this.registering = undefined));
    return this.registering;
  }

  /** Registers again unless someone already did since `failed` was turned down. */
  async reregister(failed: string | undefined): Promise<void> {
    if (this.session !== undefined && this.session !== failed) {
      this.o.resumeUpdates();
      return;
    }
    await this.register();
  }

  /** The master turned a status request down for its session: registers again (unless done since). */
  reregisterAfterStatus(): Promise<void> {
    return this.reregister(this.failedSession);
  }

  /** Stops the heartbeats (the agent stops). */
  stop(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
  }

  /** Resolves when no registration is in flight. */
  async settled(): Promise<void> {
    await this.registering;
  }

  private async registerLoop(): Promise<void> {
    this.session = undefined;
    this.o.pauseUpdates();
    const backoff = new Backoff({ initialMs: 200, maxMs: this.o.reconnectMaxMs ?? 5_000, jitter: 0.2 });
    while (!this.stopping) {
      try {
        await this.registerOnce();
        return;
      } catch (e) {
        if (this.stopping) return;
        const level = backoff.attempts >= 3 ? 'warn' : 'info';
        this.o.log[level]('cannot register with the master; retrying', { master: this.o.client.base, error: (e as Error).message });
        await sleep(backoff.next(), this.o.signal);
      }
    }
  }

  private async registerOnce(): Promise<void> {
    const previous = this.o.agentId();
    const secret = this.o.agentSecret();
    const body = { ...(previous !== undefined && { agent_id: previous, ...(secret !== undefined && { agent_secret: secret }) }), ...this.o.registration() };
    const answer = await this.o.client.register(body, this.o.signal);
    if (this.stopping) return;
    await this.o.acceptAgentId(previous, answer.agent_id as AgentId, answer.agent_secret);
    this.session = answer.session;
    this.heartbeatMs = this.o.heartbeatIntervalMs ?? answer.heartbeat_interval_seconds * 1000;
    for (const k of answer.kill_tasks) {
      this.o.log.warn('the master does not want a task this agent runs; killing it', { frameworkId: k.framework_id, taskId: k.task_id });
      this.o.killOrphan(k);
    }
    this.o.log.info(previous === undefined ? 'agent registered' : 'agent reregistered', { agentId: answer.agent_id, master: this.o.client.base, endpoint: body.endpoint, attributes: body.attributes });
    this.o.emit({ type: 'registered', agentId: answer.agent_id, session: answer.session, killTasks: answer.kill_tasks.length });
    this.restartHeartbeat();
    this.o.resumeUpdates();
  }

  // ---- heartbeats ----

  private restartHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  /** One heartbeat now (also sent when the agent's health changes). */
  async heartbeat(): Promise<void> {
    const session = this.session;
    const id = this.o.agentId();
    if (session === undefined || id === undefined || this.stopping) return;
    const h = this.o.health();
    try {
      await this.o.client.heartbeat(id, { session, healthy: h.healthy, ...(!h.healthy && { message: h.message.slice(0, 1024) }) }, this.o.signal);
    } catch (e) {
      if (this.stopping) return;
      if (e instanceof ReregisterRequired) void this.reregister(session);
      else this.o.log.debug('heartbeat failed', { error: (e as Error).message });
    }
  }

  // ---- status updates ----

  /** Sends status updates under the current session (the status update manager's transport). */
  async sendStatus(updates: StatusUpdate[]): Promise<StatusResponse> {
    const session = this.session;
    const id = this.o.agentId();
    if (session === undefined || id === undefined) throw new ApiError(0, 'not registered');
    try {
      return await this.o.client.status(id, { session, updates }, this.o.signal);
    } catch (e) {
      if (e instanceof ReregisterRequired) this.failedSession = session;
      throw e;
    }
  }
}
