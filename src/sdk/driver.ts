import { userInfo } from 'node:os';
import { silentLogger, type Logger } from '../core/logger.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from '../core/backoff.js';
import { sleep } from '../core/sleep.js';
import { NotSubscribedError, SchedulerCallError } from './errors.js';
import { failure, MasterHttp, principalOf, type FetchFn } from './http-client.js';
import { Listeners } from './listeners.js';
import { readRecordIO } from '../wire/recordio.js';
import { Reconciler, type ReconcileOptions } from './reconciler.js';
import type {
  Credentials,
  DriverEventMap,
  DriverEventName,
  DriverListener,
  Filters,
  FrameworkOptions,
  ReconcileResult,
  SubscribedInfo,
  TaskInfo,
  TaskRef,
  TaskStatus,
} from './types.js';
import { decodeEvent, pollPage, pollSubscribeResponse, type WireEvent } from './wire.js';

// A Mesos v1 HTTP scheduler driver. It subscribes (a RecordIO stream, or long-polling where the
// master cannot stream), resubscribes with its framework id after a dropped connection with
// backoff, treats ~3 missed heartbeats as a dropped connection, hands typed events to listeners
// one at a time, acknowledges updates once their listeners are done, and reconciles after
// every (re)subscription as the Mesos reconciliation guide describes.

export const SCHEDULER_PATH = '/api/v1/scheduler';
export const EVENTS_PATH = '/api/v1/scheduler/events';
const EVENT_MODE_HEADER = 'Stratus-Event-Mode';
const STREAM_ID_HEADER = 'Mesos-Stream-Id';

/** The subset of the core Logger the driver uses (any structured logger with these four fits). */
export type DriverLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface SchedulerDriverOptions {
  /** The master's base URL, e.g. http://127.0.0.1:5050. */
  readonly master: string | URL;
  readonly framework: FrameworkOptions;
  /** Resubscribe as this framework (after a restart); otherwise the master assigns an id. */
  readonly frameworkId?: string;
  readonly credentials?: Credentials;
  /** 'stream' (default): RecordIO on the SUBSCRIBE response, falling back to polling when the master answers at once (API Gateway). 'poll': always long-poll. */
  readonly eventMode?: 'stream' | 'poll';
  /** Acknowledge each update after its listeners resolve (default true). */
  readonly autoAcknowledge?: boolean;
  /** The tasks this framework believes are live: reconciled explicitly after each (re)subscription, before the implicit reconcile. */
  readonly reconcileTasks?: () => readonly TaskRef[] | Promise<readonly TaskRef[]>;
  /** Reconcile after each (re)subscription (default true). */
  readonly reconcileOnSubscribe?: boolean;
  readonly reconcile?: ReconcileOptions;
  /** Between resubscription attempts; reset by a successful subscription. */
  readonly reconnectBackoff?: BackoffOptions;
  /** No event for this many heartbeat intervals means the connection is dead (default 3). */
  readonly heartbeatTimeoutFactor?: number;
  /** Long-poll wait per request in poll mode (default 20 s). */
  readonly pollWaitSeconds?: number;
  readonly fetch?: FetchFn;
  readonly log?: DriverLogger;
}

type ConnectionEnd = { readonly fatal: boolean; readonly reason: string };

function describe(e: unknown): string {
  if (e instanceof Error) return e.name === 'AbortError' || e.name === 'TimeoutError' ? `${e.name}: ${e.message}` : e.message;
  return String(e);
}

export class SchedulerDriver {
  private readonly http: MasterHttp;
  private readonly listeners = new Listeners<DriverEventMap>();
  private readonly reconciler: Reconciler;
  private readonly log: DriverLogger;
  private readonly stopController = new AbortController();
  private connection: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private generation = 0;
  private lastActivity = 0;
  private dispatching = false;
  private heartbeatMs = 15_000;
  private readonly outstandingOffers = new Set<string>();
  private subscribedWaiters: (() => void)[] = [];
  private frameworkIdValue: string | undefined;
  private streamIdValue: string | undefined;
  private modeValue: 'stream' | 'poll';
  private stoppedWith: string | undefined;

  constructor(private readonly options: SchedulerDriverOptions) {
    this.http = new MasterHttp(options.master, options.credentials, options.fetch);
    this.log = options.log ?? silentLogger;
    this.frameworkIdValue = options.frameworkId;
    this.modeValue = options.eventMode ?? 'stream';
    this.reconciler = new Reconciler((tasks) => this.reconcile(tasks), options.reconcile, this.log);
  }

