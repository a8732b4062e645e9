import { resources as toFixed, type Resources } from '../core/resources.js';
import {
  asSoftConstraint,
  BalancedHostAttrConstraint,
  HostAttrValueConstraint,
  scheduleOnce,
  taskRequest,
  UniqueHostAttrConstraint,
  type ConstraintEvaluator,
  type KnownHost,
  type RunningTask,
  type SchedulingResult,
  type TaskRequest,
  type VMLease,
  type VMTaskFitnessCalculator,
} from '../fenzo/index.js';
import type { Offer } from '../sdk/index.js';
import type { ClusterAgent } from './agents.js';
import type { JobConstraint, JobSpec } from './spec.js';

// One placement pass: the held offers merged per agent become Fenzo leases, the pending
// instances become task requests (group = job, so zone balance and unique host count per job),
// and the tasks already running are what the constraints count. Pure: the caller launches.

export const ZONE_ATTRIBUTE = 'zone';

export interface PendingInstance {
  /** `<job>/<index>`: the task request id. */
  readonly key: string;
  readonly spec: JobSpec;
}

export interface PlacedInstance {
  readonly taskId: string;
  readonly spec: JobSpec;
  readonly hostname: string;
}

export interface LeaseInfo {
  readonly agentId: string;
  readonly hostname: string;
  readonly offerIds: readonly string[];
  readonly role?: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface PlacementResult {
  readonly result: SchedulingResult;
  /** The leases used as input, by agent id. */
  readonly leases: ReadonlyMap<string, LeaseInfo>;
  /** Offers left out of every lease (another role on the same agent): to decline. */
  readonly leftOut: readonly string[];
}

function fixed(spec: JobSpec): Resources {
  return toFixed({ cpus: spec.cpus, mem: spec.mem, disk: spec.disk });
}

/** Offers merged per agent (one role per lease: an ACCEPT cannot mix roles). */
export function leasesFrom(offers: readonly Offer[], agents: ReadonlyMap<string, ClusterAgent>): { leases: VMLease[]; info: Map<string, LeaseInfo>; leftOut: string[] } {
  const byAgent = new Map<string, Offer[]>();
  const leftOut: string[] = [];
  for (const o of offers) {
    const list = byAgent.get(o.agentId);
    if (list === undefined) byAgent.set(o.agentId, [o]);
    else if (list[0]!.role === o.role) list.push(o);
    else leftOut.push(o.id);
  }
  const leases: VMLease[] = [];
  const info = new Map<string, LeaseInfo>();
  for (const [agentId, list] of byAgent) {
    const first = list[0]!;
    const sum = { cpus: 0, mem: 0, disk: 0, network: 0 };
    const ports: { begin: number; end: number }[] = [];
    for (const o of list) {
      sum.cpus += o.resources.cpus;
      sum.mem += o.resources.mem;
      sum.disk += o.resources.disk;
      sum.network += o.resources.network;
      ports.push(...o.resources.ports);
    }
    const total = agents.get(agentId)?.totalResources;
    leases.push({
      hostname: first.hostname,
      agentId,
      offerIds: list.map((o) => o.id),
      resources: toFixed({ ...sum, ports }),
      attributes: first.attributes,
      ...(total ? { totalResources: total } : {}),
    });
    info.set(agentId, {
      agentId,
      hostname: first.hostname,
      offerIds: list.map((o) => o.id),
      ...(first.role !== undefined ? { role: first.role } : {}),
      attributes: first.attributes,
    });
  }
  return { leases, info, leftOut };
}

/**
 * A job's Fenzo constraints: the jobs framework places with them, the autoscaler estimates its
 * shortfall with them. Zone spread applies only where hosts carry zones at all; `zones` limits
 * the balance to those values (default: every zone seen).
 */
export function constraintsFor(
  spec: { readonly zoneSpread?: JobSpec['zoneSpread']; readonly constraints?: readonly JobConstraint[] },
  clusterHasZones: boolean,
  zones?: readonly string[],
): { hard: ConstraintEvaluator[]; soft: VMTaskFitnessCalculator[] } {
  const hard: ConstraintEvaluator[] = [];
  const soft: VMTaskFitnessCalculator[] = [];
  const add = (c: ConstraintEvaluator, isSoft: boolean): void => void (isSoft ? soft.push(asSoftConstraint(c)) : hard.push(c));
  const spread = spec.zoneSpread ?? 'off';
  if (spread !== 'off' && clusterHasZones) add(new BalancedHostAttrConstraint({ attribute: ZONE_ATTRIBUTE, ...(zones ? { values: zones } : {}) }), spread === 'soft');
  for (const c of spec.constraints ?? []) {
    if (c.type === 'uniqueHost') add(new UniqueHostAttrConstraint(), c.soft === true);
    else add(new HostAttrValueConstraint(c.attribute, c.values), c.soft === true);
  }
  return { hard, soft };
}

export interface PlacementInput {
  readonly pending: readonly PendingInstance[];
  readonly offers: readonly Offer[];
  readonly placed: readonly PlacedInstance[];
  /** Reachable agents: their zones count even when they have no offer out. */
  readonly agents: ReadonlyMap<string, ClusterAgent>;
  readonly fitness?: VMTaskFitnessCalculator;
}

export function place(input: PlacementInput): PlacementResult {
  const { leases, info, leftOut } = leasesFrom(input.offers, input.agents);
  const knownHosts: KnownHost[] = [...input.agents.values()].filter((a) => a.reachable).map((a) => ({ hostname: a.hostname, attributes: a.attributes }));
  const clusterHasZones = knownHosts.some((h) => h.attributes[ZONE_ATTRIBUTE] !== undefined) || leases.some((l) => l.attributes?.[ZONE_ATTRIBUTE] !== undefined);
  const byJob = new Map<string, { hard: ConstraintEvaluator[]; soft: VMTaskFitnessCalculator[] }>();
  const requests: TaskRequest[] = input.pending.map((p) => {
    let c = byJob.get(p.spec.name);
    if (c === undefined) byJob.set(p.spec.name, (c = constraintsFor(p.spec, clusterHasZones)));
    return taskRequest({
      id: p.key,
      groupName: p.spec.name,
      cpus: p.spec.cpus,
      mem: p.spec.mem,
      disk: p.spec.disk,
      ports: p.spec.ports,
      ...(c.hard.length > 0 ? { hardConstraints: c.hard } : {}),
      ...(c.soft.length > 0 ? { softConstraints: c.soft } : {}),
    });
  });
  const runningTasks: RunningTask[] = input.placed.map((t) => ({ taskId: t.taskId, groupName: t.spec.name, hostname: t.hostname, resources: fixed(t.spec) }));
  const result = scheduleOnce(requests, leases, { runningTasks, knownHosts, ...(input.fitness ? { fitnessCalculator: input.fitness } : {}) });
  return { result, leases: info, leftOut };
}
