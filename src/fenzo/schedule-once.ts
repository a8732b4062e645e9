import { ValidationError } from '../core/errors.js';
import { countPorts, normalizeRanges, rangesContain, subtractRanges, takePorts, type PortRange, type Resources } from '../core/resources.js';
import { diagnose, failure, groupCapReasons } from './failure.js';
import { cpuMemBinPacker } from './fitness/bin-packing.js';
import { CpuBucketIndex } from './host-index.js';
import { HostTable } from './host-table.js';
import { HostView } from './host-view.js';
import type { ClusterStats, ConstraintEvaluator, VMTaskFitnessCalculator } from './plugin.js';
import { TaskTracker } from './task-tracker.js';
import type {
  ScheduleOptions,
  SchedulingResult,
  TaskAssignment,
  TaskAssignmentFailure,
  TaskRequest,
  VMAssignmentResult,
  VMLease,
} from './types.js';

// One scheduling pass (Fenzo's TaskScheduler.scheduleOnce): tasks are placed one by one in input
// order, each on the fittest host that has room and satisfies its hard constraints, and each
// placement is visible to the next task (resources, ports, group counts). Pure: the same input
// always gives the same output; ties go to the lower (hostname, agent id).

export const DEFAULT_FITNESS_GOOD_ENOUGH = 1.0;
export const DEFAULT_SOFT_CONSTRAINT_WEIGHT = 0.5;

const NO_CONSTRAINTS: readonly ConstraintEvaluator[] = [];
const NO_SOFT: readonly VMTaskFitnessCalculator[] = [];

function checkFraction(value: number, field: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new ValidationError(`${field} must be a number between 0 and 1`, field);
  }
  return value;
}

function checkTasks(tasks: readonly TaskRequest[]): void {
  const ids = new Set<string>();
  tasks.forEach((t, k) => {
    const field = `tasks[${k}]`;
    if (typeof t.id !== 'string' || t.id.length === 0) throw new ValidationError(`${field}.id must be a non-empty string`, `${field}.id`);
    if (ids.has(t.id)) throw new ValidationError(`task id ${t.id} appears twice`, `${field}.id`);
    ids.add(t.id);
    const r = t.resources;
    for (const name of ['cpus', 'mem', 'disk', 'network'] as const) {
      const v = r[name];
      if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
        throw new ValidationError(`${field}.resources.${name} must be a non-negative number in fixed units`, `${field}.resources.${name}`);
      }
    }
    if (typeof r.ports === 'number') {
      if (!Number.isInteger(r.ports) || r.ports < 0) {
        throw new ValidationError(`${field}.resources.ports must be a count or a list of ranges`, `${field}.resources.ports`);
      }
    } else if (!Array.isArray(r.ports)) {
      throw new ValidationError(`${field}.resources.ports must be a count or a list of ranges`, `${field}.resources.ports`);
    }
  });
}

function clamp01(x: number): number {
  // NaN from a plugin becomes 0: it can never win.
  return x >= 0 ? (x <= 1 ? x : 1) : 0;
}

/**
 * Assigns `tasks` to the hosts of `leases` (one lease per host, its offers merged). Tasks not
 * placed come back as failures with their reasons. Nothing is kept between calls: pass the
 * current leases, and the running tasks and known hosts that constraints and caps must count.
 *
 *   const { assignments, failures } = scheduleOnce(pending, leases, {
 *     fitnessCalculator: cpuMemBinPacker,
 *     fitnessGoodEnough: 1,
 *     runningTasks,
 *   });
 */
