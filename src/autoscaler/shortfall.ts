import { GROUP_ATTRIBUTE, ZONE_ATTRIBUTE } from '../core/agent.js';
import { SCALAR_LIMITS } from '../core/resources.js';
import {
  scheduleOnce,
  taskRequest,
  type ConstraintEvaluator,
  type KnownHost,
  type RunningTask,
  type TaskRequest,
  type VMLease,
  type VMTaskFitnessCalculator,
} from '../fenzo/index.js';
import { constraintsFor } from '../jobs/placement.js';
import type { JobConstraint, JobSpec } from '../jobs/spec.js';
import type { HostShape } from './rules.js';
import { zonesForNewHosts } from './zone-balance.js';

// How many new hosts of each group would place the tasks short of resources, found by the
// scheduler itself (scheduleOnce), as Netflix Fenzo's OptimizingShortfallEvaluator does: the tasks
// are scheduled onto pseudo hosts of a group's shape, the group's hosts in flight first, then new
// ones up to its room. Groups are tried smallest shape first, each with the tasks the earlier ones
// left, so a task goes to the cheapest group that holds it. The pseudo hosts carry the group's
// attributes and zones, so each task's own constraints (the group it is pinned to, zone balance,
// unique host, attribute values) hold on them as they will on the real hosts. The new pseudo
// hosts that received a task are the shortfall. Pure, like Fenzo; an estimate all the same: the
// scheduler places for real once the hosts have registered.

/** A task the scheduler found short of resources, in user units (cores, MiB, MiB, ports). */
export interface ShortfallTask {
  readonly id: string;
  /** The scheduler counts zone balance and unique hosts per job. */
  readonly job: string;
  readonly resources: HostShape;
  /** The job's placement rules, applied as the jobs framework applies them; none when absent. */
  readonly zoneSpread?: JobSpec['zoneSpread'];
  readonly constraints?: readonly JobConstraint[];
}

export interface ShortfallGroup {
  readonly group: string;
  /** What one new host brings; disk or ports 0 leave that resource out of the estimate. */
  readonly shape: HostShape;
  /** Attributes every new host of the group will carry, besides `group` and `zone`. */
  readonly attributes: Readonly<Record<string, string>>;
  /** The zones new hosts go to (empty: the zones the group's hosts are in), and the hosts per zone now. */
  readonly zones: readonly string[];
  readonly hostsPerZone: ReadonlyMap<string, number>;
  /** Hosts requested and not registered yet: filled before any new host. */
  readonly inFlight: number;
  /** New hosts this group may still get (max size less its size). */
  readonly room: number;
}

export interface Shortfall {
  /** New hosts needed per group. */
  readonly newHosts: ReadonlyMap<string, number>;
  /** The zones of those new hosts, per group (empty when the group has no zones). */
  readonly zones: ReadonlyMap<string, readonly string[]>;
  /** In-flight hosts no task was placed on, per group. */
  readonly unusedInFlight: ReadonlyMap<string, number>;
  /** Tasks placed on new or in-flight hosts, per group. */
  readonly tasks: ReadonlyMap<string, number>;
  /** Tasks left without a host: too big for every group they may go to, refused by their constraints, or beyond every group's room. */
  readonly unplaced: readonly string[];
  /** Unplaced tasks a group's shape would hold but its max size left no room for, per group (the first such group). */
  readonly capped: ReadonlyMap<string, number>;
}

export interface ShortfallOptions {
  /**
   * The scheduler's fitnessGoodEnough for the pseudo placement. 0 (the default) takes the first
   * host that fits, fullest CPU first; 1 searches every pseudo host for the fittest, as the jobs
   * framework's scheduler does (see DecideOptions.shortfallFitnessGoodEnough).
   */
  readonly fitnessGoodEnough?: number;
}

interface Candidate {
  /** Its place among the candidates, and the id of its task request. */
  readonly index: number;
  readonly t: ShortfallTask;
  /** The groups it may go to and whose shape holds it, smallest first. */
  readonly groups: readonly ShortfallGroup[];
  readonly request: TaskRequest;
  readonly size: number;
}

function fits(shape: HostShape, r: HostShape): boolean {
  return r.cpus <= shape.cpus && r.mem <= shape.mem && (shape.disk === 0 || r.disk <= shape.disk) && (shape.ports === 0 || r.ports <= shape.ports);
}

