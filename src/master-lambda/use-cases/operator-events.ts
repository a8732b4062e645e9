import type { Agent } from '../../core/agent.js';
import type { Framework } from '../../core/framework.js';
import type { Task } from '../../core/task.js';
import type { JsonObject } from '../../state/item-store.js';
import { encodeStatus } from '../codec/scheduler-event.js';
import { encodeAgent, encodeFrameworkInfo, encodeTask, frameworkView, type Snapshot } from './operator-views.js';

// The operator SUBSCRIBE stream's events (Mesos's master Event), derived by comparing two
// snapshots of the region: the table has no change feed a request handler could follow, so
// the stream re-reads on in-process notices and at an interval, and reports what changed.
//   TASK_ADDED        a task not seen before (followed by TASK_UPDATED when it is already past
//                     STAGING, so a subscriber always sees the launch and the latest status)
//   TASK_UPDATED      a task's state or latest status changed
//   AGENT_ADDED       an agent became reachable (registered, or back from unreachable)
//   AGENT_REMOVED     a reachable agent became unreachable or gone, or left the table
//   FRAMEWORK_ADDED   a framework not seen before
//   FRAMEWORK_UPDATED a framework's info or connection changed
//   FRAMEWORK_REMOVED a framework was torn down (or left the table)

export type DiffInput = Pick<Snapshot, 'agents' | 'frameworks' | 'tasks' | 'offers'>;

const taskKey = (t: Pick<Task, 'frameworkId' | 'taskId'>): string => `${t.frameworkId}/${t.taskId}`;
const present = (a: Agent): boolean => a.reachability === 'REACHABLE';

function statusSignature(t: Task): string {
  return JSON.stringify([t.state, t.status.state, t.status.uuid ?? '', t.status.timestamp, t.status.reason ?? '', t.status.healthy ?? null]);
}

function frameworkSignature(f: Framework): string {
  return JSON.stringify([f.info, f.connected, f.removedAt ?? null]);
}

const taskUpdated = (t: Task): JsonObject => ({
  type: 'TASK_UPDATED',
  task_updated: { framework_id: { value: t.frameworkId }, status: encodeStatus(t, t.status), state: `TASK_${t.state}` },
});

/** The events that turn `prev` into `next`, in Mesos's JSON, agents first, then frameworks, then tasks. */
export function diffSnapshots(prev: DiffInput, next: DiffInput): JsonObject[] {
  const events: JsonObject[] = [];

  const before = new Map(prev.agents.map((a) => [a.id as string, a]));
  const after = new Map(next.agents.map((a) => [a.id as string, a]));
  for (const a of next.agents) {
    const old = before.get(a.id);
    if (present(a) && (old === undefined || !present(old) || old.session !== a.session)) events.push({ type: 'AGENT_ADDED', agent_added: { agent: encodeAgent(a) } });
    else if (!present(a) && old !== undefined && present(old)) events.push({ type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: a.id } } });
  }
  for (const old of prev.agents) {
    if (!after.has(old.id) && present(old)) events.push({ type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: old.id } } });
  }

  const fwBefore = new Map(prev.frameworks.map((f) => [f.id as string, f]));
  const fwAfter = new Map(next.frameworks.map((f) => [f.id as string, f]));
  for (const f of next.frameworks) {
    const old = fwBefore.get(f.id);
    const live = f.removedAt === undefined;
    if (old === undefined) {
      if (live) events.push({ type: 'FRAMEWORK_ADDED', framework_added: { framework: frameworkView(next, f) } });
    } else if (!live && old.removedAt === undefined) {
      events.push({ type: 'FRAMEWORK_REMOVED', framework_removed: { framework_info: encodeFrameworkInfo(f) } });
    } else if (live && frameworkSignature(f) !== frameworkSignature(old)) {
      events.push({ type: 'FRAMEWORK_UPDATED', framework_updated: { framework: frameworkView(next, f) } });
    }
  }
  for (const old of prev.frameworks) {
    if (!fwAfter.has(old.id) && old.removedAt === undefined) events.push({ type: 'FRAMEWORK_REMOVED', framework_removed: { framework_info: encodeFrameworkInfo(old) } });
  }

  const tasksBefore = new Map(prev.tasks.map((t) => [taskKey(t), t]));
  for (const t of next.tasks) {
    const old = tasksBefore.get(taskKey(t));
    if (old === undefined) {
      events.push({ type: 'TASK_ADDED', task_added: { task: encodeTask(t) } });
      if (t.state !== 'STAGING') events.push(taskUpdated(t));
    } else if (statusSignature(t) !== statusSignature(old)) {
      events.push(taskUpdated(t));
    }
  }
  return events;
}
