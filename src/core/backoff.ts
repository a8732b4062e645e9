// Exponential backoff with full or partial jitter: the SDK (as Mesos's scheduler library does
// for reconnects) and the master (between lost races on a busy item) pace their retries by it.

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Default 2. */
  readonly factor?: number;
  /** Spread each delay over [delay × (1 - jitter), delay]; default 0.5. 0 makes it exact. */
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

/** Resolves after `ms`, or at once (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
