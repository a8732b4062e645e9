import type { StatusUpdate } from '../wire/agent-api.js';
import type { Logger } from '../core/logger.js';
import { Backoff, backoffDelay } from '../core/backoff.js';
import { ApiError } from '../wire/api-error.js';
import { ReregisterRequired } from './master-client.js';
import type { StatusResponse, StatusResult } from '../wire/agent-api.js';
import { journalKey, type StatusJournal, type TaskKeyed } from './status-journal.js';

// Mesos's status update manager: journals every update, then delivers it until it is done.
//
// Ordering: updates of one task must reach the master in the order they happened, so there
// is never more than one status request in flight, and each request carries every due update
// in journal order. When an update of a task is resent, the task's later pending updates ride
// along behind it, so the framework sees a resend sequence in order too.
//
// Done means: the master relayed the framework's ACKNOWLEDGE (work poll `acks`), or answered
// `acknowledged` / `rejected` / `unknown_task`. An update the master `applied` (or took as a
// `duplicate`) is resent with exponential backoff until then: the framework may have missed it.

export interface StatusUpdateManagerOptions {
  readonly journal: StatusJournal;
  /** Sends one status request; throws ReregisterRequired or ApiError. */
  readonly send: (updates: StatusUpdate[]) => Promise<StatusResponse>;
  /** First resend delay after delivery; doubles up to retryMaxMs. Defaults 1 s and 60 s. */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /** Updates per request (the master takes 500). */
  readonly maxBatch?: number;
  readonly log: Logger;
  /** The master answered 404/409: register again, then resend. */
  readonly onReregister: () => Promise<void>;
  /** The master does not know a task the agent still runs: kill it. */
  readonly onKill: (task: TaskKeyed) => void;
  /** The master answered `acknowledged`: confirm it with the next work poll. */
  readonly onAcknowledged: (ack: TaskKeyed & { readonly uuid: string }) => void;
  /** Every answer the master gave about an update (for events and benchmarks). */
  readonly onResult?: (update: StatusUpdate, result: StatusResult) => void;
}

interface Delivery {
  attempts: number;
  nextAt: number;
}

const TRANSPORT_RETRY_CAP_MS = 10_000;

export class StatusUpdateManager {
  private readonly journal: StatusJournal;
  private readonly deliveries = new Map<string, Delivery>();
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly maxBatch: number;
  private readonly transport: Backoff;
  private flushing = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private paused = true;

  constructor(private readonly options: StatusUpdateManagerOptions) {
    this.journal = options.journal;
    this.retryInitialMs = options.retryInitialMs ?? 1_000;
    this.retryMaxMs = options.retryMaxMs ?? 60_000;
    this.maxBatch = options.maxBatch ?? 500;
    this.transport = new Backoff({ initialMs: Math.min(this.retryInitialMs, 500), maxMs: Math.min(this.retryMaxMs, TRANSPORT_RETRY_CAP_MS), jitter: 0.2 });
  }

  /** Journals an update and sends it (after an fsync) as soon as the request in flight, if any, is answered. */
  report(update: StatusUpdate): void {
    this.journal.append(update);
    this.kick();
  }

  /** The framework acknowledged an update (relayed by the master); true if it was pending. */
  acknowledge(uuid: string): boolean {
    this.deliveries.delete(uuid);
    return this.journal.complete([uuid]).length > 0;
  }

  /** Starts (or resumes, after a registration) delivering: everything pending is due now. */
  resume(): void {
    this.paused = false;
    this.deliveries.clear();
    this.transport.reset();
    this.kick();
  }

