import { countPorts, normalizeRanges, rangesContain, subtractRanges, takePorts, type PortRange } from '../../../src/core/resources.js';
import {
  HOSTNAME_ATTRIBUTE,
  type AttributeCounts,
  type KnownHost,
  type RunningTask,
  type TaskRequest,
  type TaskTrackerState,
  type VMLease,
  type VMTaskFitnessCalculator,
  type VirtualMachineCurrentState,
} from '../../../src/fenzo/index.js';

// A deliberately naive scheduler for checking scheduleOnce with full search: every host is
// evaluated for every task, counts are recomputed from scratch, no index, no bound, no pruning.
// Same plugins, same blend of soft constraints, same tie-break (lower hostname, then agent id).

interface Host {
  lease: VMLease;
  free: { cpus: number; mem: number; disk: number; network: number };
  total: { cpus: number; mem: number; disk: number; network: number };
  ports: readonly PortRange[];
  running: RunningTask[];
  assigned: TaskRequest[];
  exclusive: boolean;
}

export interface ReferenceAssignment {
  taskId: string;
  hostname: string;
  ports: readonly PortRange[];
  fitness: number;
}

export function referenceSchedule(
  tasks: readonly TaskRequest[],
  leases: readonly VMLease[],
  options: {
    fitnessCalculator: VMTaskFitnessCalculator;
    softConstraintWeight?: number;
    runningTasks?: readonly RunningTask[];
    knownHosts?: readonly KnownHost[];
  },
): { assignments: ReferenceAssignment[]; failed: string[] } {
  const w = options.softConstraintWeight ?? 0.5;
  const sorted = [...leases].sort((a, b) =>
    a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0,
  );
  const hosts: Host[] = sorted.map((l) => {
    const t = l.totalResources ?? l.resources;
    const r = l.resources;
    return {
      lease: l,
      free: { cpus: r.cpus, mem: r.mem, disk: r.disk, network: r.network },
      total: { cpus: Math.max(t.cpus, r.cpus), mem: Math.max(t.mem, r.mem), disk: Math.max(t.disk, r.disk), network: Math.max(t.network, r.network) },
      ports: r.ports,
      running: [],
      assigned: [],
      exclusive: false,
    };
  });
  const known = (options.knownHosts ?? []).filter((k) => !hosts.some((h) => h.lease.hostname === k.hostname));
  const runningElsewhere: RunningTask[] = [];
  for (const t of options.runningTasks ?? []) {
    const h = hosts.find((x) => x.lease.hostname === t.hostname);
    if (h === undefined) {
      runningElsewhere.push(t);
      continue;
    }
    h.running.push(t);
    if (t.exclusive) h.exclusive = true;
    if (t.resources && h.lease.totalResources === undefined) {
      h.total.cpus += t.resources.cpus;
      h.total.mem += t.resources.mem;
      h.total.disk += t.resources.disk;
      h.total.network += t.resources.network;
    }
  }

  const attributeOf = (hostname: string, attrs: Readonly<Record<string, string>> | undefined, attribute: string): string | undefined =>
    attribute === HOSTNAME_ATTRIBUTE ? hostname : attrs?.[attribute] || undefined;

  const view = (k: number): VirtualMachineCurrentState => {
    const h = hosts[k]!;
    return {
      hostname: h.lease.hostname,
      agentId: h.lease.agentId,
      attributes: h.lease.attributes ?? {},
      index: k,
      freeCpus: h.free.cpus,
      freeMem: h.free.mem,
      freeDisk: h.free.disk,
      freeNetwork: h.free.network,
      freePorts: countPorts(h.ports),
      freePortRanges: h.ports,
      totalCpus: h.total.cpus,
      totalMem: h.total.mem,
      totalDisk: h.total.disk,
      totalNetwork: h.total.network,
      taskCount: h.running.length + h.assigned.length,
      runningTasks: h.running,
      assignedTasks: h.assigned,
    };
  };

  const tracker: TaskTrackerState = {
    groupTasksOnHost(group, host) {
      const h = hosts[host.index]!;
      return h.running.filter((t) => t.groupName === group).length + h.assigned.filter((t) => t.groupName === group).length;
    },
    groupTasksByAttribute(group, attribute): AttributeCounts {
      const values: string[] = [];
      const counts = new Map<string, number>();
      const see = (v: string | undefined): void => {
        if (v !== undefined && !counts.has(v)) {
          counts.set(v, 0);
          values.push(v);
        }
      };
      for (const h of hosts) see(attributeOf(h.lease.hostname, h.lease.attributes, attribute));
      for (const k of known) see(attributeOf(k.hostname, k.attributes, attribute));
      const bump = (v: string | undefined): void => {
        if (v !== undefined) counts.set(v, counts.get(v)! + 1);
      };
      for (const h of hosts) {
        const v = attributeOf(h.lease.hostname, h.lease.attributes, attribute);
        for (const t of h.running) if (t.groupName === group) bump(v);
        for (const t of h.assigned) if (t.groupName === group) bump(v);
      }
      for (const t of runningElsewhere) {
        const k = known.find((x) => x.hostname === t.hostname);
        if (k !== undefined && t.groupName === group) bump(attributeOf(k.hostname, k.attributes, attribute));
      }
      const all = values.map((v) => counts.get(v)!);
      return {
        attribute,
        values,
        valueIndexOf: (host) => {
          const v = attributeOf(host.hostname, host.attributes, attribute);
          return v === undefined ? -1 : values.indexOf(v);
        },
        countAt: (i) => (i < 0 ? 0 : all[i]!),
        countOf: (v) => counts.get(v) ?? 0,
        min: all.length ? Math.min(...all) : 0,
        max: all.length ? Math.max(...all) : 0,
      };
    },
  };

  const clamp = (x: number): number => (x >= 0 ? (x <= 1 ? x : 1) : 0);
  const assignments: ReferenceAssignment[] = [];
  const failed: string[] = [];
  for (const task of tasks) {
    const r = task.resources;
    const exact = typeof r.ports === 'number' ? undefined : normalizeRanges(r.ports);
    const portCount = exact === undefined ? (r.ports as number) : countPorts(exact);
    let best = -1;
    let bestFit = -1;
    hosts.forEach((h, k) => {
      if (h.free.cpus < r.cpus || h.free.mem < r.mem || h.free.disk < r.disk || h.free.network < r.network) return;
      if (countPorts(h.ports) < portCount || (exact && !rangesContain(h.ports, exact))) return;
      if (h.exclusive) return;
      const v = view(k);
      if (!(task.hardConstraints ?? []).every((c) => c.evaluate(task, v, tracker))) return;
      let fit = clamp(options.fitnessCalculator.calculateFitness(task, v, tracker));
      const soft = task.softConstraints ?? [];
      if (soft.length > 0) {
        let s = 0;
        for (const c of soft) s += clamp(c.calculateFitness(task, v, tracker));
        fit = (1 - w) * fit + w * (s / soft.length);
      }
      if (fit > bestFit) {
        best = k;
        bestFit = fit;
      }
    });
    if (best < 0) {
      failed.push(task.id);
      continue;
    }
    const h = hosts[best]!;
    h.free.cpus -= r.cpus;
    h.free.mem -= r.mem;
    h.free.disk -= r.disk;
    h.free.network -= r.network;
    const ports = exact ?? takePorts(h.ports, portCount)!;
    h.ports = subtractRanges(h.ports, ports);
    h.assigned.push(task);
    if ((task.hardConstraints ?? []).some((c) => c.exclusive)) h.exclusive = true;
    assignments.push({ taskId: task.id, hostname: h.lease.hostname, ports, fitness: bestFit });
  }
  return { assignments, failed };
}
