import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay } from '../../../src/core/backoff.js';
import { sleep } from '../../../src/core/sleep.js';

// The one backoff and the one sleep of the code base.

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the cap, jittered downwards only', () => {
    const opts = { initialMs: 100, maxMs: 1000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, opts))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 1000, jitter: 0.5 }, () => 1)).toBe(200);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 1000, jitter: 0.5 }, () => 0)).toBe(400);
  });
});

describe('Backoff', () => {
  it('hands out the schedule one delay at a time and starts over on reset', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 300, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.attempts]).toEqual([100, 200, 300, 3]);
    b.reset();
    expect([b.next(), b.attempts]).toEqual([100, 1]);
  });

  it('keeps partial jitter within [delay × (1 - jitter), delay]', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.2 }, () => 0.5);
    expect(b.next()).toBe(900);
  });
});

describe('sleep', () => {
  it('resolves at once, without throwing, when its signal aborts', async () => {
    const abort = new AbortController();
    const slept = sleep(60_000, abort.signal);
    abort.abort();
    await expect(slept).resolves.toBeUndefined();
    await expect(sleep(60_000, abort.signal)).resolves.toBeUndefined();
  });
});
