// The leader reactor's timer port: "wake me at this time" for what time alone triggers (an
// offer timeout, a decline filter's end, a ping timeout). One pending wake-up at a time: arming
// an earlier time replaces it, a later one is kept for after it fires (the reactor re-arms
// after every pass anyway). Adapters: in memory (below; an injected clock in tests) and SQS
// delay messages (lambda/sqs-wake-timer.ts) in a deployed region.

export interface WakeTimer {
  /** Wake the reactor at `at` (the master's wall clock, ms), unless already due to wake earlier. */
  arm(at: number): Promise<void>;
}

export interface MemoryWakeTimerOptions {
  /** The clock `arm` times are on (the master's ctx.now). */
  readonly now?: () => number;
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  readonly clearTimer?: (handle: unknown) => void;
}

/** A wake-up on a process timer: `stratus dev`, tests (vitest's fake timers move it). */
export class MemoryWakeTimer implements WakeTimer {
  /** When it is set to fire (undefined: not armed). */
  due: number | undefined;
  fired = 0;
  private handle: unknown;
  private onWake: (() => void) | undefined;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(options: MemoryWakeTimerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout));
  }

  /** Who is woken (the reactor's `onTimer`). */
  connect(onWake: () => void): void {
    this.onWake = onWake;
  }

  async arm(at: number): Promise<void> {
    if (!Number.isFinite(at)) return;
    if (this.due !== undefined && this.due <= at) return;
    this.cancel();
    this.due = at;
    this.handle = this.setTimer(() => {
      this.due = undefined;
      this.handle = undefined;
      this.fired++;
      this.onWake?.();
    }, Math.max(0, at - this.now()));
  }

  cancel(): void {
    if (this.handle !== undefined) this.clearTimer(this.handle);
    this.handle = undefined;
    this.due = undefined;
  }
}
