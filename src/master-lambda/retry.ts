import { ConflictError } from '../core/errors.js';

// Read-modify-write against conditional writes: when another writer won the race, read
// again and retry, with a little jitter so two racers do not collide again in lockstep.

export async function retryOnConflict<T>(fn: (attempt: number) => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!(e instanceof ConflictError) || attempt >= attempts) throw e;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    }
  }
}
