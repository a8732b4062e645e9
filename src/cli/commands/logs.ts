import { z } from 'zod';
import { isTerminal, parseTaskStateName } from '../../core/task-state.js';
import { apiClient, masterUrl, operatorCall, parseFlags, UsageError, type Command, numberFlag } from '../command.js';

// `stratus logs TASK`: a task's stdout (or stderr) from the agent that runs it. The agent is
// found through the master's operator API (Mesos's GET_TASKS, then GET_AGENTS for its
// endpoint), or given with --agent.

const usage = `usage: stratus logs TASK [--framework ID] [--stderr] [--tail N] [--bytes N] [--agent URL] [--master URL]

Prints a task's stdout (--stderr: its stderr), as its agent keeps it (the last 1 MiB by default).
  --framework ID   the task's framework, when several have a task of that id
  --tail N         only the last N lines
  --bytes N        only the last N bytes
  --agent URL      read from this agent endpoint (skips the lookup through the master)
  --master URL     master (default $STRATUS_MASTER or http://127.0.0.1:5050)`;

const idValue = z.object({ value: z.string() });

const getTasksAnswer = z.object({
  get_tasks: z
    .object({
      tasks: z.array(z.unknown()).optional(),
      pending_tasks: z.array(z.unknown()).optional(),
      completed_tasks: z.array(z.unknown()).optional(),
      unreachable_tasks: z.array(z.unknown()).optional(),
      orphan_tasks: z.array(z.unknown()).optional(),
    })
    .passthrough(),
});
const taskEntry = z.object({ task_id: idValue, framework_id: idValue, agent_id: idValue.optional(), state: z.string().optional() }).passthrough();
type TaskEntry = z.output<typeof taskEntry>;

const getAgentsAnswer = z.object({
  get_agents: z.object({
    agents: z.array(
      z
        .object({
          agent_info: z.object({ id: idValue, hostname: z.string().optional(), port: z.number().optional() }).passthrough(),
          pid: z.string().optional(),
          endpoint: z.string().optional(),
        })
        .passthrough(),
    ),
  }),
});

const agentState = z.object({ tasks: z.array(z.object({ framework_id: z.string(), task_id: z.string(), state: z.string().optional() })) });

/** An ended task's state on the wire (TASK_FINISHED...): a running copy of the same id is preferred. */
const ended = (state: string | undefined): boolean => {
  const s = state === undefined ? undefined : parseTaskStateName(state);
  return s !== undefined && isTerminal(s);
};

export interface TaskLogRequest {
  readonly taskId: string;
  readonly frameworkId?: string;
  readonly stream: 'stdout' | 'stderr';
  readonly tailBytes?: number;
  /** An agent endpoint; without it the master is asked where the task runs. */
  readonly agent?: string;
  readonly master: string;
  readonly signal?: AbortSignal;
}

export interface TaskLog {
  readonly data: Buffer;
  readonly agent: string;
  readonly frameworkId: string;
}

function pick<T>(candidates: readonly T[], frameworkOf: (t: T) => string, taskId: string, where: string): T {
  if (candidates.length === 0) throw new Error(`task ${taskId} is not known to ${where}`);
  const frameworks = [...new Set(candidates.map(frameworkOf))];
  if (frameworks.length > 1) throw new Error(`task id ${taskId} exists in several frameworks (${frameworks.join(', ')}); pass --framework`);
  return candidates[0]!;
}

