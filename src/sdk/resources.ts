import type { MesosResource, PortRange } from './types.js';

// Building the Resource lists of a TaskInfo, in user units.

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
  const alloc = role !== undefined ? { allocation_info: { role } } : {};
  const out: MesosResource[] = [];
  for (const name of ['cpus', 'mem', 'disk', 'network'] as const) {
    const v = r[name];
    if (v !== undefined && v > 0) out.push({ name, type: 'SCALAR', scalar: { value: v }, ...alloc });
  }
  if (r.ports && r.ports.length > 0) out.push({ name: 'ports', type: 'RANGES', ranges: { range: r.ports.map((p) => ({ begin: p.begin, end: p.end })) }, ...alloc });
  return out;
}

/** The individual port numbers of some ranges, in order. */
export function portNumbers(ranges: readonly PortRange[]): number[] {
  const out: number[] = [];
  for (const r of ranges) for (let p = r.begin; p <= r.end; p++) out.push(p);
  return out;
}
