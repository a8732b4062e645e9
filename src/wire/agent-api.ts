import { z } from 'zod';
import { ValidationError } from '../core/errors.js';
import { parseTaskStateName, TASK_STATES, type TaskState } from '../core/task-state.js';
import { mesosResources } from './mesos-resources.js';
import { userRecord } from './validate.js';

// Stratus's agent-facing API (JSON under /api/v1/agents/...): one schema per request and per
// answer, used by both sides. The master parses requests with them and builds answers of their
// input types; the agent builds requests of their input types and parses the answers (the
// master is external input too).

const id = z.string().min(1).max(255);
const taskRef = z.object({ framework_id: id, task_id: id });
const taskStateName = z.enum(TASK_STATES.map((s) => `TASK_${s}`) as [string, ...string[]]);

/** The core state of a state name these schemas accepted (TASK_RUNNING -> RUNNING). */
export function wireState(name: string): TaskState {
  const s = parseTaskStateName(name);
  if (s === undefined) throw new ValidationError(`'${name.slice(0, 64)}' is not a task state`, 'state');
  return s;
}

export const attributesSchema = userRecord(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'attribute names are 1-64 characters of A-Z a-z 0-9 _ . -'), z.string().max(255)).refine(
  (r) => Object.keys(r).length <= 64,
  'at most 64 attributes',
);

// --- register -------------------------------------------------------------------------------

/** The per-agent secret: issued at an agent's first registration, proof of identity at every later one. */
const agentSecret = z.string().min(16).max(256);

export const registerRequest = z.object({
  agent_id: id.optional(),
  /** The secret the master gave this agent id (kept in the agent's work dir); required to register under an existing id. */
  agent_secret: agentSecret.optional(),
  hostname: z.string().min(1).max(255),
  endpoint: z.string().url().max(2048).optional(),
  resources: mesosResources,
  attributes: attributesSchema.optional(),
  /** What the agent runs now (reregistration after a restart of either side). */
  tasks: z.array(taskRef.extend({ state: taskStateName })).max(10000).optional(),
});
export type RegisterRequest = z.output<typeof registerRequest>;

export const registerResponse = z.object({
  agent_id: id,
  session: id,
  heartbeat_interval_seconds: z.number().positive(),
  /** Tasks the agent reported that the master does not want running: kill them. */
  kill_tasks: z.array(taskRef).default([]),
  /** Keep it with the agent id: registering under this id again needs it. */
  agent_secret: agentSecret.optional(),
});
export type RegisterResponse = z.output<typeof registerResponse>;

// --- authorize ------------------------------------------------------------------------------

/**
 * The agent asks the master whether a caller of its own endpoint (task logs, state) may read what
 * frameworks' tasks: the master checks the caller's credential as it checks its own callers.
 */
export const authorizeRequest = z.object({
  /** The caller's Authorization header, as the agent received it. */
  authorization: z.string().max(8192).optional(),
  framework_ids: z.array(id).max(1000).default([]),
});
export type AuthorizeRequest = z.input<typeof authorizeRequest>;

export const authorizeResponse = z.object({
  /** An operator may read everything. */
  operator: z.boolean(),
  principal: z.string().optional(),
  /** The asked frameworks whose tasks the caller may read. */
  frameworks: z.array(z.string()).default([]),
});
export type AuthorizeResponse = z.output<typeof authorizeResponse>;

// --- heartbeat ------------------------------------------------------------------------------

/** `healthy: false` (with a message) when the agent cannot run tasks, e.g. its Docker engine is down. */
export const heartbeatRequest = z.object({ session: id, healthy: z.boolean().optional(), message: z.string().max(1024).optional() });
export type HeartbeatRequest = z.input<typeof heartbeatRequest>;

// --- work -----------------------------------------------------------------------------------

const ackRef = taskRef.extend({ uuid: z.string().min(1).max(256) });

export const workRequest = z.object({
  session: id,
  /** Acknowledgements the agent has applied to its journal: the master stops repeating them. */
  confirmed_acks: z.array(ackRef).max(10000).optional(),
  wait_seconds: z.number().min(0).max(60).optional(),
  /**
   * The `version` of the last work answer the agent applied: the poll then waits until new work
   * exists instead of repeating what the agent already has (pending kills, launches not yet started).
   */
  since_version: z.number().int().min(0).optional(),
});
export type WorkRequest = z.input<typeof workRequest>;

export const launchWork = taskRef.extend({
  role: z.string().optional(),
  /** Fixed-point Resources (src/core/resources.ts), including the task's ports; the containerizer checks them. */
  resources: z.unknown(),
  /**
   * The TaskSpec (src/core/task.ts); a malformed one becomes a TASK_ERROR update on the agent.
   * A task on a custom executor carries its ExecutorSpec in `spec.executor` (and TaskInfo.data in `spec.data`).
   */
  spec: z.unknown(),
  kill_grace_period_ms: z.number().min(0).optional(),
});
export type LaunchWork = z.output<typeof launchWork>;

export const workResponse = z.object({
  /** The agent's work version this answer reflects; sent back as `since_version`. */
  version: z.number().int().min(0).optional(),
  launch: z.array(launchWork).default([]),
  kill: z.array(taskRef.extend({ grace_period_ms: z.number().min(0).optional() })).default([]),
  acks: z.array(ackRef).default([]),
  messages: z.array(z.object({ framework_id: z.string(), executor_id: z.string(), data: z.string() })).default([]),
  /** Custom executors their framework asked to shut down (scheduler SHUTDOWN); repeated until they are gone. */
  shutdown_executors: z.array(z.object({ framework_id: id, executor_id: id })).default([]),
});
export type WorkResponse = z.output<typeof workResponse>;

// --- status ---------------------------------------------------------------------------------

export const statusUpdate = z.object({
  framework_id: id,
  task_id: id,
  state: taskStateName,
  uuid: z.string().min(4).max(128),
  source: z.enum(['SOURCE_AGENT', 'SOURCE_EXECUTOR']).optional(),
  reason: z.string().max(128).optional(),
  message: z.string().max(4096).optional(),
  healthy: z.boolean().optional(),
  timestamp: z.number().positive(),
});
export type StatusUpdate = z.output<typeof statusUpdate>;

export const statusRequest = z.object({ session: id, updates: z.array(statusUpdate).min(1).max(500) });
export type StatusRequest = z.input<typeof statusRequest>;

export const statusResult = z.enum(['applied', 'duplicate', 'acknowledged', 'rejected', 'unknown_task']);
export type StatusResult = z.output<typeof statusResult>;

export const statusResponse = z.object({
  results: z.array(z.object({ uuid: z.string(), result: statusResult, message: z.string().optional(), kill: z.boolean().optional() })),
});
export type StatusResponse = z.output<typeof statusResponse>;

// --- executor messages ----------------------------------------------------------------------

/**
 * Messages custom executors sent their frameworks (the executor API's MESSAGE call): the master
 * hands each to its framework as a MESSAGE event, best effort as in Mesos. An executor the
 * master does not have on this agent gets `unknown_executor`.
 */
export const executorMessagesRequest = z.object({
  session: id,
  messages: z.array(z.object({ framework_id: id, executor_id: id, data: z.string().max(1 << 20) })).min(1).max(100),
});
export type ExecutorMessagesRequest = z.input<typeof executorMessagesRequest>;

export const executorMessagesResponse = z.object({ results: z.array(z.enum(['delivered', 'unknown_executor'])) });
export type ExecutorMessagesResponse = z.output<typeof executorMessagesResponse>;