/** The groups a hard `group` attribute constraint allows; undefined = any. */
function allowedGroups(t: ShortfallTask): readonly string[] | undefined {
  let groups: string[] | undefined;
  for (const c of t.constraints ?? []) {
    if (c.type !== 'hostAttribute' || c.attribute !== GROUP_ATTRIBUTE || c.soft === true) continue;
    groups = groups === undefined ? [...c.values] : groups.filter((g) => c.values.includes(g));
  }
  return groups;
}

/** The zones new hosts of the group may be in (as zonesForNewHosts picks them). */
function zonesOf(g: ShortfallGroup): string[] {
  return g.zones.length > 0 ? [...new Set(g.zones)] : [...g.hostsPerZone.keys()].filter((z) => z !== '');
}

interface GroupSet {
  /** Smallest shape first. */
  readonly groups: readonly ShortfallGroup[];
  /** Their zones: a task's zone balance is over these. */
  readonly zones: readonly string[];
}

/** Tasks of one job that may share their groups and constraints (the constraints hold no state). */
function alike(a: ShortfallTask, b: ShortfallTask): boolean {
  const r = a.resources;
  const q = b.resources;
  return a.zoneSpread === b.zoneSpread && a.constraints === b.constraints && r.cpus === q.cpus && r.mem === q.mem && r.disk === q.disk && r.ports === q.ports;
}

interface Constraints {
  readonly hard: readonly ConstraintEvaluator[];
  readonly soft: readonly VMTaskFitnessCalculator[];
}

/**
 * The task's Fenzo constraints, as the jobs framework builds them, except that zone balance is
 * over the zones of the groups the task may go to: the pseudo hosts know no running task to balance against.
 */
function constraintsOf(t: ShortfallTask, zones: readonly string[]): Constraints {
  return constraintsFor(t, zones.length > 0, zones);
}

/** One pseudo host; its hostname orders in-flight hosts before new ones (the scheduler's tie-break). */
function pseudoHost(g: ShortfallGroup, kind: 'in-flight' | 'new', i: number, zone: string | undefined): VMLease {
  const name = `${g.group}/${kind}-${String(i).padStart(6, '0')}`;
  const s = g.shape;
  return {
    hostname: name,
    agentId: name,
    offerIds: [],
    resources: {
      cpus: Math.round(s.cpus * 1000),
      mem: Math.round(s.mem),
      // Left out of the estimate: more than any task asks.
      disk: s.disk > 0 ? Math.round(s.disk) : SCALAR_LIMITS.disk,
      network: 0,
      ports: [{ begin: 1, end: s.ports > 0 ? s.ports : 65535 }],
    },
    attributes: { ...g.attributes, [GROUP_ATTRIBUTE]: g.group, ...(zone !== undefined ? { [ZONE_ATTRIBUTE]: zone } : {}) },
  };
}

/** Hosts of `shape` the tasks fill at the very least, by their summed resources. */
function lowerBound(tasks: readonly Candidate[], shape: HostShape): number {
  let cpus = 0;
  let mem = 0;
  let disk = 0;
  let ports = 0;
  for (const { t } of tasks) {
    cpus += t.resources.cpus;
    mem += t.resources.mem;
    disk += t.resources.disk;
    ports += t.resources.ports;
  }
  return Math.ceil(Math.max(cpus / shape.cpus, mem / shape.mem, shape.disk > 0 ? disk / shape.disk : 0, shape.ports > 0 ? ports / shape.ports : 0) - 1e-9);
}

/** What the scheduler made of one group's pseudo hosts. */
interface GroupPlacement {
  readonly leases: readonly VMLease[];
  readonly inFlight: number;
  /** Zones of the new hosts, by index. */
  readonly zones: readonly string[];
  readonly newHosts: number;
  /** Candidate index and lease position of each task placed. */
  readonly assignments: readonly { readonly task: number; readonly host: number }[];
  /** Candidate indices of the tasks left without a host. */
  readonly failed: readonly number[];
  /** New pseudo hosts no task was placed on. */
  readonly emptyNew: number;
}

