import { z } from 'zod';
import { ForbiddenError, ValidationError } from '../core/errors.js';
import { toSpec, type Resources } from '../core/resources.js';
import { isTerminal } from '../core/task-state.js';
import { parseJsonBody } from '../http/json-body.js';
import type { Router } from '../http/router.js';
import { json, type HttpRequest } from '../http/types.js';
import { encodeAttributes } from '../wire/mesos-attributes.js';
import { encodeResources } from '../wire/mesos-resources.js';
import { MESOS_COMPATIBLE_VERSION } from '../wire/mesos-version.js';
import { parse } from '../wire/validate.js';
import type { RunningContainer } from './containerizers.js';
import type { ReaderGrant } from './reader-access.js';

// The agent's Mesos-shaped operator endpoints, beside its own /api/v1/state:
//   GET /state, /state.json   the agent, its frameworks, their executors and tasks (Mesos agent shape)
//   GET /containers           one entry per container: container_id, executor_id, framework_id, status
//   GET /flags                the agent's settings (operators only)
//   GET /version              the Mesos API version (open, as in Mesos)
//   POST /api/v1              the agent operator API: GET_HEALTH, GET_STATE, GET_CONTAINERS,
//                             GET_EXECUTORS, GET_FRAMEWORKS, GET_TASKS, GET_AGENT, GET_VERSION, GET_FLAGS, GET_METRICS
// The master judges the caller (ReaderAccess): an operator sees everything, a framework's
// principal only its own tasks, containers and executors.
//
// The agent knows frameworks by id only (it never sees FrameworkInfo), so framework entries
// carry the id and nothing made up. A command task runs under Mesos's command executor, whose
// id is the task's id.

export interface AgentOperatorView {
  readonly id: string | undefined;
  readonly hostname: string | undefined;
  readonly endpoint: string | undefined;
  readonly master: string;
  /** Unix seconds. */
  readonly startTime: number;
  readonly resources: Resources | undefined;
  readonly attributes: Readonly<Record<string, string>>;
  readonly flags: Readonly<Record<string, string>>;
  readonly healthy: boolean;
  readonly containers: readonly RunningContainer[];
}

export interface AgentOperatorSource {
  operatorView(): AgentOperatorView;
  authorize(authorization: string | undefined, frameworkIds: readonly string[]): Promise<ReaderGrant>;
  /** The agent's figures under Mesos's names (as /metrics/snapshot), for GET_METRICS. */
  metricsSnapshot?(): Record<string, number>;
}

const AGENT_CALLS = ['GET_HEALTH', 'GET_STATE', 'GET_CONTAINERS', 'GET_EXECUTORS', 'GET_FRAMEWORKS', 'GET_TASKS', 'GET_AGENT', 'GET_VERSION', 'GET_FLAGS', 'GET_METRICS'] as const;
const agentCall = z.object({ type: z.enum(AGENT_CALLS) }).passthrough();

function flat(r: Resources | undefined): Record<string, unknown> {
  if (r === undefined) return {};
  const x = toSpec(r);
  return { cpus: x.cpus, mem: x.mem, disk: x.disk, ...(x.ports.length ? { ports: `[${x.ports.map((p) => `${p.begin}-${p.end}`).join(', ')}]` } : {}) };
}

const executorIdOf = (c: RunningContainer): string => c.spec?.executorId ?? c.taskId;
const pidOf = (v: AgentOperatorView): string => {
  try {
    return v.endpoint ? `slave(1)@${new URL(v.endpoint).host}` : `slave(1)@${v.hostname ?? ''}`;
  } catch {
    return `slave(1)@${v.hostname ?? ''}`;
  }
};

/** What of the view the caller may see: its frameworks' containers (all of them for an operator). */
async function visible(source: AgentOperatorSource, req: HttpRequest): Promise<{ view: AgentOperatorView; grant: ReaderGrant; containers: RunningContainer[] }> {
  const view = source.operatorView();
  const grant = await source.authorize(req.headers.authorization, view.containers.map((c) => c.frameworkId));
  return { view, grant, containers: view.containers.filter((c) => grant.operator || grant.frameworks.has(c.frameworkId)) };
}

