import { z } from 'zod';
import { ValidationError } from '../core/errors.js';
import { MAX_PORT, normalizeRanges, resources, type PortRange, type Resources } from '../core/resources.js';
import { finiteNumber, parse } from './validate.js';

// Mesos's Resource JSON, shared by the master (decoding what frameworks and agents send,
// encoding offers), the agent (registering its resources) and the SDK (reading offers,
// building TaskInfos). Repeated names are summed, as Mesos does with resources of several
// roles; names Stratus does not track are refused by the master, never dropped.

const range = z.object({ begin: z.number().int().min(0).max(MAX_PORT), end: z.number().int().min(0).max(MAX_PORT) });

export const mesosResource = z.object({
  name: z.string().min(1).max(64),
  type: z.enum(['SCALAR', 'RANGES', 'SET', 'TEXT']).optional(),
  scalar: z.object({ value: finiteNumber }).optional(),
  ranges: z.object({ range: z.array(range).max(1024).default([]) }).optional(),
  role: z.string().optional(),
  allocation_info: z.object({ role: z.string().optional() }).optional(),
  reservations: z.array(z.unknown()).optional(),
});
export type MesosResource = z.output<typeof mesosResource>;

export const mesosResources = z.array(mesosResource).max(256);

const SCALARS = new Set(['cpus', 'mem', 'disk', 'network']);

/** Strict: a Resource list from outside into fixed-point Resources, refusing what Stratus does not offer. */
export function decodeResources(value: unknown, field: string): Resources {
  const list = parse(mesosResources, value, field);
  const sums = { cpus: 0, mem: 0, disk: 0, network: 0 };
  const ports: PortRange[] = [];
  list.forEach((r, i) => {
    const f = `${field}[${i}]`;
    if (SCALARS.has(r.name)) {
      if (r.type !== undefined && r.type !== 'SCALAR') throw new ValidationError(`${f}: ${r.name} must be of type SCALAR`, `${f}.type`);
      if (!r.scalar) throw new ValidationError(`${f}: ${r.name} needs scalar.value`, `${f}.scalar`);
      if (r.scalar.value < 0) throw new ValidationError(`${f}.scalar.value must not be negative (got ${r.scalar.value})`, `${f}.scalar.value`);
      sums[r.name as keyof typeof sums] += r.scalar.value;
    } else if (r.name === 'ports') {
      if (r.type !== undefined && r.type !== 'RANGES') throw new ValidationError(`${f}: ports must be of type RANGES`, `${f}.type`);
      if (!r.ranges) throw new ValidationError(`${f}: ports needs ranges.range`, `${f}.ranges`);
      r.ranges.range.forEach((x, j) => {
        if (x.begin > x.end) throw new ValidationError(`${f}.ranges.range[${j}]: begin must not exceed end`, `${f}.ranges.range[${j}]`);
        ports.push(x);
      });
    } else {
      throw new ValidationError(`${f}.name '${r.name.slice(0, 64)}' is not a resource Stratus offers (cpus, mem, disk, network, ports)`, `${f}.name`);
    }
  });
  // Converting the sums reports limits (too large, NaN) against the list as a whole.
  const rangesOverlap = normalizeRanges(ports).reduce((n, r) => n + r.end - r.begin + 1, 0) !== ports.reduce((n, r) => n + r.end - r.begin + 1, 0);
  if (rangesOverlap) throw new ValidationError(`${field}: port ranges overlap`, field);
  return resources({ ...sums, ports }, field);
}

/** Resources as Mesos's JSON list; `role` adds allocation_info, as Mesos does for MULTI_ROLE frameworks. */
export function encodeResources(r: Resources, role?: string): MesosResource[] {
  const out: MesosResource[] = [];
  const alloc = role !== undefined ? { allocation_info: { role } } : {};
  const scalar = (name: string, value: number): void => {
    if (value > 0) out.push({ name, type: 'SCALAR', scalar: { value }, ...alloc });
  };
  scalar('cpus', r.cpus / 1000);
  scalar('mem', r.mem);
  scalar('disk', r.disk);
  scalar('network', r.network);
  if (r.ports.length) out.push({ name: 'ports', type: 'RANGES', ranges: { range: r.ports.map((p) => ({ begin: p.begin, end: p.end })) }, ...alloc });
  return out;
}

/** Totals in user units (cores, MiB, Mbps). */
export interface ResourceTotals {
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
  readonly network: number;
  readonly ports: readonly PortRange[];
}

/**
 * Lenient: what a client reads from a master (an offer), summed in user units. Names it does
 * not know are skipped, since a newer master may offer more kinds of resources.
 */
export function sumResources(list: readonly MesosResource[]): ResourceTotals {
  const sums = { cpus: 0, mem: 0, disk: 0, network: 0 };
  const ports: PortRange[] = [];
  for (const r of list) {
    if (SCALARS.has(r.name) && r.scalar) sums[r.name as keyof typeof sums] += r.scalar.value;
    else if (r.name === 'ports' && r.ranges) ports.push(...r.ranges.range);
  }
  ports.sort((a, b) => a.begin - b.begin);
  // Three decimals, as Mesos rounds scalars: sums of 0.1 stay exact.
  const round = (v: number): number => Math.round(v * 1000) / 1000;
  return { cpus: round(sums.cpus), mem: round(sums.mem), disk: round(sums.disk), network: round(sums.network), ports };
}