/**
 * Schedules the tasks on the group's hosts in flight and on N new pseudo hosts: at most a host per
 * task and one more per other zone, never beyond the group's room. Taking the first host that fits
 * (fitnessGoodEnough below 1), N is that at once. Searching every host for the fittest, N starts
 * at what the tasks' summed resources fill (plus a host per zone) and grows while tasks are left
 * and fewer hosts than zones stayed empty: the full search looks at every empty host it is given.
 */
function placeOnGroup(g: ShortfallGroup, tasks: readonly Candidate[], prior: { readonly running: readonly RunningTask[]; readonly known: readonly KnownHost[] } | undefined, goodEnough: number): GroupPlacement {
  const inFlight = Math.max(0, g.inFlight);
  const slack = Math.max(1, zonesOf(g).length);
  // A host for every task, and one more in each other zone (zone balance may need a given zone).
  const cap = Math.min(Math.max(0, g.room), tasks.length + slack - 1);
  let n = goodEnough < 1 ? cap : Math.min(cap, lowerBound(tasks, g.shape) + slack);
  const requests = tasks.map((c) => c.request);
  for (;;) {
    const zones = zonesForNewHosts(g.hostsPerZone, g.zones, inFlight + n);
    const leases: VMLease[] = [];
    for (let i = 0; i < inFlight + n; i++) leases.push(i < inFlight ? pseudoHost(g, 'in-flight', i, zones[i]) : pseudoHost(g, 'new', i - inFlight, zones[i]));
    const result = scheduleOnce(requests, leases, { fitnessGoodEnough: goodEnough, ...(prior ? { runningTasks: prior.running, knownHosts: prior.known } : {}) });
    const failed = result.failures.map((f) => Number(f.taskId));
    // Lease positions, in hostname order: in flight first, then new by index.
    const position = new Map(leases.map((l, i) => [l.hostname, i]));
    const used = new Set<number>();
    const assignments = result.assignments.map((a) => {
      const host = position.get(a.hostname)!;
      if (host >= inFlight) used.add(host);
      return { task: Number(a.taskId), host };
    });
    const emptyNew = n - used.size;
    // Spare hosts in every zone and still tasks left: more of the same hosts would not take them.
    if (n >= cap || failed.length === 0 || emptyNew >= slack) {
      return { leases, inFlight, zones: zones.slice(inFlight), newHosts: n, assignments, failed, emptyNew };
    }
    const left = new Set(failed);
    n = Math.min(cap, n + Math.max(lowerBound(tasks.filter((c) => left.has(c.index)), g.shape) + slack, Math.ceil(n / 2)));
  }
}

/**
 * The shortfall of each group. Groups are tried smallest shape first (a task goes to the cheapest
 * group that holds it, as far as its room goes); what one group's pseudo hosts received counts for
 * the constraints of the next (zone balance per job across groups).
 */