function stateTask(v: AgentOperatorView, c: RunningContainer): Record<string, unknown> {
  return {
    id: c.taskId,
    name: c.spec?.name ?? c.taskId,
    framework_id: c.frameworkId,
    executor_id: c.spec?.executorId ?? '',
    slave_id: v.id ?? '',
    state: `TASK_${c.status.state}`,
    resources: flat(c.resources),
    statuses: [{ state: `TASK_${c.status.state}`, timestamp: c.status.timestamp, container_status: { container_id: { value: c.containerId } } }],
  };
}

/** GET /state: Mesos's agent state, frameworks → executors → tasks. */
export function agentState(v: AgentOperatorView, containers: readonly RunningContainer[]): Record<string, unknown> {
  const byFramework = new Map<string, RunningContainer[]>();
  for (const c of containers) byFramework.set(c.frameworkId, [...(byFramework.get(c.frameworkId) ?? []), c]);
  const executor = (id: string, list: RunningContainer[]): Record<string, unknown> => ({
    id,
    name: list[0]!.spec?.executorId ? id : `Command Executor (Task: ${id})`,
    source: id,
    container: list[0]!.containerId,
    directory: list[0]!.sandboxDir,
    resources: flat(list[0]!.resources),
    tasks: list.filter((c) => !isTerminal(c.status.state)).map((c) => stateTask(v, c)),
    queued_tasks: [],
    completed_tasks: list.filter((c) => isTerminal(c.status.state)).map((c) => stateTask(v, c)),
  });
  const frameworks = [...byFramework].map(([id, list]) => {
    const byExecutor = new Map<string, RunningContainer[]>();
    for (const c of list) byExecutor.set(executorIdOf(c), [...(byExecutor.get(executorIdOf(c)) ?? []), c]);
    const executors = [...byExecutor].map(([eid, l]) => ({ live: l.some((c) => !isTerminal(c.status.state)), json: executor(eid, l) }));
    return { id, executors: executors.filter((e) => e.live).map((e) => e.json), completed_executors: executors.filter((e) => !e.live).map((e) => e.json) };
  });
  return {
    version: MESOS_COMPATIBLE_VERSION,
    start_time: v.startTime,
    id: v.id ?? '',
    pid: pidOf(v),
    hostname: v.hostname ?? '',
    resources: flat(v.resources),
    attributes: { ...v.attributes },
    master_hostname: safeHost(v.master),
    flags: { ...v.flags },
    frameworks: frameworks.filter((f) => f.executors.length > 0),
    completed_frameworks: frameworks.filter((f) => f.executors.length === 0),
  };
}

function safeHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

function containerJson(c: RunningContainer): Record<string, unknown> {
  return {
    container_id: c.containerId,
    executor_id: executorIdOf(c),
    executor_name: c.spec?.executorId ? executorIdOf(c) : `Command Executor (Task: ${c.taskId})`,
    framework_id: c.frameworkId,
    source: executorIdOf(c),
    status: { container_id: { value: c.containerId }, ...(c.engineId !== undefined && /^\d+$/.test(c.engineId) ? { executor_pid: Number(c.engineId) } : {}) },
  };
}

function v1Task(v: AgentOperatorView, c: RunningContainer): Record<string, unknown> {
  return {
    name: c.spec?.name ?? c.taskId,
    task_id: { value: c.taskId },
    framework_id: { value: c.frameworkId },
    agent_id: { value: v.id ?? '' },
    executor_id: { value: executorIdOf(c) },
    state: `TASK_${c.status.state}`,
    resources: c.resources ? encodeResources(c.resources) : [],
    statuses: [{ task_id: { value: c.taskId }, state: `TASK_${c.status.state}`, source: 'SOURCE_EXECUTOR', timestamp: c.status.timestamp, container_status: { container_id: { value: c.containerId } } }],
  };
}

function v1Executors(containers: readonly RunningContainer[]): { executors: unknown[]; completed_executors: unknown[] } {
  const seen = new Map<string, { live: boolean; info: unknown }>();
  for (const c of containers) {
    const key = `${c.frameworkId}/${executorIdOf(c)}`;
    const live = !isTerminal(c.status.state) || (seen.get(key)?.live ?? false);
    seen.set(key, { live, info: { executor_info: { executor_id: { value: executorIdOf(c) }, framework_id: { value: c.frameworkId }, type: c.spec?.groupId !== undefined ? 'DEFAULT' : 'CUSTOM' } } });
  }
  const all = [...seen.values()];
  return { executors: all.filter((e) => e.live).map((e) => e.info), completed_executors: all.filter((e) => !e.live).map((e) => e.info) };
}

