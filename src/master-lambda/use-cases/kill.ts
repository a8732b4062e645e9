import type { Framework } from '../../core/framework.js';
import type { TaskStatus } from '../../core/task.js';
import { isTerminal } from '../../core/task-state.js';
import type { Stored } from '../../state/registry.js';
import type { SchedulerCall } from '../codec/scheduler-call.js';
import { updateEvent } from '../codec/scheduler-event.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';
import { appendEvents } from './framework-events.js';

// KILL: marks the task for killing; its agent sees it in its work and reports
// KILLING/KILLED. A task the master does not know is answered as reconciliation would.

export async function requestKill(ctx: MasterContext, frameworkId: string, taskId: string, gracePeriodMs: number | undefined): Promise<boolean> {
  const now = ctx.now();
  const agentId = await retryOnConflict(async () => {
    const task = await ctx.registry.getTask(frameworkId, taskId);
    if (!task || isTerminal(task.state)) return undefined;
    if (task.killRequestedAt !== undefined && task.killGracePeriodMs === gracePeriodMs) return task.agentId;
    const next = { ...task, killRequestedAt: task.killRequestedAt ?? now, updatedAt: now, ...(gracePeriodMs !== undefined ? { killGracePeriodMs: gracePeriodMs } : {}) };
    await ctx.registry.transaction().putTask(next, { version: task.version }).touchAgentWork(task.agentId).commit();
    return task.agentId;
  });
  if (agentId) ctx.notifier.notify(`agent:${agentId}`);
  return agentId !== undefined;
}

/** The state to report for a task the master does not know (Mesos: UNKNOWN if partition-aware, else LOST). */
export function unknownTaskStatus(framework: Framework, now: number, reason: string, message: string): TaskStatus {
  const partitionAware = framework.info.capabilities.includes('PARTITION_AWARE');
  return { state: partitionAware ? 'UNKNOWN' : 'LOST', source: 'SOURCE_MASTER', reason, message, timestamp: now / 1000 };
}

export async function kill(ctx: MasterContext, framework: Stored<Framework>, call: Extract<SchedulerCall, { type: 'KILL' }>): Promise<void> {
  const { task_id, agent_id, kill_policy } = call.kill;
  const ns = kill_policy?.grace_period?.nanoseconds;
  const grace = ns !== undefined && ns >= 0 ? Math.round(ns / 1e6) : undefined;
  const task = await ctx.registry.getTask(framework.id, task_id.value);
  if (!task) {
    const status = unknownTaskStatus(framework, ctx.now(), 'RECONCILIATION', 'kill of a task the master does not know');
    const agentId = agent_id?.value ?? '';
    await appendEvents(ctx, framework.id, [updateEvent({ taskId: task_id.value as never, agentId: agentId as never }, status)]);
    return;
  }
  await requestKill(ctx, framework.id, task.taskId, grace);
}
