import type { HostTable } from './host-table.js';
import type { AttributeCounts, TaskTrackerState, VirtualMachineCurrentState } from './plugin.js';
import type { KnownHost, RunningTask } from './types.js';

// Fenzo's TaskTracker for one scheduleOnce: which group's tasks run or were just assigned where.
// Counts are built lazily, only for the groups and attributes the batch's constraints ask about,
// then kept up to date on each assignment, so a constraint reads a count instead of rescanning tasks.

/** The pseudo-attribute whose value is the hostname itself (unique per host). */
export const HOSTNAME_ATTRIBUTE = 'hostname';

const EMPTY: readonly never[] = Object.freeze([]);

interface AttributeIndex {
  readonly values: string[];
  readonly valueIndex: Map<string, number>;
  /** Value index per host (lease hosts, then known hosts); -1 when absent. */
  readonly ids: Int32Array;
}

class Counts implements AttributeCounts {
  readonly counts: Int32Array;
  min = 0;
  max = 0;
  private atMin: number;

  constructor(
    readonly attribute: string,
    private readonly index: AttributeIndex,
  ) {
    this.counts = new Int32Array(index.values.length);
    this.atMin = index.values.length;
  }

  get values(): readonly string[] {
    return this.index.values;
  }
  valueIndexOf(host: VirtualMachineCurrentState): number {
    return this.index.ids[host.index]!;
  }
  countAt(valueIndex: number): number {
    return valueIndex < 0 ? 0 : this.counts[valueIndex]!;
  }
  countOf(value: string): number {
    const v = this.index.valueIndex.get(value);
    return v === undefined ? 0 : this.counts[v]!;
  }

  /** One more task on a host with value index v. */
  increment(v: number): void {
    if (v < 0) return;
    const c = ++this.counts[v]!;
    if (c > this.max) this.max = c;
    if (c - 1 === this.min && --this.atMin === 0) this.recomputeMin();
  }

  recomputeMin(): void {
    const counts = this.counts;
    if (counts.length === 0) {
      this.min = this.max = 0;
      this.atMin = 0;
      return;
    }
    let min = Infinity;
    let max = 0;
    let at = 0;
    for (let v = 0; v < counts.length; v++) {
      const c = counts[v]!;
      if (c < min) {
        min = c;
        at = 1;
      } else if (c === min) at++;
      if (c > max) max = c;
    }
    this.min = min;
    this.max = max;
    this.atMin = at;
  }
}

export class TaskTracker implements TaskTrackerState {
  private readonly knownAttributes: Readonly<Record<string, string>>[] = [];
  private readonly knownNames: string[] = [];
  /** Host ids (lease hosts and known hosts) of running tasks, per group. */
  private readonly runningByGroup = new Map<string, number[]>();
  /** Resources of running tasks, per group: cpus, mem, disk, network. */
  private readonly runningUsage = new Map<string, Float64Array>();
  private readonly assignedByGroup = new Map<string, number[]>();
  private readonly hostCounts = new Map<string, Int32Array>();
  private readonly attributeIndexes = new Map<string, AttributeIndex>();
  private readonly attributeCounts = new Map<string, Map<string, Counts>>();
  private readonly usage = new Map<string, Float64Array>();

  constructor(
    private readonly table: HostTable,
    running: readonly RunningTask[],
    knownHosts: readonly KnownHost[],
  ) {
    const known = new Map<string, number>();
    const learn = (hostname: string, attributes: Readonly<Record<string, string>>): void => {
      if (table.indexOf(hostname) >= 0 || known.has(hostname)) return;
      known.set(hostname, table.n + this.knownNames.length);
      this.knownNames.push(hostname);
      this.knownAttributes.push(attributes);
    };
    for (const h of knownHosts) learn(h.hostname, h.attributes);
    // A running task's host without a lease is known from the task's own attributes.
    for (const t of running) if (t.attributes !== undefined) learn(t.hostname, t.attributes);
    for (const t of running) {
      let id = table.indexOf(t.hostname);
      if (id < 0) id = known.get(t.hostname) ?? -1;
      let list = this.runningByGroup.get(t.groupName);
      if (list === undefined) this.runningByGroup.set(t.groupName, (list = []));
      list.push(id);
      if (t.resources !== undefined) {
        let u = this.runningUsage.get(t.groupName);
        if (u === undefined) this.runningUsage.set(t.groupName, (u = new Float64Array(4)));
        u[0]! += t.resources.cpus;
        u[1]! += t.resources.mem;
        u[2]! += t.resources.disk;
        u[3]! += t.resources.network;
      }
    }
  }

