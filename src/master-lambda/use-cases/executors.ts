import type { Agent, AgentExecutor } from '../../core/agent.js';
import { EMPTY, type Resources } from '../../core/resources.js';
import type { Task, TaskSpec } from '../../core/task.js';
import { executorFingerprint } from '../codec/executor-info.js';
import { giveBack } from '../agent-counters.js';

// Custom executors' resources, as Mesos counts them: an executor's own resources are allocated
// once, when its first task launches on the agent, beside each task's; the tasks that name the
// same executor id (same framework, same agent) share it and must send the same ExecutorInfo.
// The agent item keeps each executor's resources and live tasks, so the release is decided on
// the item every launch and every ending writes (conditionally): when an executor's last task
// ends, its resources return with that task's (and the agent shuts the executor down).

/** Live tasks one executor may hold. */
export const MAX_TASKS_PER_EXECUTOR = 1000;

export function executorKey(frameworkId: string, executorId: string): string {
  return `${frameworkId}/${executorId}`;
}

/** The executors of one ACCEPT on one agent, as its tasks are checked in order. */
export class ExecutorLedger {
  private readonly entries: Record<string, AgentExecutor>;
  private changed = false;

  constructor(
    private readonly agent: Agent,
    private readonly frameworkId: string,
  ) {
    this.entries = { ...(agent.executors ?? {}) };
  }

  /** Why the task cannot launch on the executor it names, or undefined (also for tasks without one). */
  invalid(spec: TaskSpec, inGroup: boolean): string | undefined {
    const e = spec.executor;
    if (e === undefined) return undefined;
    if (inGroup) return 'a task of a task group runs on the group executor: it cannot name an executor of its own';
    const fid = (e.info.framework_id as { value?: string } | undefined)?.value;
    if (fid !== undefined && fid !== this.frameworkId) return `executor ${e.executorId} names framework ${fid}, not this framework (${this.frameworkId})`;
    const existing = this.entries[executorKey(this.frameworkId, e.executorId)];
    if (existing === undefined) return undefined;
    // Mesos drops a task sent to an executor that is terminating; here it is refused at once.
    if (existing.shutdownRequestedAt !== undefined) return `executor ${e.executorId} is shutting down on agent ${this.agent.id} (SHUTDOWN): launch under another executor id, or after it has ended`;
    if (existing.fingerprint !== executorFingerprint(e)) {
      return `executor ${e.executorId} already runs on agent ${this.agent.id} with a different ExecutorInfo: tasks sharing an executor id must send the same ExecutorInfo`;
    }
    if (existing.tasks.length >= MAX_TASKS_PER_EXECUTOR) return `executor ${e.executorId} already runs ${MAX_TASKS_PER_EXECUTOR} tasks`;
    return undefined;
  }

  /** What the task needs besides its own resources: its executor's, when the executor is not on the agent yet. */
  extra(spec: TaskSpec): Resources {
    const e = spec.executor;
    return e !== undefined && this.entries[executorKey(this.frameworkId, e.executorId)] === undefined ? e.resources : EMPTY;
  }

  /** The task launches: on a new executor (whose resources `extra` counted) or a running one. */
  charge(spec: TaskSpec, taskId: string): void {
    const e = spec.executor;
    if (e === undefined) return;
    const key = executorKey(this.frameworkId, e.executorId);
    const entry = this.entries[key] ?? { frameworkId: this.frameworkId, executorId: e.executorId, resources: e.resources, fingerprint: executorFingerprint(e), tasks: [] };
    this.entries[key] = { ...entry, tasks: [...entry.tasks, taskId] };
    this.changed = true;
  }

  /** The agent item's `executors` after this ACCEPT (spread into the agent). */
  agentFields(): Pick<Agent, 'executors'> {
    return this.changed ? { executors: this.entries } : {};
  }
}

/**
 * The agent's counters once `task` has ended: its resources return, and, when it was the last
 * live task of its executor, the executor's too.
 */
export function afterTaskEnded(agent: Agent, task: Pick<Task, 'frameworkId' | 'taskId' | 'resources' | 'spec'>): Pick<Agent, 'allocated' | 'executors'> {
  const allocated = giveBack(agent.allocated, task.resources, 'agent.allocated');
  const e = task.spec.executor;
  const key = e !== undefined ? executorKey(task.frameworkId, e.executorId) : undefined;
  const entry = key !== undefined ? agent.executors?.[key] : undefined;
  if (key === undefined || entry === undefined || !entry.tasks.includes(task.taskId)) return { allocated, ...(agent.executors ? { executors: agent.executors } : {}) };
  const executors = { ...agent.executors };
  const tasks = entry.tasks.filter((t) => t !== task.taskId);
  if (tasks.length > 0) {
    executors[key] = { ...entry, tasks };
    return { allocated, executors };
  }
  delete executors[key];
  return { allocated: giveBack(allocated, entry.resources, 'agent.allocated'), executors };
}

/** Whether a framework's executor runs on the agent (an executor's MESSAGE must come from one). */
export function hasExecutor(agent: Agent, frameworkId: string, executorId: string): boolean {
  return agent.executors?.[executorKey(frameworkId, executorId)] !== undefined;
}
