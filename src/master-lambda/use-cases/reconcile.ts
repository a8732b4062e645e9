import type { Framework } from '../../core/framework.js';
import type { AgentId, TaskId } from '../../core/ids.js';
import type { Task } from '../../core/task.js';
import { isTerminal } from '../../core/task-state.js';
import { keys } from '../../state/keys.js';
import type { Stored } from '../../state/registry.js';
import type { SchedulerCall } from '../codec/scheduler-call.js';
import { updateEvent, type SchedulerEvent } from '../codec/scheduler-event.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';
import { addEvents } from './framework-events.js';
import { unknownTaskStatus } from './kill.js';

// RECONCILE: explicit (the listed tasks: their latest state, or UNKNOWN/LOST when unknown)
// and implicit (an empty list: every non-terminal task the framework has). Answers carry
// REASON_RECONCILIATION and no uuid, so they need no acknowledgement (as in Mesos).
//
// An answer is the latest state the master knows: it is committed with a check that each task
// it speaks of is unchanged since it was read, so an update racing it (a task that just
// finished) either comes first, and is answered, or after, and is newer. A framework never
// hears a task's terminal state and then an older one.

/** Answers per transaction: an event and a check each, with the log head, under the limit of 100. */
const CHUNK = 40;

type Asked = NonNullable<Extract<SchedulerCall, { type: 'RECONCILE' }>['reconcile']>['tasks'];

function answer(t: Stored<Task>, now: number): SchedulerEvent {
  return updateEvent(t, { ...t.status, state: t.state, reason: 'RECONCILIATION', timestamp: now / 1000, uuid: undefined });
}

export async function reconcile(ctx: MasterContext, framework: Stored<Framework>, call: Extract<SchedulerCall, { type: 'RECONCILE' }>): Promise<number> {
  const asked: NonNullable<Asked> = call.reconcile?.tasks ?? [];
  let sent = 0;
  if (asked.length === 0) {
    const live = (await ctx.registry.listTasksByFramework(framework.id)).filter((t) => !isTerminal(t.state));
    for (let i = 0; i < live.length; i += CHUNK) sent += await answerChunk(ctx, framework, live.slice(i, i + CHUNK).map((t) => ({ taskId: t.taskId, read: t })));
  } else {
    for (let i = 0; i < asked.length; i += CHUNK) {
      const chunk = asked.slice(i, i + CHUNK);
      const tasks = await Promise.all(chunk.map((a) => ctx.registry.getTask(framework.id, a.task_id.value)));
      sent += await answerChunk(ctx, framework, chunk.map((a, j) => ({ taskId: a.task_id.value, agentId: a.agent_id?.value, read: tasks[j], explicit: true })));
    }
  }
  if (sent > 0) ctx.notifier.notify(`framework:${framework.id}`);
  return sent;
}

interface Question {
  readonly taskId: string;
  /** The agent the framework named, for an explicit question. */
  readonly agentId?: string;
  readonly read: Stored<Task> | undefined;
  readonly explicit?: boolean;
}

/** One transaction of answers; on a lost race the tasks are read again and answered afresh. */
async function answerChunk(ctx: MasterContext, framework: Stored<Framework>, questions: readonly Question[]): Promise<number> {
  return retryOnConflict(async (attempt) => {
    const current = attempt === 1 ? questions.map((q) => q.read) : await Promise.all(questions.map((q) => ctx.registry.getTask(framework.id, q.taskId)));
    const now = ctx.now();
    const tx = ctx.registry.transaction();
    const events: SchedulerEvent[] = [];
    questions.forEach((q, i) => {
      const t = current[i];
      if (t) tx.check(keys.task(t.frameworkId, t.taskId), { version: t.version }, `task ${t.taskId}`);
      else tx.check(keys.task(framework.id, q.taskId), 'absent', `task ${q.taskId}`);
      if (t && !(q.explicit === undefined && isTerminal(t.state)) && (q.agentId === undefined || q.agentId === t.agentId)) {
        events.push(answer(t, now));
      } else if (q.explicit) {
        const status = unknownTaskStatus(framework, now, 'RECONCILIATION', 'the master does not know this task');
        events.push(updateEvent({ taskId: q.taskId as TaskId, agentId: (q.agentId ?? '') as AgentId }, status));
      }
    });
    if (events.length === 0) return 0;
    await addEvents(ctx, tx, new Map([[framework.id, events]]));
    await tx.commit();
    return events.length;
  });
}