export function scheduleOnce(
  tasks: readonly TaskRequest[],
  leases: readonly VMLease[],
  options: ScheduleOptions = {},
): SchedulingResult {
  const goodEnough = checkFraction(options.fitnessGoodEnough ?? DEFAULT_FITNESS_GOOD_ENOUGH, 'fitnessGoodEnough');
  const softWeight = checkFraction(options.softConstraintWeight ?? DEFAULT_SOFT_CONSTRAINT_WEIGHT, 'softConstraintWeight');
  const calculator = options.fitnessCalculator ?? cpuMemBinPacker;
  checkTasks(tasks);

  const table = new HostTable(leases);
  const running = options.runningTasks ?? [];
  if (running.length > 0) table.addRunning(running);
  table.computeStats();
  const tracker = new TaskTracker(table, running, options.knownHosts ?? []);
  const index = new CpuBucketIndex(table.freeCpus, table.n, table.maxFreeCpus);
  const view = new HostView(table);
  const cluster: ClusterStats = { maxTotalCpus: table.maxTotalCpus, minTotalCpus: table.minTotalCpus };
  const spreading = calculator.searchOrder === 'spreading';
  const upperBound = calculator.upperBound;
  // Good enough below 1 stops at the first host scoring that much, in search order. At 1 the
  // search is full: even a perfect score keeps looking for a tie on a lower hostname (the bounds
  // make that cheap), so the answer never depends on how hosts are bucketed.
  const stopAt = goodEnough < 1 ? goodEnough : Infinity;
  const caps = options.groupCaps;

  const { freeCpus, freeMem, freeDisk, freeNetwork, freePorts, exclusiveHeld } = table;
  const assignments: TaskAssignment[] = [];
  const failures: TaskAssignmentFailure[] = [];
  const byHost = new Map<number, TaskAssignment[]>();
  let evaluations = 0;

  for (const task of tasks) {
    const r = task.resources;
    const cpus = r.cpus;
    const mem = r.mem;
    const disk = r.disk;
    const network = r.network;
    const exactPorts: readonly PortRange[] | undefined = typeof r.ports === 'number' ? undefined : normalizeRanges(r.ports);
    const portCount = exactPorts === undefined ? (r.ports as number) : countPorts(exactPorts);
    const hard = task.hardConstraints ?? NO_CONSTRAINTS;
    const soft = task.softConstraints ?? NO_SOFT;
    const nHard = hard.length;
    const nSoft = soft.length;

    const cap = caps !== undefined && Object.hasOwn(caps, task.groupName) ? caps[task.groupName] : undefined;
    if (cap !== undefined) {
      const reasons = groupCapReasons(task, cap, tracker.groupUsage(task.groupName));
      if (reasons.length > 0) {
        failures.push(failure(task, reasons));
        continue;
      }
    }

    // Search the buckets that can hold the task's CPUs, fullest first (emptiest first to spread).
    let best = -1;
    let bestFit = -1;
    const first = index.bucketOf(cpus);
    const step = spreading ? -1 : 1;
    const stop = spreading ? first - 1 : index.buckets;
    search: for (let b = spreading ? index.buckets - 1 : first; b !== stop; b += step) {
      if (index.counts[b] === 0) continue;
      // The best this bucket could offer, blended with a perfect soft score exactly as below.
      let bound = upperBound === undefined ? 1 : clamp01(upperBound(task, index.low(b), index.high(b), cluster));
      if (nSoft > 0) bound = (1 - softWeight) * bound + softWeight * 1;
      if (best >= 0 && bestFit > bound) continue;
      let walkMin = Infinity;
      let walkMax = 0;
      let walked = true;
      for (let i = index.next(b, 0); i >= 0; i = index.next(b, i + 1)) {
        // Hosts walk in index order: past `best`, even a tie cannot win.
        if (best >= 0 && (bestFit > bound || (bestFit === bound && i > best))) {
          walked = false;
          break;
        }
        const f = freeCpus[i]!;
        if (f < walkMin) walkMin = f;
        if (f > walkMax) walkMax = f;
        if (
          f < cpus ||
          freeMem[i]! < mem ||
          freeDisk[i]! < disk ||
          freeNetwork[i]! < network ||
          freePorts[i]! < portCount ||
          exclusiveHeld[i] === 1
        ) {
          continue;
        }
        if (exactPorts !== undefined && !rangesContain(table.portRanges[i]!, exactPorts)) continue;
        view.at(i);
        let ok = true;
        for (let c = 0; c < nHard && ok; c++) ok = hard[c]!.evaluate(task, view, tracker);
        if (!ok) continue;
        let fit = clamp01(calculator.calculateFitness(task, view, tracker));
        if (nSoft > 0) {
          let s = 0;
          for (let c = 0; c < nSoft; c++) s += clamp01(soft[c]!.calculateFitness(task, view, tracker));
          fit = (1 - softWeight) * fit + softWeight * (s / nSoft);
        }
        evaluations++;
        if (fit > bestFit || (fit === bestFit && i < best)) {
          best = i;
          bestFit = fit;
        }
        if (fit >= stopAt) break search;
      }
      if (walked) index.tighten(b, walkMin, walkMax);
    }

    if (best < 0) {
      failures.push(diagnose(task, portCount, exactPorts, table, view, tracker));
      continue;
    }

    // Take the resources on host `best`.
    const i = best;
    const before = freeCpus[i]!;
    freeCpus[i] = before - cpus;
    freeMem[i]! -= mem;
    freeDisk[i]! -= disk;
    freeNetwork[i]! -= network;
    index.update(i, before, before - cpus);
    let ports: readonly PortRange[] = exactPorts ?? [];
    if (portCount > 0) {
      if (exactPorts === undefined) ports = takePorts(table.portRanges[i]!, portCount)!;
      table.portRanges[i] = subtractRanges(table.portRanges[i]!, ports);
      freePorts[i]! -= portCount;
    }
    table.addAssigned(i, task);
    for (let c = 0; c < nHard; c++) if (hard[c]!.exclusive === true) exclusiveHeld[i] = 1;
    tracker.onAssign(task.groupName, i, cpus, mem, disk, network);

    const lease = table.leases[i]!;
    const resources: Resources = { cpus, mem, disk, network, ports };
    const assignment: TaskAssignment = {
      taskId: task.id,
      hostname: lease.hostname,
      agentId: lease.agentId,
      offerIds: lease.offerIds,
      resources,
      fitness: bestFit,
    };
    assignments.push(assignment);
    const list = byHost.get(i);
    if (list === undefined) byHost.set(i, [assignment]);
    else list.push(assignment);
  }

  const hosts: VMAssignmentResult[] = [];
  for (const i of [...byHost.keys()].sort((a, b) => a - b)) {
    const lease = table.leases[i]!;
    hosts.push({
      hostname: lease.hostname,
      agentId: lease.agentId,
      offerIds: lease.offerIds,
      tasks: byHost.get(i)!,
      remaining: {
        cpus: freeCpus[i]!,
        mem: freeMem[i]!,
        disk: freeDisk[i]!,
        network: freeNetwork[i]!,
        ports: table.portRanges[i]!,
      },
    });
  }
  return { assignments, failures, hosts, evaluations };
}
