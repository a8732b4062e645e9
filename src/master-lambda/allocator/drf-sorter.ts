import { ValidationError } from '../../core/errors.js';
import type { Resources } from '../../core/resources.js';

// Mesos's DRF sorter: clients (roles, or frameworks within a role) ordered by weighted
// dominant share, lowest first, ties broken by name. An allocation round changes one
// role's and one framework's allocation per offer, so the order is kept in an indexed
// binary heap (O(log n) per update) instead of re-sorting every client per agent.
// Clients are fixed when the sorter is built (one sorter per round); they can be
// deactivated (left out of the order) and activated again.

export interface DrfClient {
  /** The stable tie-break key: equal shares sort by name (code-unit order). */
  readonly name: string;
  /** DRF weight, > 0; the share is divided by it. Default 1. */
  readonly weight?: number;
  /** What the client holds now; only the scalars count towards its share. */
  readonly allocated?: Resources;
  /** Whether the client takes part in the order from the start. Default true. */
  readonly active?: boolean;
}

// Scalars are kept in one Float64Array, four per client, in this order.
const CPUS = 0;
const MEM = 1;
const DISK = 2;
const NETWORK = 3;
const DIMS = 4;

export class DrfSorter {
  private readonly names: readonly string[];
  private readonly weights: Float64Array;
  /** Allocation scalars in fixed units (integers, exact in a double up to 2^53). */
  private readonly alloc: Float64Array;
  /** Cluster total per scalar; a zero total leaves that scalar out of the share. */
  private readonly total: Float64Array;
  /** Weighted dominant share per client: the heap key. */
  private readonly key: Float64Array;
  /** Position of each client's name in name order: the tie-break, without string compares. */
  private readonly rank: Int32Array;
  /** heap[i] = client at heap position i; pos[client] = its position, or -1 when inactive. */
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;
  private count = 0;
  /** Scratch heap of heap positions for `first`'s best-first walk. */
  private readonly frontier: Int32Array;

  constructor(total: Resources, clients: readonly DrfClient[]) {
    const n = clients.length;
    this.names = clients.map((c) => c.name);
    this.weights = new Float64Array(n);
    this.alloc = new Float64Array(n * DIMS);
    this.total = Float64Array.of(total.cpus, total.mem, total.disk, total.network);
    this.key = new Float64Array(n);
    this.rank = new Int32Array(n);
    this.heap = new Int32Array(n);
    this.pos = new Int32Array(n).fill(-1);
    this.frontier = new Int32Array(n);

    clients.forEach((c, i) => {
      const w = c.weight ?? 1;
      if (!(w > 0) || !Number.isFinite(w)) {
        throw new ValidationError(`weight of ${c.name} must be a positive number (got ${w})`, 'weight');
      }
      this.weights[i] = w;
      const a = c.allocated;
      if (a !== undefined) {
        const o = i * DIMS;
        this.alloc[o + CPUS] = a.cpus;
        this.alloc[o + MEM] = a.mem;
        this.alloc[o + DISK] = a.disk;
        this.alloc[o + NETWORK] = a.network;
      }
      this.key[i] = this.computeKey(i);
    });

    const byName = Array.from({ length: n }, (_, i) => i);
    const names = this.names;
    byName.sort((a, b) => {
      const x = names[a]!;
      const y = names[b]!;
      return x < y ? -1 : x > y ? 1 : a - b;
    });
    byName.forEach((client, r) => (this.rank[client] = r));

    // Heapify the active clients in O(n).
    clients.forEach((c, i) => {
      if (c.active === false) return;
      this.heap[this.count] = i;
      this.pos[i] = this.count++;
    });
    for (let p = (this.count >> 1) - 1; p >= 0; p--) this.siftDown(p);
  }

  /** Number of clients, active or not. */
  get size(): number {
    return this.names.length;
  }

  /** Number of clients in the order. */
  get activeCount(): number {
    return this.count;
  }

  name(client: number): string {
    return this.names[client]!;
  }

  isActive(client: number): boolean {
    return this.pos[client]! >= 0;
  }

  /** Weighted dominant share: dominantShare(allocation, total) / weight. */
  share(client: number): number {
    return this.key[client]!;
  }

  /** The client's allocation scalars (ports are not tracked: they do not count in DRF). */
  allocation(client: number): Resources {
    const o = client * DIMS;
    const a = this.alloc;
    return { cpus: a[o + CPUS]!, mem: a[o + MEM]!, disk: a[o + DISK]!, network: a[o + NETWORK]!, ports: [] };
  }

  /** Puts the client back in the order (Mesos's Sorter::activate). */
  activate(client: number): void {
    if (this.pos[client]! >= 0) return;
    const p = this.count++;
    this.heap[p] = client;
    this.pos[client] = p;
    this.siftUp(p);
  }

  /** Leaves the client out of the order, keeping its allocation (Mesos's Sorter::deactivate). */
  deactivate(client: number): void {
    const p = this.pos[client]!;
    if (p < 0) return;
    const last = this.heap[--this.count]!;
    this.pos[client] = -1;
    if (p === this.count) return;
    this.heap[p] = last;
    this.pos[last] = p;
    this.siftUp(p);
    this.siftDown(this.pos[last]!);
  }

