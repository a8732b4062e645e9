import type { HostShape } from './rules.js';

// How many new hosts of each group would place a set of tasks: first-fit decreasing over the
// groups' shapes, hosts already on their way (in flight) filled first. An estimate, as in
// Fenzo's autoscaler: the scheduler places for real once the hosts have registered.

export interface Demand {
  readonly id: string;
  /** Per task, user units (cores, MiB, MiB, ports). */
  readonly resources: HostShape;
  /** Groups the task may go to (a hard `group` attribute constraint); undefined = any. */
  readonly groups?: readonly string[];
}

export interface PackGroup {
  readonly group: string;
  readonly shape: HostShape;
  /** Hosts requested and not registered yet: filled before any new host. */
  readonly inFlight: number;
  /** New hosts this group may still get (max size less its size). */
  readonly room: number;
}

export interface PackResult {
  /** New hosts needed per group. */
  readonly newHosts: ReadonlyMap<string, number>;
  /** In-flight hosts no task was packed into, per group. */
  readonly unusedInFlight: ReadonlyMap<string, number>;
  /** Tasks placed into new or in-flight hosts, per group. */
  readonly tasks: ReadonlyMap<string, number>;
  /** Tasks that fit no group's shape or exceed every group's room. */
  readonly unplaced: readonly string[];
  /** Unplaced tasks a group's shape would hold but its max size left no room for, per group (the first such group). */
  readonly capped: ReadonlyMap<string, number>;
}

// Fixed units, so that ten 0.1-core tasks fill exactly one core.
const DIMS = 4;
function fixed(r: HostShape): Float64Array {
  return Float64Array.of(Math.round(r.cpus * 1000), Math.round(r.mem), Math.round(r.disk), Math.round(r.ports));
}

/** A shape's capacity: disk or ports given as 0 are not counted (any amount fits). */
function capacity(r: HostShape): Float64Array {
  const c = fixed(r);
  if (c[2] === 0) c[2] = Infinity;
  if (c[3] === 0) c[3] = Infinity;
  return c;
}

interface Bins {
  readonly group: string;
  readonly capacity: Float64Array;
  /** DIMS numbers per host: what is left. */
  free: Float64Array;
  used: Uint8Array;
  count: number;
  readonly inFlight: number;
  readonly limit: number;
  /** Hosts before this index have no room for the smallest task seen so far. */
  firstOpen: number;
}

function fits(free: Float64Array, at: number, need: Float64Array): boolean {
  for (let d = 0; d < DIMS; d++) if (free[at + d]! < need[d]!) return false;
  return true;
}

function addBin(b: Bins): number {
  if (b.count * DIMS === b.free.length) {
    const grown = new Float64Array(Math.max(DIMS * 8, b.free.length * 2));
    grown.set(b.free);
    b.free = grown;
    const used = new Uint8Array(grown.length / DIMS);
    used.set(b.used);
    b.used = used;
  }
  b.free.set(b.capacity, b.count * DIMS);
  return b.count++;
}

export function packTasks(tasks: readonly Demand[], groups: readonly PackGroup[]): PackResult {
  // Smallest shape first: a task goes to the cheapest group that can take it.
  const ordered = [...groups].sort((a, b) => a.shape.cpus - b.shape.cpus || a.shape.mem - b.shape.mem || (a.group < b.group ? -1 : 1));
  const bins = new Map<string, Bins>();
  for (const g of ordered) {
    const b: Bins = { group: g.group, capacity: capacity(g.shape), free: new Float64Array(0), used: new Uint8Array(0), count: 0, inFlight: g.inFlight, limit: g.inFlight + Math.max(0, g.room), firstOpen: 0 };
    for (let i = 0; i < g.inFlight; i++) addBin(b);
    bins.set(g.group, b);
  }
  const largest = ordered.reduce((m, g) => ({ cpus: Math.max(m.cpus, g.shape.cpus), mem: Math.max(m.mem, g.shape.mem) }), { cpus: 0, mem: 0 });
  const size = (r: HostShape): number => Math.max(largest.cpus > 0 ? r.cpus / largest.cpus : 0, largest.mem > 0 ? r.mem / largest.mem : 0);
  const decreasing = tasks.map((t) => ({ t, need: fixed(t.resources), size: size(t.resources) })).sort((a, b) => b.size - a.size || (a.t.id < b.t.id ? -1 : 1));

  const everyTaskAsksCpusAndMem = decreasing.every(({ need }) => need[0]! > 0 && need[1]! > 0);
  const placed = new Map<string, number>();
  const unplaced: string[] = [];
  const capped = new Map<string, number>();
  for (const { t, need } of decreasing) {
    let done = false;
    let full: string | undefined;
    for (const g of ordered) {
      if (t.groups !== undefined && !t.groups.includes(g.group)) continue;
      const b = bins.get(g.group)!;
      if (!fits(b.capacity, 0, need)) continue;
      let at = -1;
      for (let i = b.firstOpen; i < b.count; i++) {
        if (fits(b.free, i * DIMS, need)) {
          at = i;
          break;
        }
      }
      if (at < 0) {
        if (b.count >= b.limit) {
          full ??= g.group;
          continue;
        }
        at = addBin(b);
      }
      for (let d = 0; d < DIMS; d++) b.free[at * DIMS + d] = b.free[at * DIMS + d]! - need[d]!;
      b.used[at] = 1;
      // A host out of cpus or memory takes no further task (every task asks for both): skip it from now on.
      if (everyTaskAsksCpusAndMem) while (b.firstOpen < b.count && (b.free[b.firstOpen * DIMS]! <= 0 || b.free[b.firstOpen * DIMS + 1]! <= 0)) b.firstOpen++;
      placed.set(g.group, (placed.get(g.group) ?? 0) + 1);
      done = true;
      break;
    }
    if (!done) {
      unplaced.push(t.id);
      if (full !== undefined) capped.set(full, (capped.get(full) ?? 0) + 1);
    }
  }

  const newHosts = new Map<string, number>();
  const unusedInFlight = new Map<string, number>();
  for (const b of bins.values()) {
    newHosts.set(b.group, b.count - b.inFlight);
    let unused = 0;
    for (let i = 0; i < b.inFlight; i++) if (b.used[i] === 0) unused++;
    unusedInFlight.set(b.group, unused);
  }
  return { newHosts, unusedInFlight, tasks: placed, unplaced, capped };
}
