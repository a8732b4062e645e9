import type { Agent } from '../../core/agent.js';
import type { Framework } from '../../core/framework.js';
import type { Offer } from '../../core/offer.js';
import { add, dominantShare, EMPTY, toSpec, type Resources } from '../../core/resources.js';
import type { RoleConfig } from '../../core/role.js';
import type { Task } from '../../core/task.js';
import { isTerminal } from '../../core/task-state.js';
import type { JsonObject } from '../../state/item-store.js';
import type { Stored } from '../../state/registry.js';
import { encodeAttributes } from '../../wire/mesos-attributes.js';
import { encodeResources } from '../../wire/mesos-resources.js';
import { encodeOffer, encodeStatus } from '../codec/scheduler-event.js';
import { recordToLabels } from '../../wire/validate.js';
import { ipv4OfHost, ipv4OfUrl, mesosIpInt } from '../../wire/mesos-address.js';
import { MESOS_COMPATIBLE_VERSION } from '../../wire/mesos-version.js';
import type { MasterContext } from '../master-context.js';

// Read-only views of the region in the shapes Mesos tooling reads: the v1 operator API's
// GET_* responses and the /master/state endpoint.

export interface Snapshot {
  readonly agents: Stored<Agent>[];
  readonly frameworks: Stored<Framework>[];
  readonly tasks: Stored<Task>[];
  readonly offers: Stored<Offer>[];
  readonly roles: Stored<RoleConfig>[];
}

export async function snapshot(ctx: MasterContext): Promise<Snapshot> {
  const [agents, frameworks, tasks, offers, roles] = await Promise.all([
    ctx.registry.listAgents(),
    ctx.registry.listFrameworks(),
    ctx.registry.listTasks(),
    ctx.registry.listOffers(),
    ctx.registry.listRoles(),
  ]);
  return { agents, frameworks, tasks, offers, roles };
}

const ns = (ms: number): { nanoseconds: number } => ({ nanoseconds: Math.round(ms * 1e6) });
const json = <T>(v: T): JsonObject[] => v as unknown as JsonObject[];

export function encodeTask(t: Task): JsonObject {
  return {
    name: t.spec.name,
    task_id: { value: t.taskId },
    framework_id: { value: t.frameworkId },
    agent_id: { value: t.agentId },
    ...(t.spec.executorId ? { executor_id: { value: t.spec.executorId } } : {}),
    state: `TASK_${t.state}`,
    resources: json(encodeResources(t.resources, t.role)),
    statuses: [...(t.previousStatuses ?? []), t.status].map((x) => encodeStatus(t, x)),
    status_update_state: `TASK_${t.status.state}`,
    ...(t.status.uuid ? { status_update_uuid: t.status.uuid } : {}),
    ...(t.spec.labels ? { labels: recordToLabels(t.spec.labels)! } : {}),
    ...(t.spec.container?.docker ? { container: { type: 'DOCKER', docker: { image: t.spec.container.docker.image, network: t.spec.container.docker.network } } } : {}),
    ...(t.spec.discovery ? { discovery: { visibility: 'CLUSTER', name: t.spec.discovery.name, ports: { ports: t.spec.discovery.ports.map((p) => ({ ...p })) } } } : {}),
  };
}

/** Mesos's `slave(1)@host:port`, from the endpoint the agent registered when it has one. */
function agentPid(a: Agent): string {
  if (a.endpoint) {
    try {
      return `slave(1)@${new URL(a.endpoint).host}`;
    } catch {
      // a malformed endpoint is validated at registration; fall through
    }
  }
  return `slave(1)@${a.hostname}`;
}

export function encodeAgent(a: Agent): JsonObject {
  const total = json(encodeResources(a.total));
  return {
    agent_info: { id: { value: a.id }, hostname: a.hostname, resources: total, attributes: encodeAttributes(a.attributes) },
    active: a.reachability === 'REACHABLE' && !a.deactivated,
    deactivated: a.deactivated,
    pid: agentPid(a),
    registered_time: ns(a.registeredAt),
    total_resources: total,
    allocated_resources: json(encodeResources(a.allocated)),
    offered_resources: json(encodeResources(a.offered)),
    ...(a.drain
      ? {
          drain_info: {
            state: a.drain.state,
            config: { mark_gone: a.drain.markGone, ...(a.drain.maxGracePeriodMs !== undefined ? { max_grace_period: ns(a.drain.maxGracePeriodMs) } : {}) },
          },
        }
      : {}),
    // Stratus additions: where the agent serves task logs, its reachability and health.
    ...(a.endpoint ? { endpoint: a.endpoint } : {}),
    reachability: a.reachability,
    healthy: a.health?.healthy ?? true,
    ...(a.health?.message ? { health_message: a.health.message } : {}),
  };
}

