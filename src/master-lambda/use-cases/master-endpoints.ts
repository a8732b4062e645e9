import { z } from 'zod';
import type { Agent } from '../../core/agent.js';
import { isValidId } from '../../core/ids.js';
import { add, EMPTY, type Resources } from '../../core/resources.js';
import type { Task } from '../../core/task.js';
import { isTerminal, TASK_STATES } from '../../core/task-state.js';
import type { JsonObject } from '../../state/item-store.js';
import { parse } from '../../wire/validate.js';
import { agentIp, flatResources, masterState, quotaLimitsJson, stateSlaveJson, stateTaskJson, type Snapshot } from './operator-views.js';
import type { MasterContext } from '../master-context.js';

// The master's read-only HTTP endpoints besides /master/state, in the JSON shapes Mesos's
// endpoints have (/master/slaves, /master/frameworks, /master/tasks, /master/state-summary,
// /master/roles, /master/maintenance/status and /schedule). Pure: they read a Snapshot.

type Leader = Parameters<typeof masterState>[2];

export function slavesEndpoint(s: Snapshot): JsonObject {
  return { slaves: s.agents.filter((a) => a.reachability !== 'GONE').map(stateSlaveJson), recovered_slaves: [] };
}

export function frameworksEndpoint(ctx: MasterContext, s: Snapshot, leader: Leader, startedAt: number): JsonObject {
  const st = masterState(ctx, s, leader, startedAt);
  return { frameworks: st.frameworks!, completed_frameworks: st.completed_frameworks!, unregistered_frameworks: [] };
}

const count = z
  .string()
  .regex(/^\d{1,9}$/, 'must be a non-negative integer')
  .transform(Number);
const idParam = z.string().refine(isValidId, 'must be a valid id');

export const tasksQuerySchema = z
  .object({
    order: z.enum(['asc', 'desc']).default('desc'),
    limit: count.default(100),
    offset: count.default(0),
    task_id: idParam.optional(),
    framework_id: idParam.optional(),
  })
  // Other parameters (jsonp, say) are ignored, as Mesos does.
  .passthrough();
export type TasksQuery = z.output<typeof tasksQuerySchema>;

/** The query of /master/tasks; a bad or unknown parameter is a ValidationError naming it. */
export function parseTasksQuery(query: URLSearchParams): TasksQuery {
  const raw: Record<string, string> = {};
  for (const [k, v] of query) raw[k] = v;
  return parse(tasksQuerySchema, raw);
}

/**
 * /master/tasks: the tasks of every framework (active, unreachable and completed), ordered by
 * launch time (Mesos orders by the first status's time; Stratus keeps the launch time), then
 * offset and limit, as Mesos pages them.
 */
export function tasksEndpoint(s: Snapshot, q: TasksQuery): JsonObject {
  const selected = s.tasks.filter((t) => (q.framework_id === undefined || t.frameworkId === q.framework_id) && (q.task_id === undefined || t.taskId === q.task_id));
  const sign = q.order === 'asc' ? 1 : -1;
  selected.sort((a, b) => sign * (a.createdAt - b.createdAt || a.taskId.localeCompare(b.taskId)));
  return { tasks: selected.slice(q.offset, q.offset + q.limit).map(stateTaskJson(s)) };
}

function stateCounts(tasks: readonly Task[]): JsonObject {
  const out: JsonObject = {};
  for (const st of TASK_STATES) out[`TASK_${st}`] = 0;
  for (const t of tasks) out[`TASK_${t.state}`] = ((out[`TASK_${t.state}`] as number | undefined) ?? 0) + 1;
  return out;
}

function sum<T>(items: readonly T[], pick: (x: T) => Resources): Resources {
  return items.reduce<Resources>((acc, x) => add(acc, pick(x)), EMPTY);
}

