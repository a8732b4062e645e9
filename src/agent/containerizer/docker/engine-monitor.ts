import type Docker from 'dockerode';
import { sleep } from '../../../core/sleep.js';
import type { EngineHealth, EngineState } from '../containerizer.js';
import { dockerMessage, EngineUnavailableError, isEngineUnavailable, socketErrorCode } from './engine-errors.js';

// Whether the Docker engine answers: pings it (every checkIntervalMs while healthy, every second
// while not), turns answers and failures into HEALTHY / UNHEALTHY, and retries engine calls
// while it is away. A task is never failed just because the engine was away.

export interface EngineMonitorOptions {
  /** The request/response client (each call bounded). */
  readonly api: Docker;
  readonly socketPath: string;
  readonly checkIntervalMs: number;
  /** How long withEngine retries an engine that does not answer. */
  readonly retryMs: number;
  readonly health: () => EngineHealth;
  readonly setHealth: (state: EngineState, message: string) => void;
  /**
   * After each answered ping: attaches what needs a live engine (the event stream). True when
   * everything is attached; otherwise the monitor comes back within a second.
   */
  readonly attach: () => Promise<boolean>;
  readonly closed: () => boolean;
  readonly log: (message: string) => void;
}

export interface EngineStats {
  /** Pings of the engine completed (answered or failed), background and on demand. */
  readonly engineChecks: number;
}

export class EngineMonitor {
  private timer: NodeJS.Timeout | undefined;
  private pinging: Promise<boolean> | undefined;
  private checks = 0;

  constructor(private readonly o: EngineMonitorOptions) {}

  /** Starts the background checks (the first one at once). */
  start(): void {
    this.schedule(0);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  stats(): EngineStats {
    return { engineChecks: this.checks };
  }

  private schedule(ms: number): void {
    if (this.o.closed()) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.round(), ms);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    const ok = await this.ping();
    const healthy = ok && (await this.o.attach());
    this.schedule(healthy ? this.o.checkIntervalMs : Math.min(1_000, this.o.checkIntervalMs));
  }

  /** Pings the engine (single flight); true when it answered. */
  ping(): Promise<boolean> {
    this.pinging ??= this.o.api
      .ping()
      .then(() => {
        this.up();
        return true;
      })
      .catch((e: unknown) => {
        this.down(e);
        return false;
      })
      .finally(() => {
        this.pinging = undefined;
        this.checks++;
      });
    return this.pinging;
  }

  /** A stream that needs the engine dropped: ping now, and come back at once if the engine answers. */
  recheck(): void {
    void this.ping().then(() => this.schedule(this.o.health().state === 'HEALTHY' ? 0 : 500));
  }

  /** The engine answered. */
  up(): void {
    if (this.o.health().state === 'HEALTHY') return;
    this.o.setHealth('HEALTHY', `Docker engine at ${this.o.socketPath} answers`);
    // Back from an outage (or first contact): streams re-attach on the next round.
    this.schedule(0);
  }

  /** The engine did not answer. */
  down(e: unknown): void {
    const wasHealthy = this.o.health().state !== 'UNHEALTHY';
    this.o.setHealth('UNHEALTHY', `Docker engine at ${this.o.socketPath} is not answering: ${socketErrorCode(e) ?? ''} ${dockerMessage(e)}`.replace(/  +/g, ' '));
    if (wasHealthy) this.schedule(200);
  }

  /** A background engine call failed: an engine that does not answer is UNHEALTHY, anything else is logged. */
  noteFailure(what: string, e: unknown): void {
    if (isEngineUnavailable(e)) this.down(e);
    else this.o.log(`docker ${what}: ${dockerMessage(e)}`);
  }

  /** Runs an engine call, retrying while the engine does not answer, up to `deadlineMs`. */
  async withEngine<T>(what: string, fn: () => Promise<T>, deadlineMs = this.o.retryMs): Promise<T> {
    const deadline = Date.now() + deadlineMs;
    let delay = 200;
    for (;;) {
      try {
        const result = await fn();
        this.up();
        return result;
      } catch (e) {
        if (!isEngineUnavailable(e)) throw e;
        this.down(e);
        if (this.o.closed() || Date.now() + delay > deadline) {
          throw new EngineUnavailableError(`Docker engine at ${this.o.socketPath} is unavailable (${what}): ${dockerMessage(e)}`);
        }
        await sleep(delay, undefined, { unref: true });
        delay = Math.min(delay * 2, 2_000);
      }
    }
  }
}
