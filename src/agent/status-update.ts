import { randomBytes } from 'node:crypto';
import { isValidId, type FrameworkId, type TaskId } from '../core/ids.js';
import { isTerminal, parseTaskStateName } from '../core/task-state.js';
import type { StatusUpdate } from '../wire/agent-api.js';
import type { ContainerReason, ContainerStatus, TaskRef } from './containerizer/containerizer.js';

// A containerizer's ContainerStatus becomes a Mesos status update: a fresh uuid (16 random
// bytes, base64, as Mesos's UUID), a source, and the reason with its REASON_ prefix.

const MAX_MESSAGE = 4096;

/** Mesos's status update uuid: 16 random bytes, base64. */
export function newStatusUuid(): string {
  return randomBytes(16).toString('base64');
}

// What the task itself (its command, its health check) said comes from the executor side;
// refusals, launch failures, limits and restarts are the agent's own findings.
const EXECUTOR_REASONS: ReadonlySet<ContainerReason | undefined> = new Set([undefined, 'COMMAND_EXECUTOR_FAILED', 'TASK_HEALTH_CHECK_STATUS_UPDATED']);

export function statusSource(status: Pick<ContainerStatus, 'state' | 'reason'>): 'SOURCE_AGENT' | 'SOURCE_EXECUTOR' {
  return status.state !== 'ERROR' && EXECUTOR_REASONS.has(status.reason) ? 'SOURCE_EXECUTOR' : 'SOURCE_AGENT';
}

/** The update for a status, or undefined when the status names no valid task (nothing to report to). */
export function toStatusUpdate(status: ContainerStatus): StatusUpdate | undefined {
  if (!isValidId(status.frameworkId) || !isValidId(status.taskId)) return undefined;
  const message = status.message !== undefined && status.message.length > MAX_MESSAGE ? `${status.message.slice(0, MAX_MESSAGE - 3)}...` : status.message;
  return {
    framework_id: status.frameworkId,
    task_id: status.taskId,
    state: `TASK_${status.state}`,
    uuid: newStatusUuid(),
    source: statusSource(status),
    ...(status.reason !== undefined && { reason: `REASON_${status.reason}` }),
    ...(message !== undefined && { message }),
    ...(status.healthy !== undefined && { healthy: status.healthy }),
    timestamp: status.timestamp > 0 ? status.timestamp : Date.now() / 1000,
  };
}

export function isTerminalUpdateState(state: string | undefined): boolean {
  const s = state === undefined ? undefined : parseTaskStateName(state);
  return s !== undefined && isTerminal(s);
}

/** The containerizers' key of a task the master names, or undefined for malformed ids. */
export function taskRefOf(t: { readonly framework_id: string; readonly task_id: string }): TaskRef | undefined {
  if (!isValidId(t.framework_id) || !isValidId(t.task_id)) return undefined;
  return { frameworkId: t.framework_id as FrameworkId, taskId: t.task_id as TaskId };
}