export function encodeFrameworkInfo(f: Framework): JsonObject {
  const i = f.info;
  return {
    id: { value: f.id },
    user: i.user,
    name: i.name,
    roles: [...i.roles],
    ...(i.principal !== undefined ? { principal: i.principal } : {}),
    failover_timeout: i.failoverTimeoutSeconds,
    checkpoint: i.checkpoint,
    capabilities: i.capabilities.map((type) => ({ type })),
    ...(i.hostname ? { hostname: i.hostname } : {}),
    ...(i.webuiUrl ? { webui_url: i.webuiUrl } : {}),
    ...(i.labels ? { labels: recordToLabels(i.labels)! } : {}),
  };
}

function sum<T>(items: readonly T[], pick: (x: T) => Resources): Resources {
  return items.reduce<Resources>((s, x) => add(s, pick(x)), EMPTY);
}

export function getAgents(s: Snapshot): JsonObject {
  return { agents: s.agents.filter((a) => a.reachability !== 'GONE').map(encodeAgent), recovered_agents: [] };
}

/** One framework as GET_FRAMEWORKS (and the operator stream's FRAMEWORK_* events) show it. */
export function frameworkView(s: Pick<Snapshot, 'tasks' | 'offers'>, f: Framework): JsonObject {
  const tasks = s.tasks.filter((t) => t.frameworkId === f.id && !isTerminal(t.state));
  const offers = s.offers.filter((o) => o.frameworkId === f.id);
  return {
    framework_info: encodeFrameworkInfo(f),
    active: f.connected && f.removedAt === undefined,
    connected: f.connected,
    recovered: false,
    registered_time: ns(f.registeredAt),
    ...(f.removedAt !== undefined ? { unregistered_time: ns(f.removedAt) } : {}),
    offers: offers.map(encodeOffer),
    allocated_resources: json(encodeResources(sum(tasks, (t) => t.resources))),
    offered_resources: json(encodeResources(sum(offers, (o) => o.resources))),
  };
}

export function getFrameworks(s: Snapshot): JsonObject {
  const view = (f: Framework): JsonObject => frameworkView(s, f);
  return {
    frameworks: s.frameworks.filter((f) => f.removedAt === undefined).map(view),
    completed_frameworks: s.frameworks.filter((f) => f.removedAt !== undefined).map(view),
  };
}

export function getTasks(s: Snapshot): JsonObject {
  return {
    pending_tasks: [],
    tasks: s.tasks.filter((t) => !isTerminal(t.state) && t.state !== 'UNREACHABLE').map(encodeTask),
    unreachable_tasks: s.tasks.filter((t) => t.state === 'UNREACHABLE').map(encodeTask),
    completed_tasks: s.tasks.filter((t) => isTerminal(t.state)).map(encodeTask),
  };
}

function knownRoles(s: Snapshot): string[] {
  return [...new Set(['*', ...s.roles.map((r) => r.name), ...s.frameworks.filter((f) => f.removedAt === undefined).flatMap((f) => f.info.roles)])].sort();
}

export function quotaLimitsJson(r: RoleConfig): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(r.quotaLimit ?? {})) out[k] = { value: k === 'cpus' ? v / 1000 : v };
  return out;
}

export function getRoles(s: Snapshot): JsonObject {
  return {
    roles: knownRoles(s).map((name) => {
      const cfg = s.roles.find((r) => r.name === name);
      const tasks = s.tasks.filter((t) => t.role === name && !isTerminal(t.state));
      const offers = s.offers.filter((o) => o.role === name);
      return {
        name,
        weight: cfg?.weight ?? 1,
        frameworks: s.frameworks.filter((f) => f.removedAt === undefined && f.info.roles.includes(name)).map((f) => ({ value: f.id })),
        resources: json(encodeResources(add(sum(tasks, (t) => t.resources), sum(offers, (o) => o.resources)))),
        ...(cfg?.quotaLimit ? { quota: { role: name, limits: quotaLimitsJson(cfg) } } : {}),
      };
    }),
  };
}

export function getWeights(s: Snapshot): JsonObject {
  return { weight_infos: s.roles.map((r) => ({ role: r.name, weight: r.weight })) };
}

export function getQuota(s: Snapshot): JsonObject {
  return { status: { infos: [], configs: s.roles.filter((r) => r.quotaLimit).map((r) => ({ role: r.name, guarantees: {}, limits: quotaLimitsJson(r) })) } };
}

