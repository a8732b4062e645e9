// The one wait of the test suite: until a condition holds (an offer that fits, a round counter,
// an event), polling it; the timeout only bounds a failure, it never orders events.

export type Probe<T> = () => T | undefined | null | false | Promise<T | undefined | null | false>;

/** Resolves with the probe's first truthy value; throws after `timeoutMs` naming `what`. */
export async function waitUntil<T>(probe: Probe<T>, timeoutMs: number, what = 'condition', stepMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * Under vitest's fake timers: moves the clock in steps until the condition holds, running
 * what falls due on the way. Returns how far the clock moved. Throws past `maxMs` of fake time.
 */
export async function advanceUntil(check: () => boolean | Promise<boolean>, maxMs: number, what = 'condition', stepMs = 5): Promise<number> {
  const { vi } = await import('vitest');
  let moved = 0;
  while (!(await check())) {
    if (moved >= maxMs) throw new Error(`${what} did not happen within ${maxMs} ms of fake time`);
    await vi.advanceTimersByTimeAsync(stepMs);
    moved += stepMs;
  }
  return moved;
}
