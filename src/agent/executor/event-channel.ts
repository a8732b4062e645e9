import type { JsonValue } from '../../core/json.js';
import { heartbeatEvent, type ExecutorEvent } from './executor-events.js';

// One executor subscription's event stream: events queue until the HTTP response takes them;
// a heartbeat keeps idle connections alive; it ends when the executor goes away (the request's
// signal) or the agent closes it (a newer subscription, the executor's end, agent shutdown).

export class EventChannel implements AsyncIterable<JsonValue> {
  private readonly queue: ExecutorEvent[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private readonly timer: NodeJS.Timeout;
  private readonly closeListeners: (() => void)[] = [];

  constructor(signal: AbortSignal | undefined, heartbeatMs: number) {
    signal?.addEventListener('abort', () => this.close(), { once: true });
    this.timer = setInterval(() => this.push(heartbeatEvent()), heartbeatMs);
    this.timer.unref();
  }

  get closed(): boolean {
    return this.ended;
  }

  /** False once closed: the event did not go out. */
  push(event: ExecutorEvent): boolean {
    if (this.ended) return false;
    this.queue.push(event);
    this.wake?.();
    return true;
  }

  onClose(listener: () => void): void {
    if (this.ended) listener();
    else this.closeListeners.push(listener);
  }

  /** Ends the stream once what is queued has been written. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    this.wake?.();
    for (const l of this.closeListeners.splice(0)) l();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<JsonValue> {
    for (;;) {
      while (this.queue.length > 0) yield this.queue.shift()!;
      if (this.ended) return;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}
