import { z } from 'zod';
import type { FailureReason } from '../fenzo/index.js';
import { parseStoredSpec, type JobSpec } from './spec.js';

// What the jobs framework keeps in the Registry, parsed with zod when read back:
//   jobs/<name>            the user's intent (spec, version, delete and rebalance requests): written by the API
//   jobs-status/<name>     the framework's progress on it (rebalances handled)
//   instances.<name>/<i>   one instance slot each: its current task and its history: written by the framework
//   jobs-framework/framework  the framework id, so a restarted framework resubscribes as itself

export const JOBS_COLLECTION = 'jobs';
export const STATUS_COLLECTION = 'jobs-status';
export const FRAMEWORK_COLLECTION = 'jobs-framework';
export const FRAMEWORK_DOC_ID = 'framework';

export function instancesCollection(job: string): string {
  return `instances.${job}`;
}

export interface JobDoc {
  readonly spec: JobSpec;
  /** Grows at every change that needs new tasks; instances launched from an older one are outdated. */
  readonly specVersion: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly deleting?: boolean;
  /** Rebalance requests so far; the framework has handled `JobStatusDoc.rebalanceHandled` of them. */
  readonly rebalanceRequests: number;
}

const jobDocSchema = z.object({
  spec: z.unknown(),
  specVersion: z.number().int().min(1),
  createdAt: z.number(),
  updatedAt: z.number(),
  deleting: z.boolean().optional(),
  rebalanceRequests: z.number().int().min(0).default(0),
});

export function parseJobDoc(data: unknown): JobDoc {
  const d = jobDocSchema.parse(data);
  return { ...d, spec: parseStoredSpec(d.spec), ...(d.deleting ? { deleting: true } : {}) };
}

export interface JobStatusDoc {
  readonly rebalanceHandled: number;
  /** The last rebalance: how many instances it moved out of which zones. */
  readonly lastRebalance?: { readonly at: number; readonly moves: Readonly<Record<string, number>> };
}

const statusDocSchema = z.object({
  rebalanceHandled: z.number().int().min(0),
  lastRebalance: z.object({ at: z.number(), moves: z.record(z.string(), z.number()) }).optional(),
});

export function parseStatusDoc(data: unknown): JobStatusDoc {
  return statusDocSchema.parse(data);
}

/**
 * An instance slot's lifecycle: pending (needs a task; maybe backing off) → launching (task id
 * chosen and recorded, ACCEPT sent) → staging → starting → running → back to pending when its
 * task ends (replaced), or finished / failed for batch jobs.
 */
export const INSTANCE_STATES = ['pending', 'launching', 'staging', 'starting', 'running', 'killing', 'finished', 'failed'] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

/** Why the framework is killing an instance's task: decides what follows the kill. */
export const KILL_CAUSES = ['scale', 'update', 'rebalance', 'delete', 'timeout'] as const;
export type KillCause = (typeof KILL_CAUSES)[number];

export interface PendingReason {
  readonly message: string;
  readonly reasons: readonly FailureReason[];
  /** True when more or bigger hosts would place it (the autoscaler's signal); false for constraints. */
  readonly shortfall: boolean;
  readonly at: number;
}

export interface InstanceDoc {
  readonly index: number;
  readonly state: InstanceState;
  /** The spec version the current (or next) task runs. */
  readonly specVersion: number;
  readonly taskId?: string;
  readonly agentId?: string;
  readonly hostname?: string;
  readonly zone?: string;
  /** The last Mesos state of the current task (TASK_RUNNING...). */
  readonly taskState?: string;
  readonly healthy?: boolean;
  /** Tasks launched for this slot so far (batch: attempts). */
  readonly launches: number;
  /** Consecutive failures: the backoff grows with them and resets after a long enough run. */
  readonly failures: number;
  readonly backoffUntil?: number;
  readonly kill?: KillCause;
  /** Marked by a rebalance: to be moved (killed and replaced) within maxUnavailable. */
  readonly move?: boolean;
  /** Scale down: the slot goes away once its task has ended. */
  readonly remove?: boolean;
  readonly lastExit?: { readonly state: string; readonly reason?: string; readonly message?: string; readonly at: number };
  readonly pending?: PendingReason;
  readonly launchedAt?: number;
  readonly runningSince?: number;
  readonly updatedAt: number;
}

const failureReason = z.object({ kind: z.enum(['resource', 'constraint', 'groupCap', 'noLeases']) }).passthrough();

const instanceDocSchema = z.object({
  index: z.number().int().min(0),
  state: z.enum(INSTANCE_STATES),
  specVersion: z.number().int().min(1),
  taskId: z.string().optional(),
  agentId: z.string().optional(),
  hostname: z.string().optional(),
  zone: z.string().optional(),
  taskState: z.string().optional(),
  healthy: z.boolean().optional(),
  launches: z.number().int().min(0),
  failures: z.number().int().min(0),
  backoffUntil: z.number().optional(),
  kill: z.enum(KILL_CAUSES).optional(),
  move: z.boolean().optional(),
  remove: z.boolean().optional(),
  lastExit: z.object({ state: z.string(), reason: z.string().optional(), message: z.string().optional(), at: z.number() }).optional(),
  pending: z.object({ message: z.string(), reasons: z.array(failureReason), shortfall: z.boolean(), at: z.number() }).optional(),
  launchedAt: z.number().optional(),
  runningSince: z.number().optional(),
  updatedAt: z.number(),
});

export function parseInstanceDoc(data: unknown): InstanceDoc {
  const d = instanceDocSchema.parse(data);
  return d.pending ? { ...d, pending: { ...d.pending, reasons: d.pending.reasons as unknown as FailureReason[] } } : (d as InstanceDoc);
}

/** States in which the slot has a task the master may be running. */
export function hasLiveTask(i: InstanceDoc): boolean {
  return i.taskId !== undefined && (i.state === 'launching' || i.state === 'staging' || i.state === 'starting' || i.state === 'running' || i.state === 'killing');
}

/** Running, and healthy when the job has a health check. */
export function isAvailable(i: InstanceDoc, spec: JobSpec): boolean {
  return i.state === 'running' && (spec.healthCheck === undefined || i.healthy === true);
}

/** Removes undefined fields, so a document is plain JSON. */
export function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
