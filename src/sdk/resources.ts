import { resources } from '../core/resources.js';
import { encodeResources, type MesosResource } from '../wire/mesos-resources.js';
import type { PortRange } from './types.js';

// Building the Resource lists of a TaskInfo, in user units (checked: a negative or non-finite
// amount throws a ValidationError naming it, rather than reaching the master).

export interface ResourceRequest {
  /** Cores, e.g. 0.5. */
  readonly cpus?: number;
  /** MiB. */
  readonly mem?: number;
  readonly disk?: number;
  readonly network?: number;
  readonly ports?: readonly PortRange[];
}

/** Mesos Resources for a task; `role` is the offer's allocation role (MULTI_ROLE frameworks must echo it). */
export function mesosResources(r: ResourceRequest, role?: string): MesosResource[] {
  return encodeResources(resources({ ...r, ...(r.ports ? { ports: [...r.ports] } : {}) }, 'resources'), role);
}

/** The individual port numbers of some ranges, in order. */
export function portNumbers(ranges: readonly PortRange[]): number[] {
  const out: number[] = [];
  for (const r of ranges) for (let p = r.begin; p <= r.end; p++) out.push(p);
  return out;
}
