import type { JobSpec } from '../../jobs/spec.js';
import type { CapacityBucket, Scalars } from '../gossip/digest.js';

// How many more instances of a job a region's capacity (as its digest reports it) fits: a
// coarse estimate (free resources summed over agents, checked against the largest free agent),
// corrected by what the region reports it could not place. Offered resources count as free:
// they are offers a framework has not used yet, often the jobs framework's own.

/** One instance's needs in the digest's fixed-point units (millicpus, MiB). */
export function instanceSize(spec: JobSpec): Scalars {
  return { cpus: Math.round(spec.cpus * 1000), mem: Math.ceil(spec.mem), disk: Math.ceil(spec.disk), network: 0 };
}

export const ZERO: Scalars = { cpus: 0, mem: 0, disk: 0, network: 0 };

export function addScaled(into: Scalars, s: Scalars, n: number): Scalars {
  return { cpus: into.cpus + s.cpus * n, mem: into.mem + s.mem * n, disk: into.disk + s.disk * n, network: into.network + s.network * n };
}

/** Instances of `size` that fit in `bucket` once `reserved` (planned this round, not yet placed) is set aside. */
export function freeSlots(bucket: CapacityBucket, size: Scalars, reserved: Scalars = ZERO): number {
  const dims = (['cpus', 'mem', 'disk'] as const).filter((k) => size[k] > 0);
  if (dims.length === 0) return 0;
  // No single agent has room (even counting offers): nothing fits, whatever the sums say.
  const fitsOne = dims.every((k) => bucket.largestFree[k] >= size[k]) || dims.every((k) => bucket.offered[k] >= size[k]);
  if (!fitsOne) return 0;
  let n = Infinity;
  for (const k of dims) n = Math.min(n, Math.floor((bucket.free[k] + bucket.offered[k] - reserved[k]) / size[k]));
  return Math.max(0, n);
}