  /** Adds resources to the client's allocation and moves it to its new place in the order. */
  allocated(client: number, r: Resources): void {
    this.addScalars(client, r.cpus, r.mem, r.disk, r.network);
  }

  /** Removes resources from the client's allocation (Mesos's Sorter::unallocated). */
  unallocated(client: number, r: Resources): void {
    const o = client * DIMS;
    const a = this.alloc;
    // Never below zero: a client cannot give back more than it holds.
    this.addScalars(
      client,
      -Math.min(r.cpus, a[o + CPUS]!),
      -Math.min(r.mem, a[o + MEM]!),
      -Math.min(r.disk, a[o + DISK]!),
      -Math.min(r.network, a[o + NETWORK]!),
    );
  }

  /** `allocated` on bare scalars (fixed units), for the allocation loop's hot path. */
  addScalars(client: number, cpus: number, mem: number, disk: number, network: number): void {
    const o = client * DIMS;
    const a = this.alloc;
    a[o + CPUS]! += cpus;
    a[o + MEM]! += mem;
    a[o + DISK]! += disk;
    a[o + NETWORK]! += network;
    const before = this.key[client]!;
    const after = this.computeKey(client);
    this.key[client] = after;
    const p = this.pos[client]!;
    if (p < 0 || after === before) return;
    if (after < before) this.siftUp(p);
    else this.siftDown(p);
  }

  /** Active clients' names, lowest weighted share first (Mesos's Sorter::sort). */
  sort(): string[] {
    const order = Array.from(this.heap.subarray(0, this.count));
    order.sort((a, b) => (a === b ? 0 : this.less(a, b) ? -1 : 1));
    return order.map((c) => this.names[c]!);
  }

  /**
   * The lowest-share active client that `accept` takes, or -1: the same answer as the first
   * match in `sort()`, found by a best-first walk of the heap that only visits clients
   * ordered before the answer (and their children). `accept` must not change this sorter.
   */
  first(accept: (client: number) => boolean): number {
    if (this.count === 0) return -1;
    const heap = this.heap;
    const top = heap[0]!;
    if (accept(top)) return top;

    // The frontier is itself a min-heap of heap positions, ordered like the heap.
    const f = this.frontier;
    let size = this.pushFrontier(0, 1);
    size = this.pushFrontier(size, 2);
    while (size > 0) {
      const p = f[0]!;
      const last = f[--size]!;
      let i = 0;
      while (true) {
        let c = 2 * i + 1;
        if (c >= size) break;
        if (c + 1 < size && this.less(heap[f[c + 1]!]!, heap[f[c]!]!)) c++;
        if (!this.less(heap[f[c]!]!, heap[last]!)) break;
        f[i] = f[c]!;
        i = c;
      }
      if (size > 0) f[i] = last;
      const client = heap[p]!;
      if (accept(client)) return client;
      size = this.pushFrontier(size, 2 * p + 1);
      size = this.pushFrontier(size, 2 * p + 2);
    }
    return -1;
  }

  /** Adds heap position `p` (if it holds a client) to the frontier of `size`; returns the new size. */
  private pushFrontier(size: number, p: number): number {
    if (p >= this.count) return size;
    const heap = this.heap;
    const f = this.frontier;
    let i = size;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[p]!, heap[f[parent]!]!)) break;
      f[i] = f[parent]!;
      i = parent;
    }
    f[i] = p;
    return size + 1;
  }

  private computeKey(client: number): number {
    const o = client * DIMS;
    const a = this.alloc;
    const t = this.total;
    // Division (not a precomputed inverse) so shares equal core's dominantShare exactly.
    let share = 0;
    if (t[CPUS]! > 0) share = Math.max(share, a[o + CPUS]! / t[CPUS]!);
    if (t[MEM]! > 0) share = Math.max(share, a[o + MEM]! / t[MEM]!);
    if (t[DISK]! > 0) share = Math.max(share, a[o + DISK]! / t[DISK]!);
    if (t[NETWORK]! > 0) share = Math.max(share, a[o + NETWORK]! / t[NETWORK]!);
    return share / this.weights[client]!;
  }

  private less(a: number, b: number): boolean {
    const ka = this.key[a]!;
    const kb = this.key[b]!;
    return ka < kb || (ka === kb && this.rank[a]! < this.rank[b]!);
  }

  private siftUp(p: number): void {
    const heap = this.heap;
    const client = heap[p]!;
    while (p > 0) {
      const parent = (p - 1) >> 1;
      const pc = heap[parent]!;
      if (!this.less(client, pc)) break;
      heap[p] = pc;
      this.pos[pc] = p;
      p = parent;
    }
    heap[p] = client;
    this.pos[client] = p;
  }

  private siftDown(p: number): void {
    const heap = this.heap;
    const client = heap[p]!;
    const n = this.count;
    while (true) {
      let c = 2 * p + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(heap[c + 1]!, heap[c]!)) c++;
      const cc = heap[c]!;
      if (!this.less(cc, client)) break;
      heap[p] = cc;
      this.pos[cc] = p;
      p = c;
    }
    heap[p] = client;
    this.pos[client] = p;
  }
}
