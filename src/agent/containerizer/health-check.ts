import { request } from 'node:http';
import { connect } from 'node:net';
import type { HealthCheckSpec } from '../../core/task.js';

// Mesos-style health checking. After `delaySeconds` a probe runs every `intervalSeconds`, each
// bounded by `timeoutSeconds` (0 = Mesos's default, 20 s). Failures within `gracePeriodSeconds`
// of the launch are ignored until the first success. The first success makes the task healthy;
// the first counted failure makes it unhealthy; `consecutiveFailures` counted failures in a row
// (0 = never) make the containerizer kill the task, as Mesos's executors do. Only transitions are
// reported: the agent attaches `healthy` to a RUNNING update (reason TASK_HEALTH_CHECK_STATUS_UPDATED).

export interface ProbeResult {
  readonly ok: boolean;
  readonly message: string;
}

/** One check; must settle within about timeoutMs (it is also raced against it). */
export type HealthProbe = (timeoutMs: number) => Promise<ProbeResult>;

export interface HealthCallbacks {
  onHealthChange(healthy: boolean, message: string): void;
  onKill(message: string): void;
}

const DEFAULT_TIMEOUT_S = 20;

export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private consecutive = 0;
  private healthy: boolean | undefined;
  private succeeded = false;

  constructor(
    private readonly spec: HealthCheckSpec,
    private readonly probe: HealthProbe,
    private readonly callbacks: HealthCallbacks,
    /** When the task started (ms): the grace period counts from here, also after an agent restart. */
    private readonly startedAtMs: number = Date.now(),
  ) {}

  start(): void {
    const elapsed = Date.now() - this.startedAtMs;
    this.schedule(Math.max(0, this.spec.delaySeconds * 1000 - elapsed));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.check(), ms);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    const timeoutMs = (this.spec.timeoutSeconds > 0 ? this.spec.timeoutSeconds : DEFAULT_TIMEOUT_S) * 1000;
    let timeout: NodeJS.Timeout | undefined;
    const timedOut = new Promise<ProbeResult>((resolve) => {
      timeout = setTimeout(() => resolve({ ok: false, message: `health check timed out after ${timeoutMs / 1000} s` }), timeoutMs);
    });
    let result: ProbeResult;
    try {
      result = await Promise.race([this.probe(timeoutMs), timedOut]);
    } catch (e) {
      result = { ok: false, message: `health check failed: ${(e as Error).message}` };
    } finally {
      clearTimeout(timeout);
    }
    if (this.stopped) return;
    if (result.ok) {
      this.consecutive = 0;
      this.succeeded = true;
      if (this.healthy !== true) {
        this.healthy = true;
        this.callbacks.onHealthChange(true, result.message);
      }
    } else {
      const inGrace = !this.succeeded && Date.now() - this.startedAtMs < this.spec.gracePeriodSeconds * 1000;
      if (!inGrace) {
        this.consecutive++;
        if (this.healthy !== false) {
          this.healthy = false;
          this.callbacks.onHealthChange(false, result.message);
        }
        if (this.spec.consecutiveFailures > 0 && this.consecutive >= this.spec.consecutiveFailures) {
          this.stop();
          this.callbacks.onKill(`killed after ${this.consecutive} consecutive failed health checks: ${result.message}`);
          return;
        }
      }
    }
    this.schedule(this.spec.intervalSeconds * 1000);
  }
}

/** HTTP GET on the agent's localhost; 200-399 is healthy, as in Mesos. */
export function httpProbe(port: number, path: string, host = '127.0.0.1'): HealthProbe {
  return (timeoutMs) =>
    new Promise<ProbeResult>((resolve) => {
      const req = request({ host, port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve({ ok: code >= 200 && code < 400, message: `HTTP GET ${path} on port ${port} answered ${code}` });
      });
      req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
      req.on('error', (e) => resolve({ ok: false, message: `HTTP GET ${path} on port ${port} failed: ${e.message}` }));
      req.end();
    });
}

/** A TCP connect on the agent's localhost. */
export function tcpProbe(port: number, host = '127.0.0.1'): HealthProbe {
  return (timeoutMs) =>
    new Promise<ProbeResult>((resolve) => {
      const sock = connect({ host, port });
      const done = (r: ProbeResult): void => {
        sock.destroy();
        resolve(r);
      };
      sock.setTimeout(timeoutMs, () => done({ ok: false, message: `TCP connect to port ${port} timed out` }));
      sock.on('connect', () => done({ ok: true, message: `TCP connect to port ${port} succeeded` }));
      sock.on('error', (e) => done({ ok: false, message: `TCP connect to port ${port} failed: ${e.message}` }));
    });
}

/** The probe for HTTP/TCP checks; COMMAND checks are the containerizer's (they run inside the task). */
export function networkProbe(spec: HealthCheckSpec): HealthProbe | undefined {
  if (spec.type === 'HTTP' && spec.http) return httpProbe(spec.http.port, spec.http.path);
  if (spec.type === 'TCP' && spec.tcp) return tcpProbe(spec.tcp.port);
  return undefined;
}