/** Where the task runs: its framework id and its agent's endpoint, through the operator API. */
export async function locateTask(master: string, taskId: string, frameworkId: string | undefined, signal?: AbortSignal): Promise<{ frameworkId: string; agent: string }> {
  const g = (await operatorCall(master, { type: 'GET_TASKS' }, getTasksAnswer, signal)).get_tasks;
  const all: TaskEntry[] = [];
  for (const list of [g.tasks, g.pending_tasks, g.unreachable_tasks, g.completed_tasks, g.orphan_tasks]) {
    for (const t of list ?? []) {
      const e = taskEntry.safeParse(t);
      if (e.success) all.push(e.data);
    }
  }
  const matches = all.filter((t) => t.task_id.value === taskId && (frameworkId === undefined || t.framework_id.value === frameworkId));
  // A running copy beats an ended one of the same id.
  matches.sort((a, b) => Number(ended(a.state)) - Number(ended(b.state)));
  const task = pick(matches, (t) => t.framework_id.value, taskId, `the master at ${master}`);
  const agentId = task.agent_id?.value;
  if (agentId === undefined) throw new Error(`task ${taskId} has not reached an agent yet (state ${task.state ?? 'unknown'})`);
  const agents = (await operatorCall(master, { type: 'GET_AGENTS' }, getAgentsAnswer, signal)).get_agents.agents;
  const agent = agents.find((a) => a.agent_info.id.value === agentId);
  if (agent === undefined) throw new Error(`agent ${agentId} of task ${taskId} is not registered with the master`);
  const pidHost = agent.pid !== undefined ? /@([^:]+:\d+)$/.exec(agent.pid)?.[1] : undefined;
  const endpoint =
    agent.endpoint ??
    (pidHost !== undefined ? `http://${pidHost}` : agent.agent_info.hostname !== undefined ? `http://${agent.agent_info.hostname}:${agent.agent_info.port ?? 5051}` : undefined);
  if (endpoint === undefined) throw new Error(`agent ${agentId} registered no endpoint; pass --agent URL`);
  return { frameworkId: task.framework_id.value, agent: endpoint.replace(/\/+$/, '') };
}

/** A task's log as its agent keeps it. */
export async function readTaskLog(req: TaskLogRequest): Promise<TaskLog> {
  let agent: string;
  let frameworkId = req.frameworkId;
  if (req.agent !== undefined) {
    agent = req.agent.replace(/\/+$/, '');
    if (frameworkId === undefined) {
      const state = await apiClient(agent).request('GET', '/api/v1/state', agentState, undefined, req.signal ? { signal: req.signal } : {});
      frameworkId = pick(state.tasks.filter((t) => t.task_id === req.taskId), (t) => t.framework_id, req.taskId, `agent ${agent}`).framework_id;
    }
  } else {
    const where = await locateTask(req.master, req.taskId, frameworkId, req.signal);
    agent = where.agent;
    frameworkId = where.frameworkId;
  }
  const q = new URLSearchParams({ stream: req.stream, ...(req.tailBytes !== undefined && { tail_bytes: String(req.tailBytes) }) });
  const path = `/api/v1/tasks/${encodeURIComponent(frameworkId)}/${encodeURIComponent(req.taskId)}/logs?${q.toString()}`;
  const body = await apiClient(agent).bytes(path, req.signal ? { signal: req.signal } : {});
  return { data: body, agent, frameworkId };
}

/** The last n lines of a log (a trailing newline does not count as an empty line). */
export function lastLines(data: Buffer, n: number): Buffer {
  if (n <= 0) return Buffer.alloc(0);
  let end = data.length;
  if (end > 0 && data[end - 1] === 10) end--;
  let i = end;
  let lines = 0;
  while (i > 0) {
    if (data[i - 1] === 10 && ++lines === n) break;
    i--;
  }
  return data.subarray(i);
}


export const logsCommand: Command = {
  name: 'logs',
  summary: "print a task's stdout or stderr",
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, {
      framework: { type: 'string' },
      stderr: { type: 'boolean', default: false },
      tail: { type: 'string' },
      bytes: { type: 'string' },
      agent: { type: 'string' },
      master: { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name the task' : `one task at a time (got ${positionals.join(' ')})`);
    const tail = numberFlag('tail', values.tail, { integer: true, min: 0 });
    const bytes = numberFlag('bytes', values.bytes, { integer: true, min: 0 });
    const log = await readTaskLog({
      taskId: positionals[0]!,
      stream: values.stderr ? 'stderr' : 'stdout',
      master: masterUrl(values.master),
      ...(values.framework !== undefined && { frameworkId: values.framework }),
      ...(values.agent !== undefined && { agent: values.agent }),
      ...(bytes !== undefined && { tailBytes: bytes }),
    });
    const out = tail !== undefined ? lastLines(log.data, tail) : log.data;
    await new Promise<void>((resolve, reject) => process.stdout.write(out, (e) => (e ? reject(e) : resolve())));
    return 0;
  },
};
