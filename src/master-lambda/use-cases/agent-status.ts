import { canTransition, isTerminal } from '../../core/task-state.js';
import type { Agent } from '../../core/agent.js';
import { withStatus, type Task, type TaskStatus } from '../../core/task.js';
import type { Stored } from '../../state/registry.js';
import { wireState, type StatusResponse, type StatusResult, type StatusUpdate } from '../../wire/agent-api.js';
import { updateEvent, type SchedulerEvent } from '../codec/scheduler-event.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';
import { addEvents } from './framework-events.js';
import { afterTaskEnded } from './executors.js';

// Status updates from an agent: each moves its task through the state machine and reaches
// the framework as an UPDATE event. The updates one request carries for one task (STARTING
// then RUNNING, say) are applied in order in ONE transaction with their events. A resend of
// an update not yet acknowledged is delivered again (at-least-once); an acknowledged one is
// answered as such, so the agent can drop it from its journal. Once a task has ended, no
// earlier update is delivered for it again: the resend is answered `rejected` (superseded).

const SEEN_LIMIT = 16;

type Result = { result: StatusResult; message?: string; kill?: boolean };

export async function applyStatusUpdates(ctx: MasterContext, agent: Stored<Agent>, updates: readonly StatusUpdate[]): Promise<StatusResponse> {
  // Group by task, keeping each task's updates in the order the agent journaled them.
  const byTask = new Map<string, StatusUpdate[]>();
  for (const u of updates) {
    const k = `${u.framework_id}/${u.task_id}`;
    byTask.set(k, [...(byTask.get(k) ?? []), u]);
  }
  const results = new Map<string, Result>();
  const touched = new Set<string>();
  for (const group of byTask.values()) {
    const rs = await applyTaskUpdates(ctx, agent.id, group);
    group.forEach((u, i) => {
      results.set(u.uuid, rs[i]!);
      if (rs[i]!.result === 'applied' || rs[i]!.result === 'duplicate') touched.add(u.framework_id);
    });
  }
  for (const id of touched) ctx.notifier.notify(`framework:${id}`);
  return { results: updates.map((u) => ({ uuid: u.uuid, ...results.get(u.uuid)! })) };
}

function statusOf(u: StatusUpdate): TaskStatus {
  return {
    state: wireState(u.state),
    uuid: u.uuid,
    source: u.source ?? 'SOURCE_EXECUTOR',
    ...(u.reason ? { reason: u.reason.replace(/^REASON_/, '') } : {}),
    ...(u.message ? { message: u.message } : {}),
    ...(u.healthy !== undefined ? { healthy: u.healthy } : {}),
    timestamp: u.timestamp,
  };
}

async function applyTaskUpdates(ctx: MasterContext, agentId: string, updates: readonly StatusUpdate[]): Promise<Result[]> {
  const first = updates[0]!;
  return retryOnConflict(async () => {
    const stored = await ctx.registry.getTask(first.framework_id, first.task_id);
    if (!stored) {
      // A task the master never had (or forgot long ago): stop it if it still runs.
      return updates.map((u) => {
        const state = wireState(u.state);
        return { result: 'unknown_task', message: 'the master does not know this task', ...(isTerminal(state) ? {} : { kill: true }) };
      });
    }
    if (stored.agentId !== agentId) return updates.map(() => ({ result: 'rejected', message: `task ${stored.taskId} is not on agent ${agentId}` }));
    let task: Task = stored;
    let changed = false;
    const events: SchedulerEvent[] = [];
    const results: Result[] = [];
    const applied: TaskStatus[] = [];
    for (const u of updates) {
      const status = statusOf(u);
      if (task.pendingAcks.includes(u.uuid)) {
        results.push({ result: 'acknowledged' });
      } else if (isTerminal(task.state) && task.status.uuid !== u.uuid) {
        // The task has ended and its terminal update is on its way or delivered: an earlier
        // update resent now would tell the framework the task came back. It is superseded.
        results.push({ result: 'rejected', message: `superseded: the task is TASK_${task.state}` });
      } else if ((task.seenUuids ?? []).includes(u.uuid) || task.status.uuid === u.uuid) {
        // A resend the framework has not acknowledged yet: deliver it again, unchanged.
        events.push(updateEvent(task, status));
        results.push({ result: 'duplicate' });
      } else if (!canTransition(task.state, status.state)) {
        results.push({ result: 'rejected', message: `task cannot move from TASK_${task.state} to TASK_${status.state}` });
      } else {
        task = { ...withStatus(task, status, ctx.now()), seenUuids: [...(task.seenUuids ?? []), u.uuid].slice(-SEEN_LIMIT) };
        changed = true;
        applied.push(status);
        events.push(updateEvent(task, status));
        results.push({ result: 'applied' });
      }
    }
    if (events.length === 0) return results;
    const tx = ctx.registry.transaction();
    if (changed) tx.putTask(task, { version: stored.version });
    const ended = changed && isTerminal(task.state);
    // The agent and the framework's log head are both hot: read them together, just before the commit.
    const [agent] = await Promise.all([ended ? ctx.registry.getAgent(agentId) : undefined, addEvents(ctx, tx, new Map([[task.frameworkId, events]]))]);
    // The task's resources return to the agent's free pool (its executor's too, when it was the last).
    if (agent) tx.putAgent({ ...agent, ...afterTaskEnded(agent, task) }, { version: agent.version });
    await tx.commit();
    for (const s of applied) ctx.metrics.taskStatus(s);
    if (ended) ctx.notifier.notify('allocation');
    return results;
  });
}
