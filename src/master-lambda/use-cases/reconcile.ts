import type { Framework } from '../../core/framework.js';
import type { AgentId, TaskId } from '../../core/ids.js';
import { isTerminal } from '../../core/task-state.js';
import type { Stored } from '../../state/registry.js';
import type { SchedulerCall } from '../codec/scheduler-call.js';
import { updateEvent, type SchedulerEvent } from '../codec/scheduler-event.js';
import type { MasterContext } from '../master-context.js';
import { appendEvents } from './framework-events.js';
import { unknownTaskStatus } from './kill.js';

// RECONCILE: explicit (the listed tasks: their latest state, or UNKNOWN/LOST when unknown)
// and implicit (an empty list: every non-terminal task the framework has). Answers carry
// REASON_RECONCILIATION and no uuid, so they need no acknowledgement (as in Mesos).

export async function reconcile(ctx: MasterContext, framework: Stored<Framework>, call: Extract<SchedulerCall, { type: 'RECONCILE' }>): Promise<number> {
  const asked = call.reconcile?.tasks ?? [];
  const now = ctx.now();
  const events: SchedulerEvent[] = [];
  if (asked.length === 0) {
    for (const t of await ctx.registry.listTasksByFramework(framework.id)) {
      if (isTerminal(t.state)) continue;
      events.push(updateEvent(t, { ...t.status, state: t.state, reason: 'RECONCILIATION', timestamp: now / 1000, uuid: undefined }));
    }
  } else {
    const tasks = await Promise.all(asked.map((a) => ctx.registry.getTask(framework.id, a.task_id.value)));
    asked.forEach((a, i) => {
      const t = tasks[i];
      if (t && (a.agent_id === undefined || a.agent_id.value === t.agentId)) {
        events.push(updateEvent(t, { ...t.status, state: t.state, reason: 'RECONCILIATION', timestamp: now / 1000, uuid: undefined }));
      } else {
        const status = unknownTaskStatus(framework, now, 'RECONCILIATION', 'the master does not know this task');
        events.push(updateEvent({ taskId: a.task_id.value as TaskId, agentId: (a.agent_id?.value ?? '') as AgentId }, status));
      }
    });
  }
  await appendEvents(ctx, framework.id, events);
  return events.length;
}
