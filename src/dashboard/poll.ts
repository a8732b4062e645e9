import { useEffect, useRef } from 'preact/hooks';

// Runs `tick` now and every `everyMs` after it settles, only while the tab is visible: a hidden
// tab makes no calls, and a tab shown again is refreshed at once.
export function usePolling(tick: () => Promise<void>, everyMs: number, key: unknown): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    let stopped = false;
    let running = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async (): Promise<void> => {
      if (stopped || running || document.hidden) return;
      running = true;
      try {
        await latest.current();
      } finally {
        running = false;
        clearTimeout(timer);
        if (!stopped && !document.hidden) timer = setTimeout(() => void run(), everyMs);
      }
    };
    const onVisibility = (): void => {
      clearTimeout(timer);
      if (!document.hidden) void run();
    };
    document.addEventListener('visibilitychange', onVisibility);
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [key, everyMs]);
}
