import { backoffDelay } from '../core/backoff.js';
import type { TaskStatus } from '../sdk/index.js';
import { clean, type InstanceDoc, type InstanceState } from './model.js';
import type { JobSpec } from './spec.js';

// How a status update moves an instance slot. Pure: the framework persists the result (before
// acknowledging the update) and acts on it.

export interface InstanceBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
  /** A task that ran this long before failing starts the backoff over. */
  readonly resetAfterMs: number;
}

export const DEFAULT_INSTANCE_BACKOFF: InstanceBackoff = { initialMs: 1_000, maxMs: 60_000, resetAfterMs: 60_000 };

/** Delay before relaunching after the n-th consecutive failure: initial × 2^(n-1), capped. */
export function instanceBackoffMs(failures: number, b: InstanceBackoff): number {
  return failures <= 0 ? 0 : backoffDelay(failures, { initialMs: b.initialMs, maxMs: b.maxMs, jitter: 0 });
}

const LIVE: Readonly<Record<string, InstanceState>> = {
  TASK_STAGING: 'staging',
  TASK_STARTING: 'starting',
  TASK_RUNNING: 'running',
  TASK_KILLING: 'killing',
};
/** A task only moves forward through these; a lower one is a late resend (unacknowledged updates are delivered again). */
const RANK: Readonly<Record<string, number>> = { TASK_STAGING: 1, TASK_STARTING: 2, TASK_RUNNING: 3, TASK_KILLING: 4 };

/** What happened to the slot: `removed` drops it (scale down, delete); `ended` means its task is gone. */
export interface Transition {
  readonly next: InstanceDoc | 'removed';
  readonly ended: boolean;
}

/** Applies an update about the slot's current task. Updates about other tasks must not come here. */
export function applyStatus(inst: InstanceDoc, spec: JobSpec, specVersion: number, status: TaskStatus, now: number, backoff: InstanceBackoff): Transition {
  const live = LIVE[status.state];
  if (live !== undefined) {
    if ((RANK[inst.taskState ?? ''] ?? 0) > (RANK[status.state] ?? 0)) return { ended: false, next: inst };
    // A task we are killing stays 'killing' whatever it reports until it ends.
    const state: InstanceState = inst.kill !== undefined ? 'killing' : live;
    const running = status.state === 'TASK_RUNNING';
    return {
      ended: false,
      next: clean({
        ...inst,
        state,
        taskState: status.state,
        ...(status.agentId ? { agentId: status.agentId } : {}),
        healthy: status.healthy ?? (running ? inst.healthy : undefined),
        runningSince: running ? (inst.runningSince ?? now) : inst.runningSince,
        pending: undefined,
        updatedAt: now,
      }),
    };
  }
  // Every other state means the task is gone for us. UNREACHABLE tasks are replaced too (Marathon's
  // default); should one come back, the framework kills it as a task it no longer knows.
  const lastExit = clean({ state: status.state, reason: status.reason, message: status.message, at: now });
  const base: InstanceDoc = clean({
    ...inst,
    taskId: undefined,
    agentId: undefined,
    hostname: undefined,
    zone: undefined,
    taskState: undefined,
    healthy: undefined,
    runningSince: undefined,
    launchedAt: undefined,
    kill: undefined,
    move: undefined,
    lastExit,
    updatedAt: now,
  });
  if (inst.remove === true || inst.kill === 'delete' || inst.kill === 'scale') return { ended: true, next: 'removed' };
  // Killed on purpose to be replaced: straight away, with the current spec.
  if (inst.kill === 'update' || inst.kill === 'rebalance') return { ended: true, next: { ...base, state: 'pending', specVersion, backoffUntil: undefined } };
  // The master never had the task (we stopped between recording and launching it): launch again.
  const neverLaunched = (status.state === 'TASK_UNKNOWN' || status.state === 'TASK_LOST' || status.state === 'TASK_DROPPED') && inst.state === 'launching';
  if (neverLaunched) return { ended: true, next: clean({ ...base, state: 'pending' as const, specVersion, launches: Math.max(0, inst.launches - 1) }) };
  if (spec.type === 'batch' && status.state === 'TASK_FINISHED') return { ended: true, next: { ...base, state: 'finished', failures: 0 } };
  const ranLong = inst.runningSince !== undefined && now - inst.runningSince >= backoff.resetAfterMs;
  const failures = ranLong ? 1 : inst.failures + 1;
  if (spec.type === 'batch' && inst.launches > spec.retries) return { ended: true, next: { ...base, state: 'failed', failures } };
  return { ended: true, next: { ...base, state: 'pending', specVersion, failures, backoffUntil: now + instanceBackoffMs(failures, backoff) } };
}
