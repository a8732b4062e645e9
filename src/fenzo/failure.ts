import { rangesContain, type PortRange, type ScalarName } from '../core/resources.js';
import type { HostTable } from './host-table.js';
import type { HostView } from './host-view.js';
import type { TaskTracker } from './task-tracker.js';
import type { FailureReason, GroupCap, ResourceName, TaskAssignmentFailure, TaskRequest } from './types.js';

// Why a task found no host, summarised over all hosts: for each resource, how many hosts lack it
// (and the most any host has); for hosts with room, which hard constraint refused them first.
// Only run for tasks that failed, so it may look at every host.

const RESOURCE_ORDER: readonly ResourceName[] = ['cpus', 'mem', 'disk', 'network', 'ports'];
const SCALAR_ORDER: readonly ScalarName[] = ['cpus', 'mem', 'disk', 'network'];
export const EXCLUSIVE_HELD = 'ExclusiveHostConstraint(held by an exclusive task)';

function unit(resource: ResourceName): string {
  return resource === 'cpus' ? ' millicpus' : resource === 'ports' ? ' ports' : resource === 'network' ? ' Mbps' : ' MiB';
}

function describeReason(reason: FailureReason): string {
  switch (reason.kind) {
    case 'resource':
      return `${reason.resource} short on ${reason.hosts} host(s) (asks ${reason.requested}${unit(reason.resource)}, most free ${reason.largestFree})`;
    case 'constraint':
      return `constraint ${reason.constraint} refused ${reason.hosts} host(s)${reason.detail ? ` (e.g. ${reason.detail})` : ''}`;
    case 'groupCap':
      return `group '${reason.group}' would exceed its ${reason.resource} cap (${reason.used} used + ${reason.requested} asked > ${reason.cap})`;
    case 'noLeases':
      return 'no host is offering resources';
  }
}

export function failure(task: TaskRequest, reasons: readonly FailureReason[]): TaskAssignmentFailure {
  return {
    taskId: task.id,
    groupName: task.groupName,
    reasons,
    message: `task ${task.id} not placed: ${reasons.map(describeReason).join('; ')}`,
  };
}

/** True when more or bigger hosts could place the task: a resource reason or no lease at all. */
export function isResourceShortfall(f: TaskAssignmentFailure): boolean {
  return f.reasons.some((r) => r.kind === 'resource' || r.kind === 'noLeases');
}

/** Group-cap reasons for placing `task` now, or none. `used` is cpus, mem, disk, network. */
export function groupCapReasons(task: TaskRequest, cap: GroupCap, used: Float64Array): FailureReason[] {
  const reasons: FailureReason[] = [];
  SCALAR_ORDER.forEach((resource, k) => {
    const limit = cap[resource];
    const requested = task.resources[resource];
    if (limit !== undefined && used[k]! + requested > limit) {
      reasons.push({ kind: 'groupCap', group: task.groupName, resource, requested, used: used[k]!, cap: limit });
    }
  });
  return reasons;
}

/** Walks every host to say why none took the task. */
export function diagnose(
  task: TaskRequest,
  portCount: number,
  exactPorts: readonly PortRange[] | undefined,
  table: HostTable,
  view: HostView,
  tracker: TaskTracker,
): TaskAssignmentFailure {
  if (table.n === 0) return failure(task, [{ kind: 'noLeases' }]);
  const r = task.resources;
  const short = new Float64Array(5);
  const largest = new Float64Array(5);
  const refused = new Map<string, { hosts: number; detail: string | undefined }>();
  const hard = task.hardConstraints ?? [];
  const { freeCpus, freeMem, freeDisk, freeNetwork, freePorts } = table;
  for (let i = 0; i < table.n; i++) {
    const c = freeCpus[i]!;
    const m = freeMem[i]!;
    const d = freeDisk[i]!;
    const w = freeNetwork[i]!;
    const p = freePorts[i]!;
    if (c > largest[0]!) largest[0] = c;
    if (m > largest[1]!) largest[1] = m;
    if (d > largest[2]!) largest[2] = d;
    if (w > largest[3]!) largest[3] = w;
    if (p > largest[4]!) largest[4] = p;
    let fits = true;
    if (c < r.cpus) {
      short[0]!++;
      fits = false;
    }
    if (m < r.mem) {
      short[1]!++;
      fits = false;
    }
    if (d < r.disk) {
      short[2]!++;
      fits = false;
    }
    if (w < r.network) {
      short[3]!++;
      fits = false;
    }
    if (p < portCount || (exactPorts !== undefined && !rangesContain(table.portRanges[i]!, exactPorts))) {
      short[4]!++;
      fits = false;
    }
    if (!fits) continue;
    view.at(i);
    let name: string | undefined;
    let detail: string | undefined;
    if (table.exclusiveHeld[i] === 1) name = EXCLUSIVE_HELD;
    else {
      for (const c of hard) {
        if (!c.evaluate(task, view, tracker)) {
          name = c.name;
          detail = c.explain?.(task, view, tracker);
          break;
        }
      }
    }
    if (name === undefined) continue; // cannot happen: the search would have placed the task here
    const entry = refused.get(name);
    if (entry === undefined) refused.set(name, { hosts: 1, detail });
    else entry.hosts++;
  }
  const reasons: FailureReason[] = [];
  RESOURCE_ORDER.forEach((resource, k) => {
    if (short[k]! > 0) {
      const requested = k === 4 ? portCount : r[resource as ScalarName];
      reasons.push({ kind: 'resource', resource, hosts: short[k]!, requested, largestFree: largest[k]! });
    }
  });
  // Constraint reasons in the task's order of constraints (a held host first).
  for (const constraint of new Set([EXCLUSIVE_HELD, ...hard.map((c) => c.name)])) {
    const entry = refused.get(constraint);
    if (entry === undefined) continue;
    const { hosts, detail } = entry;
    reasons.push(detail === undefined ? { kind: 'constraint', constraint, hosts } : { kind: 'constraint', constraint, hosts, detail });
  }
  return failure(task, reasons);
}
