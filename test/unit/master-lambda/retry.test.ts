import { expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../../../src/core/errors.js';
import { errorResponse } from '../../../src/http/error-response.js';
import { silentLogger } from '../../../src/core/logger.js';
import { CONFLICT_BACKOFF, ContentionError, retryOnConflict } from '../../../src/master-lambda/retry.js';
import { backoffDelay } from '../../../src/core/backoff.js';

// Lost races are retried with growing, jittered pauses; a call that loses every race is a
// transient 503 (retry), never a 409, which agents read as "register again".

it('pauses up to 10 ms * 2^(attempt-1), capped at 800 ms, anywhere down to 0 (full jitter)', () => {
  expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((a) => backoffDelay(a, CONFLICT_BACKOFF, () => 0))).toEqual([10, 20, 40, 80, 160, 320, 640, 800, 800]);
  expect(backoffDelay(7, CONFLICT_BACKOFF, () => 0.5)).toBe(320);
  expect(backoffDelay(3, CONFLICT_BACKOFF, () => 1)).toBe(0);
});

it('retries lost races with growing pauses until one wins', async () => {
  const pauses: number[] = [];
  let calls = 0;
  const result = await retryOnConflict(
    async (attempt) => {
      calls++;
      if (attempt < 4) throw new ConflictError('changed concurrently: agent a1');
      return 'done';
    },
    { sleep: async (ms) => void pauses.push(ms), random: () => 0 },
  );
  expect(result).toBe('done');
  expect(calls).toBe(4);
  expect(pauses).toEqual([10, 20, 40]);
});

it('answers a call that loses every race with a 503 and Retry-After, naming what changed', async () => {
  let calls = 0;
  const failing = retryOnConflict(
    async () => {
      calls++;
      throw new ConflictError('changed concurrently: agent a1');
    },
    { attempts: 5, sleep: async () => undefined },
  );
  const e = await failing.catch((err: unknown) => err);
  expect(calls).toBe(5);
  expect(e).toBeInstanceOf(ContentionError);
  const res = errorResponse(e, silentLogger);
  expect(res.status).toBe(503);
  expect(res.headers).toMatchObject({ 'Retry-After': '1' });
  expect(JSON.stringify(res.body)).toContain('agent a1');
});

it('does not retry other errors', async () => {
  let calls = 0;
  const e = await retryOnConflict(async () => {
    calls++;
    throw new ValidationError('bad', 'x');
  }).catch((err: unknown) => err);
  expect(e).toBeInstanceOf(ValidationError);
  expect(calls).toBe(1);
});
