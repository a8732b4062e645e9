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
// the framework as an UPDATE event. A request's updates for one framework are applied in ONE
// transaction with their events (in pieces under DynamoDB's 100-item limit): the framework's
// log head is written by every update of every agent, so one write per request instead of one
// per task keeps it from becoming the bottleneck. The updates for one task (STARTING then
// RUNNING, say) are applied in the order the agent journaled them. A resend of an update not yet
// acknowledged is delivered again (at-least-once); an acknowledged one is answered as such, so
// the agent can drop it from its journal. Once a task has ended, no earlier update is delivered
// for it again: the resend is answered `rejected` (superseded).

const SEEN_LIMIT = 16;
/** Items one transaction may carry, less room for the log head and the agent. */
const ITEMS_PER_TRANSACTION = 96;

type Result = { result: StatusResult; message?: string; kill?: boolean };

export async function applyStatusUpdates(ctx: MasterContext, agent: Stored<Agent>, updates: readonly StatusUpdate[]): Promise<StatusResponse> {
  // Group by framework, then by task, keeping each task's updates in the order the agent journaled them.
  const byFramework = new Map<string, Map<string, StatusUpdate[]>>();
  for (const u of updates) {
    const tasks = byFramework.get(u.framework_id) ?? new Map<string, StatusUpdate[]>();
    byFramework.set(u.framework_id, tasks);
    tasks.set(u.task_id, [...(tasks.get(u.task_id) ?? []), u]);
  }
  const results = new Map<string, Result>();
  const touched = new Set<string>();
  for (const [frameworkId, tasks] of byFramework) {
    for (const piece of pieces([...tasks.values()])) {
      const rs = await applyFrameworkUpdates(ctx, agent.id, frameworkId, piece);
      piece.flat().forEach((u, i) => {
        results.set(u.uuid, rs[i]!);
        if (rs[i]!.result === 'applied' || rs[i]!.result === 'duplicate') touched.add(frameworkId);
      });
    }
  }
  for (const id of touched) ctx.notifier.notify(`framework:${id}`);
  return { results: updates.map((u) => ({ uuid: u.uuid, ...results.get(u.uuid)! })) };
}

/** Task groups in pieces whose transaction fits: a task item plus an event item per update. */
function pieces(groups: readonly (readonly StatusUpdate[])[]): (readonly StatusUpdate[])[][] {
  const out: (readonly StatusUpdate[])[][] = [];
  let piece: (readonly StatusUpdate[])[] = [];
  let items = 0;
  for (const g of groups) {
    const cost = 1 + g.length;
    if (piece.length > 0 && items + cost > ITEMS_PER_TRANSACTION) {
      out.push(piece);
      piece = [];
      items = 0;
    }
    piece.push(g);
    items += cost;
  }
  if (piece.length > 0) out.push(piece);
  return out;
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

/** What one task's updates do to it (pure): its new state, the events to deliver, an answer per update. */
interface TaskOutcome {
  readonly task: Task;
  readonly changed: boolean;
  readonly events: readonly SchedulerEvent[];
  readonly results: readonly Result[];
  readonly applied: readonly TaskStatus[];
}

function decide(ctx: MasterContext, agentId: string, stored: Stored<Task> | undefined, updates: readonly StatusUpdate[]): TaskOutcome | readonly Result[] {
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
  return { task, changed, events, results, applied };
}

/** One framework's task groups in one transaction; answers in the order of `groups.flat()`. */
async function applyFrameworkUpdates(ctx: MasterContext, agentId: string, frameworkId: string, groups: readonly (readonly StatusUpdate[])[]): Promise<Result[]> {
  return retryOnConflict(async () => {
    const stored = await Promise.all(groups.map((g) => ctx.registry.getTask(frameworkId, g[0]!.task_id)));
    const outcomes = groups.map((g, i) => decide(ctx, agentId, stored[i], g));
    const results = outcomes.flatMap((o) => ('task' in o ? o.results : o));
    const moving = outcomes.flatMap((o, i) => ('task' in o && o.events.length > 0 ? [{ o, version: stored[i]!.version }] : []));
    if (moving.length === 0) return results;
    const tx = ctx.registry.transaction();
    for (const { o, version } of moving) if (o.changed) tx.putTask(o.task, { version });
    const ended = moving.filter(({ o }) => o.changed && isTerminal(o.task.state)).map(({ o }) => o.task);
    // The agent and the framework's log head are both hot: read them together, just before the commit.
    const [agent] = await Promise.all([
      ended.length > 0 ? ctx.registry.getAgent(agentId) : undefined,
      addEvents(ctx, tx, new Map([[frameworkId, moving.flatMap(({ o }) => o.events)]])),
    ]);
    // The tasks' resources return to the agent's free pool (an executor's too, with its last task).
    if (agent) tx.putAgent(ended.reduce<Agent>((a, t) => ({ ...a, ...afterTaskEnded(a, t) }), agent), { version: agent.version });
    await tx.commit();
    for (const { o } of moving) for (const s of o.applied) ctx.metrics.taskStatus(s);
    if (ended.length > 0) ctx.notifier.notify('allocation');
    return results;
  });
}
