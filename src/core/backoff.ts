// The one backoff of the code base: exponential, capped, with jitter. The SDK (reconnects, as
// Mesos's scheduler library does), the agent (reconnects, status resends), the master (between
// lost races on a busy item), the autoscaler (provider retries) and the jobs framework
// (relaunching a failing instance) all pace their retries by it.

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Default 2. */
  readonly factor?: number;
  /**
   * Spread each delay over [delay × (1 - jitter), delay]; default 0.5. 0 makes it exact; 1 is
   * "full jitter" (racers spread out rather than collide again in lockstep).
   */
  readonly jitter?: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000 };

/** The delay before attempt `attempt` (1-based): initial × factor^(attempt-1), capped, jittered. */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 0.5;
  const n = Math.max(1, Math.floor(attempt));
  const exact = Math.min(options.maxMs, options.initialMs * factor ** Math.min(n - 1, 64));
  return Math.round(exact * (1 - jitter * random()));
}

/** A retry loop's position in the schedule: `next()` gives the next delay, `reset()` starts over. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    this.attempt++;
    return backoffDelay(this.attempt, this.options, this.random);
  }

  reset(): void {
    this.attempt = 0;
  }

  /** Delays handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }
}
