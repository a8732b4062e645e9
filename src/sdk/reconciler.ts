import { backoffDelay, type BackoffOptions } from '../core/backoff.js';
import { sleep } from '../core/sleep.js';
import type { ReconcileResult, TaskRef, TaskStatus } from './types.js';

// Task reconciliation as the Mesos guide describes it: ask about the tasks the framework knows
// (explicit), take any update for a task as its answer, ask again about the unanswered ones
// with exponential backoff, then ask for everything (implicit) so tasks the framework does not
// know surface too. The implicit call is retried with backoff until the master accepts it.

export interface ReconcileOptions {
  /** Default 1 s doubling to 30 s. */
  readonly backoff?: BackoffOptions;
  /** Explicit rounds before giving up on unanswered tasks (default 8). */
  readonly maxAttempts?: number;
}

interface Round {
  readonly waiting: Map<string, TaskRef>;
  readonly answers: Map<string, TaskStatus>;
  wake: () => void;
}

export class Reconciler {
  private readonly backoff: BackoffOptions;
  private readonly maxAttempts: number;
  private rounds = new Set<Round>();
  private cancelled = new AbortController();

  constructor(
    private readonly send: (tasks: readonly TaskRef[]) => Promise<void>,
    options: ReconcileOptions = {},
    private readonly log: { warn(message: string, context?: Record<string, unknown>): void },
  ) {
    this.backoff = options.backoff ?? { initialMs: 1000, maxMs: 30_000, jitter: 0 };
    this.maxAttempts = options.maxAttempts ?? 8;
  }

  /** Records an update: it answers any round waiting for its task. */
  observe(status: TaskStatus): void {
    for (const round of this.rounds) {
      if (round.waiting.delete(status.taskId)) {
        round.answers.set(status.taskId, status);
        if (round.waiting.size === 0) round.wake();
      }
    }
  }

  /** Stops running rounds (the subscription ended); they resolve with what they have. */
  cancel(): void {
    this.cancelled.abort();
    this.cancelled = new AbortController();
  }

  async run(tasks: readonly TaskRef[]): Promise<ReconcileResult> {
    const signal = this.cancelled.signal;
    const round: Round = { waiting: new Map(tasks.map((t) => [t.taskId, t])), answers: new Map(), wake: () => {} };
    this.rounds.add(round);
    try {
      for (let attempt = 1; round.waiting.size > 0 && attempt <= this.maxAttempts && !signal.aborted; attempt++) {
        const asked = [...round.waiting.values()];
        const answered = new Promise<void>((resolve) => (round.wake = resolve));
        try {
          for (let i = 0; i < asked.length; i += 5000) await this.send(asked.slice(i, i + 5000));
        } catch (e) {
          this.log.warn('explicit reconcile failed; retrying', { error: e, attempt });
        }
        const abort = new AbortController();
        void answered.then(() => abort.abort());
        await sleep(backoffDelay(attempt, this.backoff), AbortSignal.any([signal, abort.signal]));
      }
      for (let attempt = 1; !signal.aborted; attempt++) {
        try {
          await this.send([]);
          break;
        } catch (e) {
          this.log.warn('implicit reconcile failed; retrying', { error: e, attempt });
          await sleep(backoffDelay(attempt, this.backoff), signal);
        }
      }
      return { statuses: round.answers, unanswered: [...round.waiting.keys()] };
    } finally {
      this.rounds.delete(round);
    }
  }
}
