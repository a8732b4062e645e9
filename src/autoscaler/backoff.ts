// Exponential backoff between attempts at a provider call that failed transiently (throttling,
// a timeout), with jitter so that retries from several operations spread out.

export interface RetryPolicy {
  /** Delay after the first failure. */
  readonly initialMs: number;
  /** The delay doubles up to this. */
  readonly maxMs: number;
  /** After this many failed attempts the operation is given up and reported. */
  readonly maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 1_000, maxMs: 60_000, maxAttempts: 20 };

/** The wait after `attempts` failures (1 = the first), within ±20% of initial × 2^(attempts-1), capped. */
export function backoffMs(policy: RetryPolicy, attempts: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}
