import { backoffDelay, type BackoffOptions } from '../core/backoff.js';
import { sleep } from '../core/sleep.js';
import { ConflictError, UnavailableError } from '../core/errors.js';

// Read-modify-write against conditional writes: when another writer won the race, read
// again and retry. Hot items (an agent's counters while its tasks churn) can lose many races
// in a row, so the pause grows exponentially with full jitter (racers spread out rather than
// collide again in lockstep), capped so a call still answers within a few seconds.

export interface RetryOptions {
  readonly attempts?: number;
  readonly backoff?: BackoffOptions;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** Every attempt lost a race: the state is too busy right now. Transient, so a 503 to retry. */
export class ContentionError extends UnavailableError {
  constructor(
    readonly attempts: number,
    readonly last: ConflictError,
  ) {
    super(`busy: lost ${attempts} races in a row to concurrent changes (${last.message}); retry shortly`);
  }
}

/** Pauses between attempts: the first up to 10 ms, doubling to 800 ms, fully jittered. */
export const CONFLICT_BACKOFF: BackoffOptions = { initialMs: 10, maxMs: 800, jitter: 1 };

export async function retryOnConflict<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions = {}): Promise<T> {
  const attempts = o.attempts ?? 10;
  const pause = o.sleep ?? sleep;
  const random = o.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
      if (attempt >= attempts) throw new ContentionError(attempts, e);
      await pause(backoffDelay(attempt, o.backoff ?? CONFLICT_BACKOFF, random));
    }
  }
}