function v1Frameworks(containers: readonly RunningContainer[]): { frameworks: unknown[]; completed_frameworks: unknown[] } {
  const live = new Map<string, boolean>();
  for (const c of containers) live.set(c.frameworkId, (live.get(c.frameworkId) ?? false) || !isTerminal(c.status.state));
  const entry = (id: string): unknown => ({ framework_info: { id: { value: id } } });
  return { frameworks: [...live].filter(([, l]) => l).map(([id]) => entry(id)), completed_frameworks: [...live].filter(([, l]) => !l).map(([id]) => entry(id)) };
}

function v1Tasks(v: AgentOperatorView, containers: readonly RunningContainer[]): Record<string, unknown> {
  return {
    pending_tasks: [],
    queued_tasks: [],
    launched_tasks: containers.filter((c) => !isTerminal(c.status.state)).map((c) => v1Task(v, c)),
    terminated_tasks: [],
    completed_tasks: containers.filter((c) => isTerminal(c.status.state)).map((c) => v1Task(v, c)),
  };
}

function requireOperator(grant: ReaderGrant, what: string): void {
  if (!grant.operator) throw new ForbiddenError(`only an operator may read ${what}`, 'authorization');
}

export function mountAgentOperatorRoutes(router: Router, source: AgentOperatorSource): Router {
  const state = async (req: HttpRequest): Promise<ReturnType<typeof json>> => {
    const { view, containers } = await visible(source, req);
    const body = agentState(view, containers);
    return json(200, body);
  };
  router.route('GET', '/state', state);
  router.route('GET', '/state.json', state);
  router.route('GET', '/version', async () => json(200, { version: MESOS_COMPATIBLE_VERSION }));
  router.route('GET', '/containers', async (req) => json(200, (await visible(source, req)).containers.map(containerJson)));
  router.route('GET', '/flags', async (req) => {
    const { view, grant } = await visible(source, req);
    requireOperator(grant, "the agent's flags");
    return json(200, { flags: { ...view.flags } });
  });
  router.route('POST', '/api/v1', async (req) => {
    const body = parseJsonBody(req);
    const type = (body as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && !(AGENT_CALLS as readonly string[]).includes(type)) {
      throw new ValidationError(`unknown or unsupported agent operator call '${type.slice(0, 64)}'; supported: ${AGENT_CALLS.join(', ')}`, 'type');
    }
    const call = parse(agentCall, body);
    const { view, grant, containers } = await visible(source, req);
    const answer = (key: string, value: unknown): ReturnType<typeof json> => json(200, { type: call.type, [key]: value });
    switch (call.type) {
      case 'GET_HEALTH':
        return answer('get_health', { healthy: view.healthy });
      case 'GET_VERSION':
        return answer('get_version', { version_info: { version: MESOS_COMPATIBLE_VERSION } });
      case 'GET_FLAGS':
        requireOperator(grant, "the agent's flags");
        return answer('get_flags', { flags: Object.entries(view.flags).map(([name, value]) => ({ name, value })) });
      case 'GET_AGENT':
        return answer('get_agent', {
          agent_info: { id: { value: view.id ?? '' }, hostname: view.hostname ?? '', resources: view.resources ? encodeResources(view.resources) : [], attributes: encodeAttributes(view.attributes) },
        });
      case 'GET_CONTAINERS':
        return answer('get_containers', {
          containers: containers.map((c) => ({ framework_id: { value: c.frameworkId }, executor_id: { value: executorIdOf(c) }, executor_name: containerJson(c).executor_name, container_id: { value: c.containerId }, container_status: containerJson(c).status })),
        });
      case 'GET_EXECUTORS':
        return answer('get_executors', v1Executors(containers));
      case 'GET_FRAMEWORKS':
        return answer('get_frameworks', v1Frameworks(containers));
      case 'GET_TASKS':
        return answer('get_tasks', v1Tasks(view, containers));
      case 'GET_STATE':
        return answer('get_state', { get_tasks: v1Tasks(view, containers), get_executors: v1Executors(containers), get_frameworks: v1Frameworks(containers) });
      case 'GET_METRICS': {
        // As /metrics/snapshot: for operators only.
        requireOperator(grant, "the agent's metrics");
        const figures = source.metricsSnapshot?.() ?? {};
        return answer('get_metrics', { metrics: Object.entries(figures).map(([name, value]) => ({ name, value })) });
      }
    }
  });
  return router;
}