function flatResources(r: Resources): JsonObject {
  const x = toSpec(r);
  return { cpus: x.cpus, mem: x.mem, disk: x.disk, ...(x.network ? { network: x.network } : {}), ...(x.ports.length ? { ports: `[${x.ports.map((p) => `${p.begin}-${p.end}`).join(', ')}]` } : {}) };
}

/** GET /master/state, in the shape of Mesos's state endpoint that monitoring tools read. */
export function masterState(ctx: MasterContext, s: Snapshot, leader: { epoch: number; holder: string | undefined }, startedAt: number): JsonObject {
  const live = s.agents.filter((a) => a.reachability !== 'GONE');
  const taskJson = stateTaskJson(s);
  // DRF as the allocator sees it: what a client holds (allocated + offered) over the region's total.
  const regionTotal = sum(live.filter((a) => a.reachability === 'REACHABLE'), (a) => a.total);
  const heldBy = (role: string): Resources =>
    add(sum(s.tasks.filter((t) => !isTerminal(t.state) && t.role === role), (t) => t.resources), sum(s.offers.filter((o) => o.role === role), (o) => o.resources));
  const fwJson = (f: Framework): JsonObject => {
    const mine = s.tasks.filter((t) => t.frameworkId === f.id);
    const offers = s.offers.filter((o) => o.frameworkId === f.id);
    const used = sum(mine.filter((t) => !isTerminal(t.state)), (t) => t.resources);
    const offered = sum(offers, (o) => o.resources);
    return {
      id: f.id,
      name: f.info.name,
      user: f.info.user,
      role: f.info.roles[0] ?? '*',
      roles: [...f.info.roles],
      ...(f.info.principal !== undefined ? { principal: f.info.principal } : {}),
      // Mesos writes FrameworkInfo's hostname and webui_url, empty when the framework gave none.
      hostname: f.info.hostname ?? '',
      webui_url: f.info.webuiUrl ?? '',
      checkpoint: f.info.checkpoint,
      capabilities: [...f.info.capabilities],
      active: f.connected && f.removedAt === undefined,
      connected: f.connected,
      failover_timeout: f.info.failoverTimeoutSeconds,
      registered_time: f.registeredAt / 1000,
      ...(f.removedAt !== undefined ? { unregistered_time: f.removedAt / 1000 } : {}),
      tasks: mine.filter((t) => !isTerminal(t.state)).map(taskJson),
      completed_tasks: mine.filter((t) => isTerminal(t.state)).map(taskJson),
      offers: offers.map((o) => ({ id: o.id, slave_id: o.agentId, resources: flatResources(o.resources) })),
      used_resources: flatResources(used),
      offered_resources: flatResources(offered),
      resources: flatResources(add(used, offered)),
      // Stratus addition: the framework's dominant share of the region (DRF, unweighted).
      dominant_share: dominantShare(add(used, offered), regionTotal),
    };
  };
  return {
    version: MESOS_COMPATIBLE_VERSION,
    id: ctx.config.masterId,
    pid: `master@${ctx.config.hostname}:${ctx.config.port}`,
    hostname: ctx.config.hostname,
    start_time: startedAt / 1000,
    elected_time: leader.epoch,
    leader: leader.holder ?? '',
    leader_info: { id: ctx.config.masterId, hostname: ctx.config.hostname, port: ctx.config.port },
    activated_slaves: live.filter((a) => a.reachability === 'REACHABLE' && !a.deactivated).length,
    deactivated_slaves: live.filter((a) => a.deactivated).length,
    unreachable_slaves: live.filter((a) => a.reachability === 'UNREACHABLE').length,
    slaves: live.map(stateSlaveJson),
    frameworks: s.frameworks.filter((f) => f.removedAt === undefined).map(fwJson),
    completed_frameworks: s.frameworks.filter((f) => f.removedAt !== undefined).map(fwJson),
    unregistered_frameworks: [],
    // Stratus addition: each role's weight and weighted dominant share, the DRF sorter's key.
    roles: knownRoles(s).map((name) => {
      const weight = s.roles.find((r) => r.name === name)?.weight ?? 1;
      const share = dominantShare(heldBy(name), regionTotal);
      return { name, weight, dominant_share: share, weighted_share: share / weight, frameworks: s.frameworks.filter((f) => f.removedAt === undefined && f.info.roles.includes(name)).map((f) => f.id) };
    }),
  };
}

