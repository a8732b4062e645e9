import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Every benchmark returns rows; main prints them as a table and writes them as JSON under
// bench/results/, so figures can be compared across runs and pasted into issue notes.

export type Cell = string | number | null;
export interface BenchTable {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly Record<string, Cell>[];
  readonly notes?: readonly string[];
}

export interface BenchSuite {
  readonly name: string;
  readonly description: string;
  run(args: readonly string[]): Promise<BenchTable[]>;
}

function fmt(v: Cell): string {
  if (v === null) return '-';
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
  }
  return v;
}

export function renderTable(t: BenchTable): string {
  const widths = t.columns.map((c) => Math.max(c.length, ...t.rows.map((r) => fmt(r[c] ?? null).length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  const out = [`## ${t.title}`, line([...t.columns]), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|'];
  for (const r of t.rows) out.push(line(t.columns.map((c) => fmt(r[c] ?? null))));
  for (const n of t.notes ?? []) out.push(`> ${n}`);
  return out.join('\n');
}

export function writeResults(suite: string, tables: readonly BenchTable[], dir = 'bench/results'): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${suite}.json`);
  writeFileSync(file, JSON.stringify({ suite, at: new Date().toISOString(), node: process.version, tables }, null, 2));
  return file;
}

/** p-th percentile (0-100) of a sample, nearest-rank. */
export function percentile(sample: readonly number[], p: number): number {
  if (sample.length === 0) return NaN;
  const sorted = [...sample].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (sample: readonly number[]): number => percentile(sample, 50);

/** A launch-latency row: p50/p99/max of a sample and its p50 against bare `docker run`'s (base). */
export function launchRow(name: string, sample: readonly number[], base?: number): Record<string, Cell> {
  const p50 = percentile(sample, 50);
  return { measurement: name, n: sample.length, 'p50 ms': p50, 'p99 ms': percentile(sample, 99), 'max ms': Math.max(...sample), 'p50 / docker run': base ? p50 / base : null };
}
