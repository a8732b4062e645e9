import { canTransition, isTerminal, type TaskState } from '../../core/task-state.js';
import { subtract } from '../../core/resources.js';
import type { Agent } from '../../core/agent.js';
import type { Task, TaskStatus } from '../../core/task.js';
import type { Stored } from '../../state/registry.js';
import type { StatusResponse, StatusResult, StatusUpdate } from '../codec/agent-api.js';
import { updateEvent } from '../codec/scheduler-event.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';
import { addEvents } from './framework-events.js';

// Status updates from an agent: each moves its task through the state machine and reaches
// the framework as an UPDATE event, in one transaction. A resend of an update not yet
// acknowledged is delivered again (at-least-once); an acknowledged one is answered as such,
// so the agent can drop it from its journal.

const SEEN_LIMIT = 16;

export async function applyStatusUpdates(ctx: MasterContext, agent: Stored<Agent>, updates: readonly StatusUpdate[]): Promise<StatusResponse> {
  const results: StatusResponse['results'] = [];
  const touched = new Set<string>();
  for (const u of updates) {
    const r = await applyOne(ctx, agent.id, u);
    results.push({ uuid: u.uuid, ...r });
    if (r.result === 'applied' || r.result === 'duplicate') touched.add(u.framework_id);
  }
  for (const id of touched) ctx.notifier.notify(`framework:${id}`);
  return results.length ? { results } : { results: [] };
}

async function applyOne(ctx: MasterContext, agentId: string, u: StatusUpdate): Promise<{ result: StatusResult; message?: string; kill?: boolean }> {
  const state = u.state.replace(/^TASK_/, '') as TaskState;
  return retryOnConflict(async () => {
    const task = await ctx.registry.getTask(u.framework_id, u.task_id);
    if (!task) {
      // A task the master never had (or forgot long ago): stop it if it still runs.
      return { result: 'unknown_task', message: 'the master does not know this task', ...(isTerminal(state) ? {} : { kill: true }) };
    }
    if (task.agentId !== agentId) return { result: 'rejected', message: `task ${task.taskId} is not on agent ${agentId}` };
    if (task.pendingAcks.includes(u.uuid)) return { result: 'acknowledged' };
    const status: TaskStatus = {
      state,
      uuid: u.uuid,
      source: u.source ?? 'SOURCE_EXECUTOR',
      ...(u.reason ? { reason: u.reason.replace(/^REASON_/, '') } : {}),
      ...(u.message ? { message: u.message } : {}),
      ...(u.healthy !== undefined ? { healthy: u.healthy } : {}),
      timestamp: u.timestamp,
    };
    const tx = ctx.registry.transaction();
    if ((task.seenUuids ?? []).includes(u.uuid) || task.status.uuid === u.uuid) {
      // A resend: the framework has not acknowledged it yet, so deliver it again, unchanged.
      await addEvents(ctx, tx, new Map([[task.frameworkId, [updateEvent(task, status)]]]));
      await tx.commit();
      return { result: 'duplicate' };
    }
    if (!canTransition(task.state, state)) {
      return { result: 'rejected', message: `task cannot move from TASK_${task.state} to TASK_${state}` };
    }
    const now = ctx.now();
    const next: Task = { ...task, state, status, seenUuids: [...(task.seenUuids ?? []), u.uuid].slice(-SEEN_LIMIT), updatedAt: now };
    tx.putTask(next, { version: task.version });
    if (isTerminal(state)) {
      // The task's resources return to the agent's free pool.
      const agent = await ctx.registry.getAgent(agentId);
      if (agent) tx.putAgent({ ...agent, allocated: subtract(agent.allocated, task.resources, 'agent.allocated') }, { version: agent.version });
    }
    await addEvents(ctx, tx, new Map([[task.frameworkId, [updateEvent(task, status)]]]));
    await tx.commit();
    if (isTerminal(state)) ctx.notifier.notify('allocation');
    return { result: 'applied' };
  });
}
