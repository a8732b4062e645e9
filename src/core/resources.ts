import { InsufficientResourcesError, ValidationError } from './errors.js';

// Resources are integers in fixed units so that arithmetic never drifts:
// 0.1 CPU taken ten times from 1 CPU leaves exactly 0 (100 milli-CPUs × 10 = 1000).
// Mesos itself rounds scalars to three decimals for the same reason.

/** Inclusive range of ports, as in Mesos's `Value.Range`. */
export interface PortRange {
  readonly begin: number;
  readonly end: number;
}

export interface Resources {
  /** Thousandths of a CPU (millicpus). */
  readonly cpus: number;
  /** Whole MiB. */
  readonly mem: number;
  /** Whole MiB. */
  readonly disk: number;
  /** Network bandwidth in whole Mbps (Fenzo's fourth dimension). */
  readonly network: number;
  /** Sorted, non-overlapping, non-adjacent ranges. */
  readonly ports: readonly PortRange[];
}

/** Resources in user units: CPUs as cores (0.5), memory and disk in MiB, network in Mbps. */
export interface ResourceSpec {
  cpus?: number;
  mem?: number;
  disk?: number;
  network?: number;
  ports?: readonly PortRange[];
}

export const SCALAR_NAMES = ['cpus', 'mem', 'disk', 'network'] as const;
export type ScalarName = (typeof SCALAR_NAMES)[number];

/** Upper bounds in user units: far above any host, far below Number.MAX_SAFE_INTEGER in fixed units. */
export const SCALAR_LIMITS: Readonly<Record<ScalarName, number>> = {
  cpus: 1_000_000,
  mem: 1_000_000_000_000,
  disk: 1_000_000_000_000,
  network: 1_000_000_000,
};
const SCALE: Readonly<Record<ScalarName, number>> = { cpus: 1000, mem: 1, disk: 1, network: 1 };
export const MAX_PORT = 65535;

export const EMPTY: Resources = Object.freeze({ cpus: 0, mem: 0, disk: 0, network: 0, ports: Object.freeze([]) });

function toFixed(name: ScalarName, value: unknown, field: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValidationError(`${field} must be a finite number`, field);
  }
  if (value < 0) throw new ValidationError(`${field} must not be negative (got ${value})`, field);
  if (value > SCALAR_LIMITS[name]) {
    throw new ValidationError(`${field} is too large (got ${value}, limit ${SCALAR_LIMITS[name]})`, field);
  }
  return Math.round(value * SCALE[name]);
}

function checkRanges(ranges: unknown, field: string): PortRange[] {
  if (ranges === undefined) return [];
  if (!Array.isArray(ranges)) throw new ValidationError(`${field} must be a list of ranges`, field);
  const out: PortRange[] = [];
  ranges.forEach((r: unknown, i) => {
    const f = `${field}[${i}]`;
    if (typeof r !== 'object' || r === null) throw new ValidationError(`${f} must be {begin, end}`, f);
    const { begin, end } = r as { begin?: unknown; end?: unknown };
    for (const [k, v] of [['begin', begin], ['end', end]] as const) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_PORT) {
        throw new ValidationError(`${f}.${k} must be an integer port 0-${MAX_PORT}`, `${f}.${k}`);
      }
    }
    if ((begin as number) > (end as number)) throw new ValidationError(`${f}: begin must not exceed end`, f);
    out.push({ begin: begin as number, end: end as number });
  });
  return normalizeRanges(out);
}

/** Builds validated Resources from user units; throws ValidationError naming the field. */
export function resources(spec: ResourceSpec, field = 'resources'): Resources {
  if (typeof spec !== 'object' || spec === null) throw new ValidationError(`${field} must be an object`, field);
  return {
    cpus: toFixed('cpus', spec.cpus, `${field}.cpus`),
    mem: toFixed('mem', spec.mem, `${field}.mem`),
    disk: toFixed('disk', spec.disk, `${field}.disk`),
    network: toFixed('network', spec.network, `${field}.network`),
    ports: checkRanges(spec.ports, `${field}.ports`),
  };
}

/** Checks that an already fixed-point value (from storage or another process) is well formed. */
export function assertResources(r: unknown, field = 'resources'): asserts r is Resources {
  if (typeof r !== 'object' || r === null) throw new ValidationError(`${field} must be an object`, field);
  const o = r as Record<string, unknown>;
  for (const name of SCALAR_NAMES) {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new ValidationError(`${field}.${name} must be a non-negative integer in fixed units`, `${field}.${name}`);
    }
  }
  const ports = checkRanges(o.ports, `${field}.ports`);
  if (!rangesEqual(ports, o.ports as PortRange[])) {
    throw new ValidationError(`${field}.ports must be sorted and merged`, `${field}.ports`);
  }
}

/** Back to user units (cores, MiB, Mbps), e.g. for the Mesos wire format. */
export function toSpec(r: Resources): Required<ResourceSpec> {
  return { cpus: r.cpus / 1000, mem: r.mem, disk: r.disk, network: r.network, ports: r.ports };
}

// ---- ports ----

export function normalizeRanges(ranges: readonly PortRange[]): PortRange[] {
  if (ranges.length === 0) return [];
  const sorted = [...ranges].sort((a, b) => a.begin - b.begin || a.end - b.end);
  const out: PortRange[] = [];
  let cur = { ...sorted[0]! };
  for (let i = 1; i < sorted.length; i++) {
    const r = sorted[i]!;
    if (r.begin <= cur.end + 1) {
      if (r.end > cur.end) cur.end = r.end;
    } else {
      out.push(cur);
      cur = { ...r };
    }
  }
  out.push(cur);
  return out;
}

