import { EventEmitter } from 'node:events';

// Wakes waiters in this process when something they wait for changed: a framework's event
// log, an agent's work, the need for an allocation round. Across processes (several masters
// on one table) nothing is delivered and waiters fall back to re-reading at the poll interval,
// so the notifier only ever makes things faster, never correct.

export type Topic = `framework:${string}` | `agent:${string}` | 'allocation';

export interface Notifier {
  notify(topic: Topic): void;
  /** Resolves when `topic` is notified, after `ms`, or when `signal` aborts, whichever is first. */
  wait(topic: Topic, ms: number, signal?: AbortSignal): Promise<void>;
  subscribe(topic: Topic, fn: () => void): () => void;
}

export class InProcessNotifier implements Notifier {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  notify(topic: Topic): void {
    this.emitter.emit(topic);
  }

  subscribe(topic: Topic, fn: () => void): () => void {
    this.emitter.on(topic, fn);
    return () => this.emitter.off(topic, fn);
  }

  wait(topic: Topic, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        this.emitter.off(topic, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.emitter.on(topic, done);
      signal?.addEventListener('abort', done);
    });
  }
}
