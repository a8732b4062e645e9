import { resources, type PortRange, type Resources } from '../../../src/core/resources.js';
import type {
  ConstraintEvaluator,
  RunningTask,
  SchedulingResult,
  TaskRequest,
  VMLease,
  VMTaskFitnessCalculator,
} from '../../../src/fenzo/index.js';

// Builders in user units (cores, MiB) for readable tests.

export interface LeaseSpec {
  cpus?: number;
  mem?: number;
  disk?: number;
  network?: number;
  ports?: readonly PortRange[];
  attributes?: Record<string, string>;
  total?: { cpus?: number; mem?: number; disk?: number; network?: number };
}

export function lease(hostname: string, spec: LeaseSpec = {}): VMLease {
  const available = resources({
    cpus: spec.cpus ?? 8,
    mem: spec.mem ?? 8000,
    disk: spec.disk ?? 0,
    network: spec.network ?? 0,
    ports: spec.ports ?? [{ begin: 31000, end: 31009 }],
  });
  return {
    hostname,
    agentId: `agent-${hostname}`,
    offerIds: [`offer-${hostname}`],
    resources: available,
    ...(spec.attributes ? { attributes: spec.attributes } : {}),
    ...(spec.total ? { totalResources: resources({ ...spec.total, ports: available.ports }) } : {}),
  };
}

export interface TaskSpec {
  group?: string;
  cpus?: number;
  mem?: number;
  disk?: number;
  network?: number;
  ports?: number | readonly PortRange[];
  hard?: readonly ConstraintEvaluator[];
  soft?: readonly VMTaskFitnessCalculator[];
}

export function task(id: string, spec: TaskSpec = {}): TaskRequest {
  const r = resources({ cpus: spec.cpus ?? 1, mem: spec.mem ?? 1000, disk: spec.disk ?? 0, network: spec.network ?? 0 });
  return {
    id,
    groupName: spec.group ?? '',
    resources: { cpus: r.cpus, mem: r.mem, disk: r.disk, network: r.network, ports: spec.ports ?? 0 },
    ...(spec.hard ? { hardConstraints: spec.hard } : {}),
    ...(spec.soft ? { softConstraints: spec.soft } : {}),
  };
}

export function running(taskId: string, hostname: string, group: string, res?: Partial<Resources>): RunningTask {
  return {
    taskId,
    hostname,
    groupName: group,
    ...(res ? { resources: { cpus: 0, mem: 0, disk: 0, network: 0, ports: [], ...res } } : {}),
  };
}

/** taskId -> hostname of every assignment. */
export function placement(result: SchedulingResult): Record<string, string> {
  return Object.fromEntries(result.assignments.map((a) => [a.taskId, a.hostname]));
}

/** How many tasks landed on hosts with each value of an attribute. */
export function countBy(result: SchedulingResult, leases: readonly VMLease[], attribute: string): Record<string, number> {
  const byHost = new Map(leases.map((l) => [l.hostname, l.attributes?.[attribute] ?? '?']));
  const out: Record<string, number> = {};
  for (const a of result.assignments) {
    const v = byHost.get(a.hostname)!;
    out[v] = (out[v] ?? 0) + 1;
  }
  return out;
}

export function zones(n: number, perZone: string[], spec: LeaseSpec = {}): VMLease[] {
  const out: VMLease[] = [];
  for (const zone of perZone) {
    for (let k = 0; k < n; k++) out.push(lease(`${zone}-host${k}`, { ...spec, attributes: { zone, ...(spec.attributes ?? {}) } }));
  }
  return out;
}
