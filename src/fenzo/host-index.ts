// Hosts bucketed by free CPU. A task only looks at buckets that can hold its CPUs, fullest first
// for packing (emptiest first for spreading), and a fitness upper bound per bucket lets a full
// search stop once no remaining bucket can beat the best host found. Each bucket is a bitset over
// host indices, so a bucket is walked in host (hostname) order and moving a host is O(1). Each
// bucket also keeps bounds on its members' free CPUs (exact after a full walk, never too tight),
// which makes the fitness bound of a bucket of like hosts exact.

export const DEFAULT_BUCKETS = 128;

export class CpuBucketIndex {
  readonly buckets: number;
  /** Free CPUs covered by one bucket. */
  readonly width: number;
  /** 32-bit words per bucket. */
  readonly words: number;
  readonly bits: Uint32Array;
  readonly counts: Int32Array;
  /** At most the least free CPUs of a member (Infinity when it never had one). */
  readonly minFree: Float64Array;
  /** At least the most free CPUs of a member. */
  readonly maxFree: Float64Array;

  constructor(freeCpus: Float64Array, n: number, maxFreeCpus: number, buckets = DEFAULT_BUCKETS) {
    this.buckets = buckets;
    this.width = Math.max(1, Math.ceil((maxFreeCpus + 1) / buckets));
    this.words = (n + 31) >>> 5;
    this.bits = new Uint32Array(buckets * this.words);
    this.counts = new Int32Array(buckets);
    this.minFree = new Float64Array(buckets).fill(Infinity);
    this.maxFree = new Float64Array(buckets);
    for (let i = 0; i < n; i++) this.insert(i, freeCpus[i]!);
  }

  bucketOf(freeCpus: number): number {
    const b = Math.floor(freeCpus / this.width);
    return b < this.buckets ? b : this.buckets - 1;
  }

  /** Smallest free CPUs a host in bucket b may have. */
  low(b: number): number {
    return Math.max(b * this.width, this.minFree[b]!);
  }

  /** Largest free CPUs a host in bucket b may have. */
  high(b: number): number {
    return b === this.buckets - 1 ? this.maxFree[b]! : Math.min((b + 1) * this.width - 1, this.maxFree[b]!);
  }

  private insert(i: number, freeCpus: number): void {
    const b = this.bucketOf(freeCpus);
    this.bits[b * this.words + (i >>> 5)]! |= 1 << (i & 31);
    this.counts[b]!++;
    if (freeCpus < this.minFree[b]!) this.minFree[b] = freeCpus;
    if (freeCpus > this.maxFree[b]!) this.maxFree[b] = freeCpus;
  }

  /** Moves host i after its free CPUs changed (they only go down within a scheduleOnce). */
  update(i: number, before: number, after: number): void {
    const from = this.bucketOf(before);
    const to = this.bucketOf(after);
    if (from !== to) {
      // The bounds of `from` stay valid, only looser, until the next full walk tightens them.
      this.bits[from * this.words + (i >>> 5)]! &= ~(1 << (i & 31));
      this.counts[from]!--;
      this.bits[to * this.words + (i >>> 5)]! |= 1 << (i & 31);
      this.counts[to]!++;
      if (after > this.maxFree[to]!) this.maxFree[to] = after;
    }
    if (after < this.minFree[to]!) this.minFree[to] = after;
  }

  /** Exact bounds, learnt by walking every member of bucket b. */
  tighten(b: number, minFree: number, maxFree: number): void {
    this.minFree[b] = minFree;
    this.maxFree[b] = maxFree;
  }

  /** The first host of bucket b with index >= from, or -1. */
  next(b: number, from: number): number {
    const base = b * this.words;
    let w = from >>> 5;
    if (w >= this.words) return -1;
    let word = this.bits[base + w]! & (~0 << (from & 31));
    for (;;) {
      if (word !== 0) return (w << 5) + (31 - Math.clz32(word & -word));
      if (++w >= this.words) return -1;
      word = this.bits[base + w]!;
    }
  }
}
