// The one sleep of the code base.

/**
 * Resolves after `ms`, or at once (without throwing) when `signal` aborts. `unref` lets the
 * process exit while it waits (a grace period nobody else needs to keep the process for).
 */
export function sleep(ms: number, signal?: AbortSignal, options: { readonly unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, Math.max(0, ms));
    if (options.unref) t.unref();
    signal?.addEventListener('abort', done, { once: true });
  });
}
