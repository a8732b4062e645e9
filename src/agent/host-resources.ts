import { statfsSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { MAX_PORT, normalizeRanges, type PortRange } from '../core/resources.js';

// What an agent offers when no flag says otherwise, as Mesos's agent computes it: every CPU,
// memory and disk minus a reserve for the host itself, and ports 31000-32000.

const MiB = 1024 * 1024;

export const DEFAULT_PORTS: readonly PortRange[] = [{ begin: 31000, end: 32000 }];

export interface HostResources {
  /** Cores (may be fractional). */
  readonly cpus: number;
  /** MiB. */
  readonly mem: number;
  /** MiB. */
  readonly disk: number;
}

/** Mesos leaves 1 GiB (or half, on small hosts) of memory to the host. */
export function memoryToOffer(totalMiB: number): number {
  const reserve = totalMiB >= 2048 ? 1024 : Math.floor(totalMiB / 2);
  return Math.max(0, totalMiB - reserve);
}

/** Mesos leaves 5 GiB (or half, on small disks) of the work dir's file system to the host. */
export function diskToOffer(totalMiB: number): number {
  const reserve = Math.min(5120, Math.floor(totalMiB / 2));
  return Math.max(0, totalMiB - reserve);
}

export function detectHostResources(workDir: string): HostResources {
  let disk = 0;
  try {
    const fs = statfsSync(workDir);
    disk = diskToOffer(Math.floor((fs.blocks * fs.bsize) / MiB));
  } catch {
    /* no statfs here: offer no disk rather than guess */
  }
  return { cpus: availableParallelism(), mem: memoryToOffer(Math.floor(totalmem() / MiB)), disk };
}

/** Parses `31000-32000`, `31000-31099,32000`, or Mesos's `[31000-32000, 33000-33100]`. */
export function parsePortRanges(text: string, field = 'ports'): PortRange[] {
  const body = text.trim().replace(/^\[/, '').replace(/\]$/, '').trim();
  if (body === '') return [];
  const out: PortRange[] = [];
  for (const part of body.split(',')) {
    const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5}))?\s*$/.exec(part);
    if (!m) throw new Error(`${field}: '${part.trim()}' is not a port or a range like 31000-32000`);
    const begin = Number(m[1]);
    const end = m[2] !== undefined ? Number(m[2]) : begin;
    if (begin < 1 || end > MAX_PORT || begin > end) throw new Error(`${field}: '${part.trim()}' must be within 1-${MAX_PORT} with begin <= end`);
    out.push({ begin, end });
  }
  return normalizeRanges(out);
}

export function formatPortRanges(ranges: readonly PortRange[]): string {
  return ranges.map((r) => (r.begin === r.end ? String(r.begin) : `${r.begin}-${r.end}`)).join(',');
}

/** Parses Mesos's `--attributes` syntax: `rack:r1;os:linux`. */
export function parseAttributes(text: string, field = 'attributes'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(';')) {
    if (part.trim() === '') continue;
    const i = part.indexOf(':');
    if (i <= 0) throw new Error(`${field}: '${part}' is not name:value`);
    out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}