/** /master/state-summary: agents and frameworks with their task counts per state. */
export function stateSummaryEndpoint(ctx: MasterContext, s: Snapshot): JsonObject {
  const live = s.agents.filter((a) => a.reachability !== 'GONE');
  const frameworks = s.frameworks.filter((f) => f.removedAt === undefined);
  return {
    hostname: ctx.config.hostname,
    cluster: ctx.config.masterId,
    slaves: live.map((a) => {
      const mine = s.tasks.filter((t) => t.agentId === a.id);
      return {
        ...stateSlaveJson(a),
        ...stateCounts(mine),
        framework_ids: [...new Set(mine.filter((t) => !isTerminal(t.state)).map((t) => t.frameworkId as string))].sort(),
      };
    }),
    frameworks: frameworks.map((f) => {
      const mine = s.tasks.filter((t) => t.frameworkId === f.id);
      const live = mine.filter((t) => !isTerminal(t.state));
      const offers = s.offers.filter((o) => o.frameworkId === f.id);
      return {
        id: f.id,
        name: f.info.name,
        pid: '',
        hostname: f.info.hostname ?? '',
        webui_url: f.info.webuiUrl ?? '',
        capabilities: [...f.info.capabilities],
        active: f.connected,
        connected: f.connected,
        recovered: false,
        used_resources: flatResources(sum(live, (t) => t.resources)),
        offered_resources: flatResources(sum(offers, (o) => o.resources)),
        ...stateCounts(mine),
        slave_ids: [...new Set(live.map((t) => t.agentId as string))].sort(),
      };
    }),
  };
}

/** /master/roles: each known role with its weight, frameworks, resources and quota. */
export function rolesEndpoint(s: Snapshot): JsonObject {
  const names = [...new Set(['*', ...s.roles.map((r) => r.name), ...s.frameworks.filter((f) => f.removedAt === undefined).flatMap((f) => f.info.roles)])].sort();
  return {
    roles: names.map((name) => {
      const cfg = s.roles.find((r) => r.name === name);
      const allocated = sum(
        s.tasks.filter((t) => t.role === name && !isTerminal(t.state)),
        (t) => t.resources,
      );
      const offered = sum(
        s.offers.filter((o) => o.role === name),
        (o) => o.resources,
      );
      return {
        name,
        weight: cfg?.weight ?? 1,
        frameworks: s.frameworks.filter((f) => f.removedAt === undefined && f.info.roles.includes(name)).map((f) => f.id),
        resources: flatResources(add(allocated, offered)),
        allocated: flatResources(allocated),
        offered: flatResources(offered),
        reserved: {},
        quota: { role: name, guarantee: {}, limit: cfg?.quotaLimit ? flatLimit(quotaLimitsJson(cfg)) : {}, consumed: flatResources(allocated) },
      };
    }),
  };
}

function flatLimit(limits: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(limits)) out[k] = (v as { value: number }).value;
  return out;
}

/** Mesos's MachineID of an agent: its hostname, and its IP where known. */
export function machineId(a: Agent): JsonObject {
  const ip = agentIp(a);
  return { hostname: a.hostname, ...(ip ? { ip } : {}) };
}

/**
 * Maintenance as Mesos shows it, from drains (Stratus's maintenance is DRAIN_AGENT): a DRAINING
 * agent's machine is draining, a DRAINED one's is down.
 */
export function maintenanceStatus(s: Snapshot): JsonObject {
  const drained = s.agents.filter((a) => a.drain && a.reachability !== 'GONE');
  return {
    draining_machines: drained.filter((a) => a.drain!.state === 'DRAINING').map((a) => ({ id: machineId(a), statuses: [] })),
    down_machines: drained.filter((a) => a.drain!.state === 'DRAINED').map(machineId),
  };
}

/** One unavailability window per drain: from when it started, for its grace period if it has one. */
export function maintenanceSchedule(s: Snapshot): JsonObject {
  const ns = (ms: number): { nanoseconds: number } => ({ nanoseconds: Math.round(ms * 1e6) });
  return {
    windows: s.agents
      .filter((a) => a.drain && a.reachability !== 'GONE')
      .map((a) => ({
        machine_ids: [machineId(a)],
        unavailability: { start: ns(a.drain!.startedAt), ...(a.drain!.maxGracePeriodMs !== undefined ? { duration: ns(a.drain!.maxGracePeriodMs) } : {}) },
      })),
  };
}
