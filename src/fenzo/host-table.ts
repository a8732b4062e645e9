import { ValidationError } from '../core/errors.js';
import { countPorts, type PortRange } from '../core/resources.js';
import type { RunningTask, TaskRequest, VMLease } from './types.js';

// Hosts as columns of typed arrays, indexed by the host's rank in (hostname, agent id) order: the
// hot loop reads numbers, never objects, and a lower index is the deterministic tie-break.

const EMPTY_TASKS: readonly never[] = Object.freeze([]);

function byHostKey(a: VMLease, b: VMLease): number {
  if (a.hostname !== b.hostname) return a.hostname < b.hostname ? -1 : 1;
  if (a.agentId !== b.agentId) return a.agentId < b.agentId ? -1 : 1;
  return 0;
}

function checkScalars(lease: VMLease): void {
  const r = lease.resources;
  for (const name of ['cpus', 'mem', 'disk', 'network'] as const) {
    const v = r[name];
    if (!valid(v)) {
      const field = `leases[${lease.hostname}].resources.${name}`;
      throw new ValidationError(`${field} must be a non-negative number in fixed units`, field);
    }
  }
}

function valid(v: unknown): boolean {
  return typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
}

export class HostTable {
  readonly n: number;
  /** Leases in host order. */
  readonly leases: readonly VMLease[];
  readonly freeCpus: Float64Array;
  readonly freeMem: Float64Array;
  readonly freeDisk: Float64Array;
  readonly freeNetwork: Float64Array;
  readonly freePorts: Float64Array;
  readonly totalCpus: Float64Array;
  readonly totalMem: Float64Array;
  readonly totalDisk: Float64Array;
  readonly totalNetwork: Float64Array;
  /** Running + assigned tasks. */
  readonly taskCount: Int32Array;
  /** 1 when an exclusive task runs or was assigned there. */
  readonly exclusiveHeld: Uint8Array;
  /** Free port ranges; shared with the lease until a port is taken. */
  readonly portRanges: (readonly PortRange[])[];
  readonly running: (readonly RunningTask[])[];
  readonly assigned: (readonly TaskRequest[])[];
  maxTotalCpus = 0;
  minTotalCpus = 0;
  maxFreeCpus = 0;
  private index: Map<string, number> | undefined;

  constructor(input: readonly VMLease[]) {
    // Callers that keep their leases in hostname order skip the sort.
    let sorted = true;
    for (let i = 1; i < input.length && sorted; i++) if (byHostKey(input[i - 1]!, input[i]!) > 0) sorted = false;
    const leases = sorted ? input : [...input].sort(byHostKey);
    const n = leases.length;
    this.n = n;
    this.leases = leases;
    this.freeCpus = new Float64Array(n);
    this.freeMem = new Float64Array(n);
    this.freeDisk = new Float64Array(n);
    this.freeNetwork = new Float64Array(n);
    this.freePorts = new Float64Array(n);
    this.totalCpus = new Float64Array(n);
    this.totalMem = new Float64Array(n);
    this.totalDisk = new Float64Array(n);
    this.totalNetwork = new Float64Array(n);
    this.taskCount = new Int32Array(n);
    this.exclusiveHeld = new Uint8Array(n);
    this.portRanges = new Array<readonly PortRange[]>(n);
    this.running = new Array<readonly RunningTask[]>(n).fill(EMPTY_TASKS);
    this.assigned = new Array<readonly TaskRequest[]>(n).fill(EMPTY_TASKS);
    for (let i = 0; i < n; i++) {
      const lease = leases[i]!;
      if (i > 0 && leases[i - 1]!.hostname === lease.hostname) {
        throw new ValidationError(`two leases for host ${lease.hostname}: merge a host's offers into one lease`, 'leases');
      }
      const r = lease.resources;
      // Cheap check on the hot path; the message is only built for a bad lease.
      if (!(valid(r.cpus) && valid(r.mem) && valid(r.disk) && valid(r.network))) checkScalars(lease);
      this.freeCpus[i] = r.cpus;
      this.freeMem[i] = r.mem;
      this.freeDisk[i] = r.disk;
      this.freeNetwork[i] = r.network;
      this.portRanges[i] = r.ports;
      this.freePorts[i] = r.ports.length === 1 ? r.ports[0]!.end - r.ports[0]!.begin + 1 : countPorts(r.ports);
      const t = lease.totalResources ?? r;
      // A total below what is free would make fitness exceed 1: the free amount bounds it.
      this.totalCpus[i] = Math.max(t.cpus, r.cpus);
      this.totalMem[i] = Math.max(t.mem, r.mem);
      this.totalDisk[i] = Math.max(t.disk, r.disk);
      this.totalNetwork[i] = Math.max(t.network, r.network);
    }
  }

  /** The host index of a hostname, or -1 (a Map built on first use: only running tasks need it). */
  indexOf(hostname: string): number {
    if (this.index === undefined) {
      this.index = new Map();
      for (let i = 0; i < this.n; i++) this.index.set(this.leases[i]!.hostname, i);
    }
    return this.index.get(hostname) ?? -1;
  }

  /** Records the tasks already running (counts, exclusivity, and totals for leases without one). */
  addRunning(tasks: readonly RunningTask[]): void {
    const lists = new Map<number, RunningTask[]>();
    for (const t of tasks) {
      const i = this.indexOf(t.hostname);
      if (i < 0) continue;
      let list = lists.get(i);
      if (list === undefined) lists.set(i, (list = []));
      list.push(t);
      this.taskCount[i]!++;
      if (t.exclusive === true) this.exclusiveHeld[i] = 1;
      if (t.resources !== undefined && this.leases[i]!.totalResources === undefined) {
        this.totalCpus[i]! += t.resources.cpus;
        this.totalMem[i]! += t.resources.mem;
        this.totalDisk[i]! += t.resources.disk;
        this.totalNetwork[i]! += t.resources.network;
      }
    }
    for (const [i, list] of lists) this.running[i] = list;
  }

  /** Cluster-wide figures used by fitness upper bounds and the CPU index; call after addRunning. */
  computeStats(): void {
    let maxT = 0;
    let minT = Infinity;
    let maxF = 0;
    for (let i = 0; i < this.n; i++) {
      const t = this.totalCpus[i]!;
      if (t > maxT) maxT = t;
      if (t < minT) minT = t;
      const f = this.freeCpus[i]!;
      if (f > maxF) maxF = f;
    }
    this.maxTotalCpus = maxT;
    this.minTotalCpus = this.n === 0 ? 0 : minT;
    this.maxFreeCpus = maxF;
  }

  addAssigned(i: number, task: TaskRequest): void {
    const list = this.assigned[i]!;
    if (list === EMPTY_TASKS) this.assigned[i] = [task];
    else (list as TaskRequest[]).push(task);
    this.taskCount[i]!++;
  }
}