  /** Holds delivery while the agent is not registered. */
  pause(): void {
    this.paused = true;
    if (this.timer) clearTimeout(this.timer);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Pending updates, in journal order. */
  pending(): StatusUpdate[] {
    return this.journal.pending();
  }

  kick(): void {
    if (this.stopped || this.paused) return;
    if (this.flushing) {
      this.again = true;
      return;
    }
    this.flushing = true;
    void this.run();
  }

  private async run(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.flushOnce();
      } while (this.again && !this.stopped && !this.paused);
    } catch (e) {
      this.options.log.error('status update delivery failed unexpectedly', { error: e });
    } finally {
      this.flushing = false;
      this.arm();
    }
  }

  /** Wakes up when the earliest pending update is due again. */
  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.stopped || this.paused) return;
    let next = Infinity;
    for (const u of this.journal.pending()) next = Math.min(next, this.deliveries.get(u.uuid)?.nextAt ?? 0);
    if (next === Infinity) return;
    this.timer = setTimeout(() => this.kick(), Math.max(0, next - Date.now()));
    this.timer.unref();
  }

  /**
   * The due updates, in journal order. A due update drags its task's later ones along; an
   * update never delivered that is waiting out a failure holds its task's later ones back, so
   * that they cannot overtake it.
   */
  private dueBatch(now: number): StatusUpdate[] {
    const batch: StatusUpdate[] = [];
    const dueTasks = new Set<string>();
    const heldTasks = new Set<string>();
    for (const u of this.journal.pending()) {
      const k = journalKey(u);
      if (heldTasks.has(k)) continue;
      const d = this.deliveries.get(u.uuid);
      if ((d?.nextAt ?? 0) <= now || dueTasks.has(k)) {
        dueTasks.add(k);
        batch.push(u);
        if (batch.length >= this.maxBatch) break;
      } else if (d !== undefined && d.attempts === 0) {
        heldTasks.add(k);
      }
    }
    return batch;
  }

  private async flushOnce(): Promise<void> {
    const batch = this.dueBatch(Date.now());
    if (batch.length === 0) return;
    // Nothing leaves before it is on disk.
    this.journal.sync();
    let answer: StatusResponse;
    try {
      answer = await this.options.send(batch);
    } catch (e) {
      if (e instanceof ReregisterRequired) {
        this.pause();
        await this.options.onReregister();
        return;
      }
      if (e instanceof ApiError && e.status === 400) {
        await this.isolate(batch);
        return;
      }
      this.retryLater(batch, e);
      return;
    }
    this.transport.reset();
    this.apply(batch, answer);
    if (batch.length >= this.maxBatch) this.again = true;
  }

  /** A request the master refused as a whole: send its updates one by one, dropping the bad ones. */
  private async isolate(batch: StatusUpdate[]): Promise<void> {
    for (const [i, u] of batch.entries()) {
      try {
        this.apply([u], await this.options.send([u]));
      } catch (e) {
        if (e instanceof ApiError && e.status === 400) {
          this.options.log.error('the master refused a status update as malformed; dropping it', { uuid: u.uuid, taskId: u.task_id, state: u.state, error: e.message });
          this.deliveries.delete(u.uuid);
          this.journal.complete([u.uuid]);
          continue;
        }
        if (e instanceof ReregisterRequired) {
          this.pause();
          await this.options.onReregister();
          return;
        }
        this.retryLater(batch.slice(i), e);
        return;
      }
    }
    this.again = true;
  }

  private retryLater(batch: readonly StatusUpdate[], e: unknown): void {
    const delay = this.transport.next();
    const at = Date.now() + delay;
    for (const u of batch) {
      const d = this.deliveries.get(u.uuid);
      this.deliveries.set(u.uuid, { attempts: d?.attempts ?? 0, nextAt: at });
    }
    const level = this.transport.attempts > 3 ? 'warn' : 'debug';
    this.options.log[level]('status updates not delivered; retrying', { updates: batch.length, retryInMs: delay, error: (e as Error).message });
  }

  private apply(batch: readonly StatusUpdate[], answer: StatusResponse): void {
    const now = Date.now();
    const byUuid = new Map(batch.map((u) => [u.uuid, u]));
    const done: string[] = [];
    for (const r of answer.results) {
      const u = byUuid.get(r.uuid);
      if (u === undefined) continue;
      byUuid.delete(r.uuid);
      this.options.onResult?.(u, r.result);
      switch (r.result) {
        case 'applied':
        case 'duplicate': {
          const attempts = (this.deliveries.get(u.uuid)?.attempts ?? 0) + 1;
          this.deliveries.set(u.uuid, { attempts, nextAt: now + backoffDelay(attempts, { initialMs: this.retryInitialMs, maxMs: this.retryMaxMs, jitter: 0 }) });
          break;
        }
        case 'acknowledged':
          done.push(u.uuid);
          this.options.onAcknowledged({ framework_id: u.framework_id, task_id: u.task_id, uuid: u.uuid });
          break;
        case 'rejected':
          this.options.log.info('the master rejected a status update; dropping it', { taskId: u.task_id, state: u.state, reason: r.message });
          done.push(u.uuid);
          break;
        case 'unknown_task':
          done.push(u.uuid);
          if (r.kill) {
            this.options.log.warn('the master does not know a task this agent runs; killing it', { frameworkId: u.framework_id, taskId: u.task_id });
            this.options.onKill(u);
          }
          break;
      }
    }
    for (const uuid of done) this.deliveries.delete(uuid);
    this.journal.complete(done);
    // Updates the answer left out are resent soon, like a lost request.
    if (byUuid.size > 0) this.retryLater([...byUuid.values()], new Error('the master gave no result for them'));
  }
}