/** An agent as /master/state and /master/slaves show it. */
export function stateSlaveJson(a: Agent): JsonObject {
  return {
    id: a.id,
    hostname: a.hostname,
    pid: agentPid(a),
    registered_time: a.registeredAt / 1000,
    resources: flatResources(a.total),
    used_resources: flatResources(a.allocated),
    offered_resources: flatResources(a.offered),
    attributes: { ...a.attributes },
    active: a.reachability === 'REACHABLE' && !a.deactivated,
    deactivated: a.deactivated,
    version: MESOS_COMPATIBLE_VERSION,
    reachability: a.reachability,
    healthy: a.health?.healthy ?? true,
    ...(a.drain ? { drain_info: { state: a.drain.state } } : {}),
  };
}

/** The IPv4 address an agent is known by: its endpoint's host, else its hostname, when a literal. */
export function agentIp(a: Agent | undefined): string | undefined {
  return a ? (ipv4OfUrl(a.endpoint) ?? ipv4OfHost(a.hostname)) : undefined;
}

/**
 * A task as /master/state and /master/tasks show it. Mesos writes executor_id "" for a command
 * task, and each status's container_status with the network the task is reachable on: here the
 * agent's IP (tasks share their agent's network), where it is known.
 */
export function stateTaskJson(s: Pick<Snapshot, 'agents'>): (t: Task) => JsonObject {
  const ips = new Map(s.agents.map((a) => [a.id as string, agentIp(a)]));
  return (t) => {
    const ip = ips.get(t.agentId);
    return {
      id: t.taskId,
      name: t.spec.name,
      framework_id: t.frameworkId,
      executor_id: t.spec.executorId ?? '',
      slave_id: t.agentId,
      state: `TASK_${t.state}`,
      role: t.role,
      resources: flatResources(t.resources),
      // Oldest first, as Mesos lists them: the kept history, then the current status.
      statuses: [...(t.previousStatuses ?? []), t.status].map((x) => ({
        state: `TASK_${x.state}`,
        timestamp: x.timestamp,
        ...(x.reason ? { reason: `REASON_${x.reason}` } : {}),
        ...(x.message ? { message: x.message } : {}),
        ...(x.healthy !== undefined ? { healthy: x.healthy } : {}),
        container_status: { network_infos: ip ? [{ ip_addresses: [{ protocol: 'IPv4', ip_address: ip }] }] : [] },
      })),
      ...(t.spec.labels ? { labels: recordToLabels(t.spec.labels)! } : {}),
    };
  };
}

export { flatResources };

/**
 * GET_EXECUTORS: the executors the region's live tasks name, one per framework, agent and
 * executor id (a command task has none). Stratus keeps an executor's id, not its whole
 * ExecutorInfo; LAUNCH_GROUP tasks run under Mesos's DEFAULT executor, others a CUSTOM one.
 */
export function getExecutors(s: Pick<Snapshot, 'tasks'>): JsonObject {
  const seen = new Map<string, JsonObject>();
  for (const t of s.tasks) {
    const id = t.spec.executorId;
    if (id === undefined || isTerminal(t.state)) continue;
    const key = `${t.frameworkId}/${t.agentId}/${id}`;
    if (seen.has(key)) continue;
    seen.set(key, {
      agent_id: { value: t.agentId },
      executor_info: { type: t.spec.groupId !== undefined ? 'DEFAULT' : 'CUSTOM', executor_id: { value: id }, framework_id: { value: t.frameworkId } },
    });
  }
  return { executors: [...seen.values()], orphan_executors: [] };
}

/** GET_MASTER: this master's MasterInfo (every Stratus master answers for the region). */
export function getMaster(ctx: MasterContext, startedAt: number, electedAt: number | undefined): JsonObject {
  const c = ctx.config;
  const ip = ipv4OfHost(c.hostname);
  return {
    master_info: {
      id: c.masterId,
      ip: ip ? mesosIpInt(ip) : 0,
      port: c.port,
      pid: `master@${ip ?? c.hostname}:${c.port}`,
      hostname: c.hostname,
      version: MESOS_COMPATIBLE_VERSION,
      address: { hostname: c.hostname, ...(ip ? { ip } : {}), port: c.port },
    },
    start_time: startedAt / 1000,
    ...(electedAt !== undefined ? { elected_time: electedAt / 1000 } : {}),
  };
}

/** GET_VERSION's VersionInfo: the Mesos API version Stratus answers as. */
export function getVersion(): JsonObject {
  return { version_info: { version: MESOS_COMPATIBLE_VERSION } };
}