export function evaluateShortfall(tasks: readonly ShortfallTask[], groups: readonly ShortfallGroup[], options: ShortfallOptions = {}): Shortfall {
  const goodEnough = options.fitnessGoodEnough ?? 0;
  const ordered = [...groups].sort((a, b) => a.shape.cpus - b.shape.cpus || a.shape.mem - b.shape.mem || (a.group < b.group ? -1 : 1));
  const largest = ordered.reduce((m, g) => ({ cpus: Math.max(m.cpus, g.shape.cpus), mem: Math.max(m.mem, g.shape.mem) }), { cpus: 0, mem: 0 });
  const size = (r: HostShape): number => Math.max(largest.cpus > 0 ? r.cpus / largest.cpus : 0, largest.mem > 0 ? r.mem / largest.mem : 0);

  // The groups a task may go to and its constraints: worked out once per job while its tasks look alike.
  const groupSets = new Map<string, GroupSet>();
  const byJob = new Map<string, { readonly of: ShortfallTask; readonly set: GroupSet; readonly constraints: Constraints }>();
  const constraintsBySet = new Map<string, { readonly of: ShortfallTask; readonly constraints: Constraints }>();
  const unplaced: string[] = [];
  const candidates: Candidate[] = [];
  let counting = false;
  for (const t of tasks) {
    let job = byJob.get(t.job);
    if (job === undefined || !alike(job.of, t)) {
      const allowed = allowedGroups(t);
      let key = '';
      for (const g of ordered) key += (allowed === undefined || allowed.includes(g.group)) && fits(g.shape, t.resources) ? '1' : '0';
      let set = groupSets.get(key);
      if (set === undefined) {
        const mine = ordered.filter((_, k) => key[k] === '1');
        groupSets.set(key, (set = { groups: mine, zones: [...new Set(mine.flatMap(zonesOf))].sort() }));
      }
      // The constraints depend on the job's rules and the zones of the groups only.
      const cacheKey = `${key}\u0000${t.job}`;
      let c = constraintsBySet.get(cacheKey);
      if (c === undefined || c.of.zoneSpread !== t.zoneSpread || c.of.constraints !== t.constraints) constraintsBySet.set(cacheKey, (c = { of: t, constraints: constraintsOf(t, set.zones) }));
      byJob.set(t.job, (job = { of: t, set, constraints: c.constraints }));
    }
    const { set, constraints: c } = job;
    if (set.groups.length === 0) {
      unplaced.push(t.id);
      continue;
    }
    if (c.hard.length > 0 || c.soft.length > 0) counting = true;
    const request = taskRequest({
      // Ids by position: the input's ids need not be unique for the scheduler.
      id: String(candidates.length),
      groupName: t.job,
      cpus: t.resources.cpus,
      mem: t.resources.mem,
      disk: t.resources.disk,
      ports: t.resources.ports,
      ...(c.hard.length > 0 ? { hardConstraints: c.hard } : {}),
      ...(c.soft.length > 0 ? { softConstraints: c.soft } : {}),
    });
    candidates.push({ index: candidates.length, t, groups: set.groups, request, size: size(t.resources) });
  }
  // Largest first (first-fit decreasing: the scheduler meets them at their best); ties keep their order.
  const decreasing = [...candidates].sort((a, b) => b.size - a.size);

  // Placements on earlier groups' pseudo hosts, for the constraints that count tasks (only then).
  const prior = { running: [] as RunningTask[], known: [] as KnownHost[] };
  const newHosts = new Map<string, number>();
  const newZones = new Map<string, readonly string[]>();
  const unusedInFlight = new Map<string, number>();
  const placedTasks = new Map<string, number>();
  const placed = new Uint8Array(candidates.length);
  /** Per candidate, the first group whose room ran out on it. */
  const cappedBy = new Map<number, string>();
  for (const g of ordered) {
    const mine = decreasing.filter((c) => placed[c.index] === 0 && c.groups.includes(g));
    newHosts.set(g.group, 0);
    newZones.set(g.group, []);
    unusedInFlight.set(g.group, Math.max(0, g.inFlight));
    if (mine.length === 0) continue;
    const p = placeOnGroup(g, mine, counting ? prior : undefined, goodEnough);
    const usedNew = new Set<number>();
    const usedInFlight = new Set<number>();
    for (const a of p.assignments) {
      const c = candidates[a.task]!;
      placed[a.task] = 1;
      (a.host < p.inFlight ? usedInFlight : usedNew).add(a.host);
      if (counting) prior.running.push({ taskId: c.request.id, groupName: c.t.job, hostname: p.leases[a.host]!.hostname });
    }
    if (counting) for (const i of [...usedInFlight, ...usedNew]) prior.known.push({ hostname: p.leases[i]!.hostname, attributes: p.leases[i]!.attributes ?? {} });
    // Every host the room allowed was taken: more room would have given the tasks left a host.
    if (p.newHosts >= Math.max(0, g.room) && p.emptyNew === 0) {
      for (const k of p.failed) if (!cappedBy.has(k)) cappedBy.set(k, g.group);
    }
    const used = [...usedNew].map((i) => i - p.inFlight).sort((a, b) => a - b);
    newHosts.set(g.group, used.length);
    newZones.set(g.group, p.zones.length > 0 ? used.map((i) => p.zones[i]!) : []);
    unusedInFlight.set(g.group, p.inFlight - usedInFlight.size);
    if (p.assignments.length > 0) placedTasks.set(g.group, p.assignments.length);
  }

  const capped = new Map<string, number>();
  for (const c of candidates) {
    if (placed[c.index] === 1) continue;
    unplaced.push(c.t.id);
    const g = cappedBy.get(c.index);
    if (g !== undefined) capped.set(g, (capped.get(g) ?? 0) + 1);
  }
  return { newHosts, zones: newZones, unusedInFlight, tasks: placedTasks, unplaced, capped };
}