function rangesEqual(a: readonly PortRange[], b: readonly PortRange[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.begin !== b[i]!.begin || a[i]!.end !== b[i]!.end) return false;
  return true;
}

export function countPorts(ranges: readonly PortRange[]): number {
  let n = 0;
  for (const r of ranges) n += r.end - r.begin + 1;
  return n;
}

/** True when every port of `inner` lies in `outer` (both normalized). */
export function rangesContain(outer: readonly PortRange[], inner: readonly PortRange[]): boolean {
  let j = 0;
  for (const r of inner) {
    while (j < outer.length && outer[j]!.end < r.begin) j++;
    const o = outer[j];
    if (o === undefined || o.begin > r.begin || o.end < r.end) return false;
  }
  return true;
}

export function addRanges(a: readonly PortRange[], b: readonly PortRange[]): PortRange[] {
  if (b.length === 0) return [...a];
  if (a.length === 0) return [...b];
  return normalizeRanges([...a, ...b]);
}

/** `a` minus `b`; ports of `b` not in `a` are ignored. */
export function subtractRanges(a: readonly PortRange[], b: readonly PortRange[]): PortRange[] {
  if (b.length === 0) return [...a];
  const out: PortRange[] = [];
  let j = 0;
  for (const r of a) {
    let begin = r.begin;
    while (j < b.length && b[j]!.end < begin) j++;
    let k = j;
    while (k < b.length && b[k]!.begin <= r.end) {
      const cut = b[k]!;
      if (cut.begin > begin) out.push({ begin, end: cut.begin - 1 });
      begin = Math.max(begin, cut.end + 1);
      if (begin > r.end) break;
      k++;
    }
    if (begin <= r.end) out.push({ begin, end: r.end });
  }
  return out;
}

/** The lowest `count` ports of `ranges`, or undefined if there are fewer. */
export function takePorts(ranges: readonly PortRange[], count: number): PortRange[] | undefined {
  if (count === 0) return [];
  const out: PortRange[] = [];
  let left = count;
  for (const r of ranges) {
    const n = Math.min(left, r.end - r.begin + 1);
    out.push({ begin: r.begin, end: r.begin + n - 1 });
    left -= n;
    if (left === 0) return out;
  }
  return undefined;
}

// ---- arithmetic ----

export function add(a: Resources, b: Resources): Resources {
  return {
    cpus: a.cpus + b.cpus,
    mem: a.mem + b.mem,
    disk: a.disk + b.disk,
    network: a.network + b.network,
    ports: addRanges(a.ports, b.ports),
  };
}

export function contains(outer: Resources, inner: Resources): boolean {
  return (
    outer.cpus >= inner.cpus &&
    outer.mem >= inner.mem &&
    outer.disk >= inner.disk &&
    outer.network >= inner.network &&
    rangesContain(outer.ports, inner.ports)
  );
}

/** `a` minus `b`; throws when `b` is not contained in `a` (resources never go negative). */
export function subtract(a: Resources, b: Resources, field = 'resources'): Resources {
  if (!contains(a, b)) {
    throw new InsufficientResourcesError(`${format(b)} is not available in ${format(a)}`, field);
  }
  return {
    cpus: a.cpus - b.cpus,
    mem: a.mem - b.mem,
    disk: a.disk - b.disk,
    network: a.network - b.network,
    ports: subtractRanges(a.ports, b.ports),
  };
}

/**
 * `a` minus `b`, stopping at zero: for capacity that may have shrunk under what is held
 * (an agent that reregistered smaller), where "nothing free" is the right answer.
 */
export function subtractSaturating(a: Resources, b: Resources): Resources {
  return {
    cpus: Math.max(0, a.cpus - b.cpus),
    mem: Math.max(0, a.mem - b.mem),
    disk: Math.max(0, a.disk - b.disk),
    network: Math.max(0, a.network - b.network),
    ports: subtractRanges(a.ports, b.ports),
  };
}

export function isEmpty(r: Resources): boolean {
  return r.cpus === 0 && r.mem === 0 && r.disk === 0 && r.network === 0 && r.ports.length === 0;
}

export function equals(a: Resources, b: Resources): boolean {
  return (
    a.cpus === b.cpus && a.mem === b.mem && a.disk === b.disk && a.network === b.network && rangesEqual(a.ports, b.ports)
  );
}

/**
 * DRF's dominant share: the largest fraction of `total` that `used` holds over the scalar
 * resources the cluster has (a resource with a zero total is left out, as in Mesos's sorter).
 */
export function dominantShare(used: Resources, total: Resources): number {
  let share = 0;
  if (total.cpus > 0) share = Math.max(share, used.cpus / total.cpus);
  if (total.mem > 0) share = Math.max(share, used.mem / total.mem);
  if (total.disk > 0) share = Math.max(share, used.disk / total.disk);
  if (total.network > 0) share = Math.max(share, used.network / total.network);
  return share;
}

export function format(r: Resources): string {
  const parts = [`cpus:${r.cpus / 1000}`, `mem:${r.mem}`];
  if (r.disk) parts.push(`disk:${r.disk}`);
  if (r.network) parts.push(`network:${r.network}`);
  if (r.ports.length) parts.push(`ports:[${r.ports.map((p) => `${p.begin}-${p.end}`).join(',')}]`);
  return parts.join(';');
}