  private get hostTotal(): number {
    return this.table.n + this.knownNames.length;
  }

  private attributeOf(id: number, attribute: string): string | undefined {
    const n = this.table.n;
    if (attribute === HOSTNAME_ATTRIBUTE) return id < n ? this.table.leases[id]!.hostname : this.knownNames[id - n];
    const attrs = id < n ? this.table.leases[id]!.attributes : this.knownAttributes[id - n];
    return attrs?.[attribute];
  }

  private attributeIndex(attribute: string): AttributeIndex {
    let index = this.attributeIndexes.get(attribute);
    if (index === undefined) {
      const total = this.hostTotal;
      const values: string[] = [];
      const valueIndex = new Map<string, number>();
      const ids = new Int32Array(total);
      for (let id = 0; id < total; id++) {
        const v = this.attributeOf(id, attribute);
        if (v === undefined || v === '') {
          ids[id] = -1;
          continue;
        }
        let k = valueIndex.get(v);
        if (k === undefined) {
          k = values.length;
          valueIndex.set(v, k);
          values.push(v);
        }
        ids[id] = k;
      }
      index = { values, valueIndex, ids };
      this.attributeIndexes.set(attribute, index);
    }
    return index;
  }

  groupTasksOnHost(group: string, host: VirtualMachineCurrentState): number {
    return this.hostCountsOf(group)[host.index]!;
  }

  private hostCountsOf(group: string): Int32Array {
    let counts = this.hostCounts.get(group);
    if (counts === undefined) {
      counts = new Int32Array(this.table.n);
      for (const id of this.runningByGroup.get(group) ?? EMPTY) if (id >= 0 && id < this.table.n) counts[id]!++;
      for (const id of this.assignedByGroup.get(group) ?? EMPTY) counts[id]!++;
      this.hostCounts.set(group, counts);
    }
    return counts;
  }

  groupTasksByAttribute(group: string, attribute: string): AttributeCounts {
    let byAttribute = this.attributeCounts.get(group);
    if (byAttribute === undefined) this.attributeCounts.set(group, (byAttribute = new Map()));
    let counts = byAttribute.get(attribute);
    if (counts === undefined) {
      const index = this.attributeIndex(attribute);
      counts = new Counts(attribute, index);
      // Running tasks on hosts neither leased nor known have no attribute value: they cannot count.
      for (const id of this.runningByGroup.get(group) ?? EMPTY) {
        const v = id >= 0 ? index.ids[id]! : -1;
        if (v >= 0) counts.counts[v]!++;
      }
      for (const id of this.assignedByGroup.get(group) ?? EMPTY) {
        const v = index.ids[id]!;
        if (v >= 0) counts.counts[v]!++;
      }
      counts.recomputeMin();
      byAttribute.set(attribute, counts);
    }
    return counts;
  }

  /** Resources the group holds: running plus assigned so far (cpus, mem, disk, network). */
  groupUsage(group: string): Float64Array {
    let u = this.usage.get(group);
    if (u === undefined) {
      u = new Float64Array(4);
      const r = this.runningUsage.get(group);
      if (r !== undefined) u.set(r);
      this.usage.set(group, u);
    }
    return u;
  }

  /** Keeps every count built so far in step with a new assignment of a `group` task to host i. */
  onAssign(group: string, i: number, cpus: number, mem: number, disk: number, network: number): void {
    let list = this.assignedByGroup.get(group);
    if (list === undefined) this.assignedByGroup.set(group, (list = []));
    list.push(i);
    const counts = this.hostCounts.get(group);
    if (counts !== undefined) counts[i]!++;
    const byAttribute = this.attributeCounts.get(group);
    if (byAttribute !== undefined) {
      for (const c of byAttribute.values()) {
        const index = this.attributeIndexes.get(c.attribute)!;
        c.increment(index.ids[i]!);
      }
    }
    const u = this.usage.get(group);
    if (u !== undefined) {
      u[0]! += cpus;
      u[1]! += mem;
      u[2]! += disk;
      u[3]! += network;
    }
  }
}
