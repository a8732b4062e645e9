import { parseArgs, type ParseArgsConfig } from 'node:util';

// One `stratus` subcommand. Each lives in its own file under commands/ and is listed in
// commands/index.ts; main.ts only dispatches.

export interface Command {
  readonly name: string;
  /** One line for `stratus help`. */
  readonly summary: string;
  /** Usage text shown by `stratus help NAME` and on bad arguments. */
  readonly usage: string;
  run(argv: readonly string[]): Promise<number>;
}

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with strict checking, turning its errors into UsageErrors. */
export function parseFlags<O extends Options>(argv: readonly string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The master URL from --master, STRATUS_MASTER, or the local default (Mesos's port). */
export function masterUrl(flag: string | undefined): string {
  return (flag ?? process.env.STRATUS_MASTER ?? 'http://127.0.0.1:5050').replace(/\/$/, '');
}

/** Prints rows as an aligned text table. */
export function printTable(columns: readonly string[], rows: readonly (readonly (string | number)[])[], out: (s: string) => void = (s) => process.stdout.write(s + '\n')): void {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => String(r[i] ?? '').length)));
  out(columns.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  for (const r of rows) out(r.map((v, i) => String(v ?? '').padEnd(widths[i]!)).join('  ').trimEnd());
}