  /** The framework id (known after the first SUBSCRIBED, or given in the options). */
  get frameworkId(): string | undefined {
    return this.frameworkIdValue;
  }

  get streamId(): string | undefined {
    return this.streamIdValue;
  }

  /** Whether a subscription is live now. */
  get subscribed(): boolean {
    return this.streamIdValue !== undefined;
  }

  /** 'stream' or 'poll': the delivery of the current (or next) subscription. */
  get mode(): 'stream' | 'poll' {
    return this.modeValue;
  }

  /** Why the driver stopped for good (an ERROR event, a refused subscription, stop()). */
  get stopReason(): string | undefined {
    return this.stoppedWith;
  }

  /** Adds a listener; returns a function that removes it. Listeners run one event at a time, in order. */
  on<K extends DriverEventName>(name: K, listener: DriverListener<K>): () => void {
    return this.listeners.on(name, listener);
  }

  /** Starts subscribing in the background; see `whenSubscribed`. */
  start(): this {
    if (this.loop === undefined && this.stoppedWith === undefined) this.loop = this.run();
    return this;
  }

  /** Resolves at the next moment a subscription is live (at once if it is); rejects after `timeoutMs` or when the driver stops. */
  whenSubscribed(timeoutMs = 30_000): Promise<void> {
    if (this.subscribed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.subscribedWaiters = this.subscribedWaiters.filter((w) => w !== done);
        reject(new NotSubscribedError(this.stoppedWith ?? `not subscribed within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        if (this.subscribed) resolve();
        else reject(new NotSubscribedError(this.stoppedWith ?? 'the driver stopped'));
      };
      this.subscribedWaiters.push(done);
    });
  }

  /** Closes the connection and stops resubscribing. The framework stays registered (see teardown). */
  async stop(reason = 'stopped'): Promise<void> {
    this.stoppedWith ??= reason;
    this.stopController.abort();
    this.connection?.abort();
    this.reconciler.cancel();
    await this.loop;
    this.wakeSubscribedWaiters();
  }

  // ---- calls ----

  /** Sends one scheduler call for this framework (framework_id and Mesos-Stream-Id added). */
  async call(type: string, body: Record<string, unknown> = {}): Promise<void> {
    const frameworkId = this.frameworkIdValue;
    const streamId = this.streamIdValue;
    if (frameworkId === undefined || streamId === undefined) throw new NotSubscribedError(`cannot send ${type}: not subscribed`);
    const res = await this.http.post(SCHEDULER_PATH, { type, framework_id: { value: frameworkId }, ...body }, { [STREAM_ID_HEADER]: streamId });
    if (res.status === 202 || res.status === 200) {
      await res.body?.cancel().catch(() => undefined);
      return;
    }
    throw await failure(res, type);
  }

  /** ACCEPT with one LAUNCH of `tasks` on the offers (all from one agent). */
  async launch(offerIds: readonly string[], tasks: readonly TaskInfo[], filters?: Filters): Promise<void> {
    for (const id of offerIds) this.outstandingOffers.delete(id);
    await this.call('ACCEPT', {
      accept: { offer_ids: offerIds.map((value) => ({ value })), operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }], ...(filters ? { filters } : {}) },
    });
  }

  /** ACCEPT with any operations, as given (LAUNCH, LAUNCH_GROUP). */
  async accept(offerIds: readonly string[], operations: readonly Record<string, unknown>[], filters?: Filters): Promise<void> {
    for (const id of offerIds) this.outstandingOffers.delete(id);
    await this.call('ACCEPT', { accept: { offer_ids: offerIds.map((value) => ({ value })), operations, ...(filters ? { filters } : {}) } });
  }

  async decline(offerIds: readonly string[], filters?: Filters): Promise<void> {
    if (offerIds.length === 0) return;
    for (const id of offerIds) this.outstandingOffers.delete(id);
    await this.call('DECLINE', { decline: { offer_ids: offerIds.map((value) => ({ value })), ...(filters ? { filters } : {}) } });
  }

  /** Removes refusal filters and un-suppresses (the given roles, or all). */
  async revive(roles?: readonly string[]): Promise<void> {
    await this.call('REVIVE', roles ? { revive: { roles } } : {});
  }

  /** No more offers (for the given roles, or all) until revive. */
  async suppress(roles?: readonly string[]): Promise<void> {
    await this.call('SUPPRESS', roles ? { suppress: { roles } } : {});
  }

  async kill(taskId: string, agentId?: string, gracePeriodMs?: number): Promise<void> {
    await this.call('KILL', {
      kill: {
        task_id: { value: taskId },
        ...(agentId ? { agent_id: { value: agentId } } : {}),
        ...(gracePeriodMs !== undefined ? { kill_policy: { grace_period: { nanoseconds: Math.round(gracePeriodMs * 1e6) } } } : {}),
      },
    });
  }

  /** Acknowledges an update that carries a uuid (others need none). */
  async acknowledge(status: TaskStatus): Promise<void> {
    if (!status.uuid || !status.agentId) return;
    await this.call('ACKNOWLEDGE', { acknowledge: { agent_id: { value: status.agentId }, task_id: { value: status.taskId }, uuid: status.uuid } });
  }

  /** One RECONCILE call: explicit for `tasks`, implicit when empty. Answers arrive as updates. */
  async reconcile(tasks: readonly TaskRef[] = []): Promise<void> {
    await this.call('RECONCILE', {
      reconcile: { tasks: tasks.map((t) => ({ task_id: { value: t.taskId }, ...(t.agentId ? { agent_id: { value: t.agentId } } : {}) })) },
    });
  }

  /**
   * Reconciles `tasks` until each is answered (retrying the rest with backoff), then once
   * implicitly, as the Mesos reconciliation guide recommends.
   */
  reconcileTasks(tasks: readonly TaskRef[]): Promise<ReconcileResult> {
    return this.reconciler.run(tasks);
  }

  async updateFramework(framework: FrameworkOptions): Promise<void> {
    await this.call('UPDATE_FRAMEWORK', { update_framework: { framework_info: this.frameworkInfo(framework) } });
  }

  /** Unregisters the framework: the master kills its tasks. The driver stops. */
  async teardown(): Promise<void> {
    await this.call('TEARDOWN');
    await this.stop('torn down');
  }

  // ---- subscription ----

  private frameworkInfo(framework: FrameworkOptions): Record<string, unknown> {
    let user = framework.user;
    if (user === undefined) {
      try {
        user = userInfo().username;
      } catch {
        user = 'root';
      }
    }
    const principal = principalOf(this.options.credentials);
    return {
      user,
      name: framework.name,
      roles: framework.roles ?? ['*'],
      capabilities: (framework.capabilities ?? ['MULTI_ROLE', 'PARTITION_AWARE']).map((type) => ({ type })),
      ...(framework.failoverTimeoutSeconds !== undefined ? { failover_timeout: framework.failoverTimeoutSeconds } : {}),
      ...(framework.checkpoint !== undefined ? { checkpoint: framework.checkpoint } : {}),
      ...(framework.hostname !== undefined ? { hostname: framework.hostname } : {}),
      ...(framework.webuiUrl !== undefined ? { webui_url: framework.webuiUrl } : {}),
      ...(framework.labels ? { labels: { labels: Object.entries(framework.labels).map(([key, value]) => ({ key, value })) } } : {}),
      ...(principal !== undefined ? { principal } : {}),
      ...(this.frameworkIdValue !== undefined ? { id: { value: this.frameworkIdValue } } : {}),
    };
  }

  private async run(): Promise<void> {
    const backoff = this.options.reconnectBackoff ?? DEFAULT_BACKOFF;
    let attempt = 0;
    while (!this.stopController.signal.aborted) {
      const connection = new AbortController();
      this.connection = connection;
      let end: ConnectionEnd;
      try {
        end = await this.connectOnce(connection.signal);
      } catch (e) {
        end = e instanceof SchedulerCallError && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429
          ? { fatal: true, reason: e.message }
          : { fatal: false, reason: describe(e) };
      }
      connection.abort();
      const wasSubscribed = this.streamIdValue !== undefined;
      this.endSubscription();
      if (this.stopController.signal.aborted) break;
      if (end.fatal) {
        this.stoppedWith = end.reason;
        this.log.error('scheduler driver stopped', { reason: end.reason, frameworkId: this.frameworkIdValue });
        await this.emit('error', { message: end.reason });
        break;
      }
      attempt = wasSubscribed ? 1 : attempt + 1;
      const delay = backoffDelay(attempt, backoff);
      this.log.warn('scheduler connection lost; resubscribing', { reason: end.reason, inMs: delay, frameworkId: this.frameworkIdValue });
      if (wasSubscribed) await this.emit('disconnected', { reason: end.reason });
      await sleep(delay, this.stopController.signal);
    }
    this.stopController.abort();
    this.wakeSubscribedWaiters();
  }

  private endSubscription(): void {
    this.streamIdValue = undefined;
    this.generation++;
    this.reconciler.cancel();
  }

  private wakeSubscribedWaiters(): void {
    const waiters = this.subscribedWaiters;
    this.subscribedWaiters = [];
    for (const w of waiters) w();
  }

  private async connectOnce(signal: AbortSignal): Promise<ConnectionEnd> {
    const body = {
      type: 'SUBSCRIBE',
      ...(this.frameworkIdValue !== undefined ? { framework_id: { value: this.frameworkIdValue } } : {}),
      subscribe: { framework_info: this.frameworkInfo(this.options.framework) },
    };
    const headers: Record<string, string> = this.modeValue === 'poll' ? { [EVENT_MODE_HEADER]: 'poll' } : {};
    // A master that never answers the SUBSCRIBE counts as a dropped connection too.
    const connection = this.connection;
    const answerTimer = setTimeout(() => connection?.abort(), 30_000);
    let res: Response;
    try {
      res = await this.http.post(SCHEDULER_PATH, body, { ...headers, Accept: 'application/recordio, application/json' }, signal);
    } finally {
      clearTimeout(answerTimer);
    }
    if (res.status !== 200) throw await failure(res, 'SUBSCRIBE');
    const streamId = res.headers.get(STREAM_ID_HEADER);
    if (!streamId) throw new Error('SUBSCRIBE answered without a Mesos-Stream-Id header');
    const type = res.headers.get('content-type') ?? '';
    if (/recordio/i.test(type)) {
      this.modeValue = 'stream';
      return this.readStream(res, streamId, signal);
    }
    // The master answered at once: events come by long-poll (API Gateway, or asked for).
    this.modeValue = 'poll';
    const parsed = pollSubscribeResponse.safeParse(await res.json());
    if (!parsed.success) throw new Error(`SUBSCRIBE answer is malformed: ${parsed.error.issues[0]?.message ?? ''}`);
    let cursor = parsed.data.cursor;
    for (const raw of parsed.data.events) {
      const end = await this.handle(raw, streamId);
      if (end) return end;
    }
    if (!this.subscribed) throw new Error('SUBSCRIBE answer did not start with SUBSCRIBED');
    const wait = this.options.pollWaitSeconds ?? 20;
    while (!signal.aborted) {
      const timeout = AbortSignal.timeout(wait * 1000 + this.heartbeatMs * (this.options.heartbeatTimeoutFactor ?? 3));
      const query = `framework_id=${encodeURIComponent(this.frameworkIdValue!)}&cursor=${cursor}&wait_seconds=${wait}`;
      const page = await this.http.get(`${EVENTS_PATH}?${query}`, { [STREAM_ID_HEADER]: streamId }, AbortSignal.any([signal, timeout]));
      // A refused poll means another subscription replaced this one, or the framework was removed.
      if (page.status === 403 || page.status === 404) return { fatal: true, reason: (await failure(page, 'event poll')).message };
      if (page.status !== 200) throw await failure(page, 'event poll');
      const parsedPage = pollPage.safeParse(await page.json());
      if (!parsedPage.success) throw new Error(`event page is malformed: ${parsedPage.error.issues[0]?.message ?? ''}`);
      this.lastActivity = Date.now();
      for (const raw of parsedPage.data.events) {
        const end = await this.handle(raw, streamId);
        if (end) return end;
      }
      cursor = parsedPage.data.cursor;
    }
    return { fatal: false, reason: 'connection closed' };
  }

  private async readStream(res: Response, streamId: string, signal: AbortSignal): Promise<ConnectionEnd> {
    if (!res.body) throw new Error('SUBSCRIBE answered without a body');
    this.lastActivity = Date.now();
    const factor = this.options.heartbeatTimeoutFactor ?? 3;
    // Missed heartbeats: nothing read for factor × interval while not busy in a listener.
    let timedOut = false;
    const watchdog = setInterval(() => {
      if (!this.dispatching && Date.now() - this.lastActivity > this.heartbeatMs * factor) {
        timedOut = true;
        this.connection?.abort();
      }
    }, Math.max(50, Math.min(1000, this.heartbeatMs / 4)));
    try {
      for await (const raw of readRecordIO(res.body as unknown as AsyncIterable<Uint8Array>)) {
        this.lastActivity = Date.now();
        const end = await this.handle(raw, streamId);
        if (end) return end;
        if (signal.aborted) break;
      }
      return { fatal: false, reason: 'the master closed the event stream' };
    } catch (e) {
      if (timedOut) return { fatal: false, reason: `no event for ${factor} heartbeat intervals (${(this.heartbeatMs * factor) / 1000} s)` };
      throw e;
    } finally {
      clearInterval(watchdog);
    }
  }

  /** Handles one raw event; returns how the connection ends when this event ends it. */
  private async handle(raw: unknown, streamId: string): Promise<ConnectionEnd | undefined> {
    const event: WireEvent = decodeEvent(raw);
    this.dispatching = true;
    try {
      return await this.dispatch(event, streamId);
    } finally {
      this.dispatching = false;
      this.lastActivity = Date.now();
    }
  }

  private async dispatch(event: WireEvent, streamId: string): Promise<ConnectionEnd | undefined> {
    switch (event.type) {
      case 'SUBSCRIBED': {
        const resubscribed = this.frameworkIdValue !== undefined;
        if (resubscribed && this.frameworkIdValue !== event.frameworkId) {
          return { fatal: true, reason: `the master subscribed framework ${event.frameworkId}, not ${this.frameworkIdValue}` };
        }
        this.frameworkIdValue = event.frameworkId;
        this.streamIdValue = streamId;
        this.heartbeatMs = event.heartbeatIntervalSeconds * 1000;
        const generation = ++this.generation;
        this.log.info(resubscribed ? 'framework resubscribed' : 'framework subscribed', { frameworkId: event.frameworkId, mode: this.modeValue });
        // The master withdrew every offer of the previous subscription (without RESCIND events).
        const stale = [...this.outstandingOffers];
        this.outstandingOffers.clear();
        for (const id of stale) await this.emit('rescind', id);
        const info: SubscribedInfo = { frameworkId: event.frameworkId, heartbeatIntervalSeconds: event.heartbeatIntervalSeconds, resubscribed, mode: this.modeValue };
        this.wakeSubscribedWaiters();
        await this.emit('subscribed', info);
        if (this.options.reconcileOnSubscribe ?? true) void this.reconcileAfterSubscribe(generation);
        return undefined;
      }
      case 'OFFERS':
        if (event.offers.length === 0) return undefined;
        for (const o of event.offers) this.outstandingOffers.add(o.id);
        await this.emit('offers', event.offers);
        return undefined;
      case 'RESCIND':
        this.outstandingOffers.delete(event.offerId);
        await this.emit('rescind', event.offerId);
        return undefined;
      case 'UPDATE': {
        this.reconciler.observe(event.status);
        const ok = await this.emit('update', event.status);
        if (ok && (this.options.autoAcknowledge ?? true) && event.status.uuid) {
          await this.acknowledge(event.status).catch((e: unknown) => this.log.warn('acknowledge failed', { error: e, taskId: event.status.taskId }));
        }
        return undefined;
      }
      case 'MESSAGE':
        await this.emit('message', event.message);
        return undefined;
      case 'FAILURE':
        await this.emit('failure', event.failure);
        return undefined;
      case 'ERROR':
        // Mesos: a scheduler receiving ERROR must stop (removed, or failed over to another instance).
        return { fatal: true, reason: event.message };
      case 'HEARTBEAT':
        await this.emit('heartbeat', undefined);
        return undefined;
      case 'UNKNOWN':
        this.log.debug('ignoring an unknown event type', { type: event.rawType });
        return undefined;
      case 'INVALID':
        this.log.warn('ignoring a malformed event', { problem: event.problem });
        return undefined;
    }
  }

  private async reconcileAfterSubscribe(generation: number): Promise<void> {
    try {
      const tasks = (await this.options.reconcileTasks?.()) ?? [];
      if (generation !== this.generation) return;
      const result = await this.reconciler.run(tasks);
      if (generation === this.generation) await this.emit('reconciled', result);
    } catch (e) {
      if (generation === this.generation) this.log.warn('reconciliation failed', { error: e });
    }
  }

  /** Runs the listeners of one event in order; false when one threw. */
  private async emit<K extends DriverEventName>(name: K, event: DriverEventMap[K]): Promise<boolean> {
    const errors = await this.listeners.emit(name, event);
    for (const e of errors) this.log.error('a scheduler listener failed', { event: name, error: e });
    return errors.length === 0;
  }
}
