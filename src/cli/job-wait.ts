import { Backoff, type BackoffOptions } from '../core/backoff.js';
import { sleep } from '../core/sleep.js';
import type { InstanceView, JobDetail } from '../jobs/index.js';
import { ApiError } from '../wire/api-error.js';

// `stratus run` without --detach: polls the jobs API until every instance of the new job runs
// (a batch job's may also have finished), a task fails, or what is left cannot be placed: those
// instances are pending with Fenzo's reason and a later pass said it again (a first pass may have
// seen only some agents' offers). The poll backs off while nothing changes. A pass that held no
// offers says only "no host is offering resources"; the last reason a pass with offers gave
// (a constraint, a shortfall) is the one reported.

export interface WaitOptions {
  /** Gives up after this long (the outcome is 'timeout'). */
  readonly timeoutMs: number;
  /** A pending reason must hold this long, restated by a later pass, before the instance counts as unplaceable. */
  readonly settleMs?: number;
  readonly poll?: BackoffOptions;
  /** Called with each answer of the jobs API. */
  readonly onPoll?: (job: JobDetail) => void;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

export const DEFAULT_SETTLE_MS = 5_000;
/** Modest: a few calls a second at first, one every 2 s once nothing changes. */
export const DEFAULT_POLL: BackoffOptions = { initialMs: 250, maxMs: 2_000, factor: 1.5, jitter: 0.2 };

export interface Unplaced {
  readonly index: number;
  readonly message: string;
}

export interface Failed {
  readonly index: number;
  readonly state: string;
  readonly reason?: string;
  readonly message?: string;
}

export type WaitOutcome =
  | { readonly kind: 'running'; readonly job: JobDetail }
  | { readonly kind: 'unplaceable'; readonly job: JobDetail; readonly unplaced: readonly Unplaced[] }
  | { readonly kind: 'failed'; readonly job: JobDetail; readonly failed: readonly Failed[] }
  | { readonly kind: 'timeout'; readonly job: JobDetail | undefined }
  | { readonly kind: 'aborted'; readonly job: JobDetail | undefined };

/** What the wait reads of the jobs API. */
export interface JobSource {
  get(name: string): Promise<JobDetail>;
}

/** An instance that is where `stratus run` wants it: running, or a batch instance done. */
function arrived(job: JobDetail, i: InstanceView): boolean {
  return i.state === 'running' || (job.type === 'batch' && i.state === 'finished');
}

/** Instances whose task failed (or, for a service, ended): a failed batch instance, or a counted failure. */
function failures(job: JobDetail): Failed[] {
  return job.instances
    .filter((i) => i.state === 'failed' || (i.failures > 0 && !arrived(job, i)))
    .map((i) => ({ index: i.index, state: i.lastExit?.state ?? 'TASK_FAILED', ...(i.lastExit?.reason ? { reason: i.lastExit.reason } : {}), ...(i.lastExit?.message ? { message: i.lastExit.message } : {}) }));
}

/** A short text of where the job's instances are: "2/3 running, 1 pending". */
export function progressSummary(job: JobDetail): string {
  const c = job.counts;
  const done = job.type === 'batch' ? `${c.running} running, ${c.finished}/${job.spec.instances} finished` : `${c.running}/${job.spec.instances} running`;
  const rest = [c.starting > 0 && `${c.starting} starting`, c.pending > 0 && `${c.pending} pending`, c.killing > 0 && `${c.killing} killing`, c.failed > 0 && `${c.failed} failed`].filter(Boolean);
  const reason = job.pending[0] ? ` (${job.name}/${job.pending[0].index}: ${job.pending[0].message})` : '';
  return `${job.name}: ${[done, ...rest].join(', ')}${reason}`;
}

export async function waitForJob(jobs: JobSource, name: string, options: WaitOptions): Promise<WaitOutcome> {
  const now = options.now ?? Date.now;
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  const deadline = now() + options.timeoutMs;
  const backoff = new Backoff(options.poll ?? DEFAULT_POLL);
  // Per pending instance: the reason's time when first seen, when we first saw it, and the most telling message.
  const reasons = new Map<number, { at: number; seen: number; restated: boolean; message: string; telling: boolean }>();
  let job: JobDetail | undefined;
  let last = '';
  for (;;) {
    if (options.signal?.aborted) return { kind: 'aborted', job };
    try {
      job = await jobs.get(name);
    } catch (e) {
      // A master failing over or a lost answer is retried until the deadline; a refusal is final.
      if (!(e instanceof ApiError) || e.rejected) throw e;
    }
    if (job !== undefined) {
      options.onPoll?.(job);
      const failed = failures(job);
      if (failed.length > 0) return { kind: 'failed', job, failed };
      const t = now();
      for (const i of job.instances) {
        if (i.state !== 'pending' || i.pending === undefined) {
          reasons.delete(i.index);
          continue;
        }
        const r = reasons.get(i.index);
        const telling = i.pending.reasons.some((x) => x.kind !== 'noLeases');
        if (r === undefined) reasons.set(i.index, { at: i.pending.at, seen: t, restated: false, message: i.pending.message, telling });
        else {
          if (i.pending.at !== r.at) r.restated = true;
          if (telling || !r.telling) Object.assign(r, { message: i.pending.message, telling: r.telling || telling });
        }
      }
      const live = job.instances.length >= job.spec.instances;
      const unplaced = job.instances.filter((i) => {
        const r = reasons.get(i.index);
        return r !== undefined && r.restated && t - r.seen >= settleMs;
      });
      const arrivedCount = job.instances.filter((i) => arrived(job!, i)).length;
      if (live && arrivedCount >= job.spec.instances) return { kind: 'running', job };
      if (live && unplaced.length > 0 && arrivedCount + unplaced.length >= job.spec.instances) {
        return { kind: 'unplaceable', job, unplaced: unplaced.map((i) => ({ index: i.index, message: reasons.get(i.index)!.message })) };
      }
      // Poll faster again as soon as something moves.
      const state = JSON.stringify(job.instances.map((i) => [i.index, i.state, i.pending?.at]));
      if (state !== last) backoff.reset();
      last = state;
    }
    const left = deadline - now();
    if (left <= 0) return { kind: 'timeout', job };
    await sleep(Math.min(backoff.next(), left), options.signal);
  }
}
