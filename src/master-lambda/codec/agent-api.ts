import { z } from 'zod';
import { TASK_STATES } from '../../core/task-state.js';
import { mesosResources } from './mesos-resources.js';

// Stratus's agent-facing API (JSON under /api/v1/agents/...). The master validates with
// these schemas; the agent daemon builds its requests and reads the answers with them.

const id = z.string().min(1).max(255);
const taskRef = z.object({ framework_id: id, task_id: id });

export const attributesSchema = z
  .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'attribute names are 1-64 characters of A-Z a-z 0-9 _ . -'), z.string().max(255))
  .refine((r) => Object.keys(r).length <= 64, 'at most 64 attributes');

export const registerRequest = z.object({
  agent_id: id.optional(),
  hostname: z.string().min(1).max(255),
  endpoint: z.string().url().max(2048).optional(),
  resources: mesosResources,
  attributes: attributesSchema.optional(),
  /** What the agent runs now (reregistration after a restart of either side). */
  tasks: z.array(taskRef.extend({ state: z.enum(TASK_STATES.map((s) => `TASK_${s}`) as [string, ...string[]]) })).max(10000).optional(),
});
export type RegisterRequest = z.output<typeof registerRequest>;

export interface RegisterResponse {
  agent_id: string;
  session: string;
  heartbeat_interval_seconds: number;
  /** Tasks the agent reported that the master does not want running: kill them. */
  kill_tasks: { framework_id: string; task_id: string }[];
}

/** `healthy: false` (with a message) when the agent cannot run tasks, e.g. its Docker engine is down. */
export const heartbeatRequest = z.object({ session: id, healthy: z.boolean().optional(), message: z.string().max(1024).optional() });

export const workRequest = z.object({
  session: id,
  /** Acknowledgements the agent has applied to its journal: the master stops repeating them. */
  confirmed_acks: z.array(taskRef.extend({ uuid: z.string().min(1).max(256) })).max(10000).optional(),
  wait_seconds: z.number().min(0).max(60).optional(),
  /**
   * The `version` of the last work answer the agent applied: the poll then waits until new work
   * exists instead of repeating what the agent already has (pending kills, launches not yet started).
   */
  since_version: z.number().int().min(0).optional(),
});

export interface LaunchWork {
  framework_id: string;
  task_id: string;
  role: string;
  /** Fixed-point Resources (see src/core/resources.ts), including the task's ports. */
  resources: unknown;
  /** The TaskSpec (see src/core/task.ts). */
  spec: unknown;
  kill_grace_period_ms?: number;
}

export interface WorkResponse {
  /** The agent's work version this answer reflects; send it back as `since_version`. */
  version: number;
  launch: LaunchWork[];
  kill: { framework_id: string; task_id: string; grace_period_ms?: number }[];
  acks: { framework_id: string; task_id: string; uuid: string }[];
  messages: { framework_id: string; executor_id: string; data: string }[];
}

export const statusUpdate = z.object({
  framework_id: id,
  task_id: id,
  state: z.enum(TASK_STATES.map((s) => `TASK_${s}`) as [string, ...string[]]),
  uuid: z.string().min(4).max(128),
  source: z.enum(['SOURCE_AGENT', 'SOURCE_EXECUTOR']).optional(),
  reason: z.string().max(128).optional(),
  message: z.string().max(4096).optional(),
  healthy: z.boolean().optional(),
  timestamp: z.number().positive(),
});
export type StatusUpdate = z.output<typeof statusUpdate>;

export const statusRequest = z.object({ session: id, updates: z.array(statusUpdate).min(1).max(500) });

export type StatusResult = 'applied' | 'duplicate' | 'acknowledged' | 'rejected' | 'unknown_task';

export interface StatusResponse {
  results: { uuid: string; result: StatusResult; message?: string; kill?: boolean }[];
}
