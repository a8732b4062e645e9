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

/**
 * Credentials for calls to the master, from the environment: STRATUS_TOKEN (bearer) or
 * STRATUS_PRINCIPAL with STRATUS_SECRET (HTTP Basic). `stratus dev --authenticate` prints them.
 */
export function authHeaders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (env.STRATUS_TOKEN) return { Authorization: `Bearer ${env.STRATUS_TOKEN}` };
  if (env.STRATUS_PRINCIPAL && env.STRATUS_SECRET !== undefined) {
    return { Authorization: `Basic ${Buffer.from(`${env.STRATUS_PRINCIPAL}:${env.STRATUS_SECRET}`).toString('base64')}` };
  }
  return {};
}

/** POST /api/v1 (the operator API) with the CLI's credentials; throws with the master's error. */
export async function operatorCall<T>(master: string, body: unknown): Promise<T> {
  const res = await fetch(`${master}/api/v1`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...authHeaders() },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (!res.ok) {
    let msg = text.slice(0, 300);
    try {
      const e = JSON.parse(text) as { error?: string; field?: string };
      if (e.error) msg = e.field ? `${e.error} (field ${e.field})` : e.error;
    } catch {
      // not JSON: show the text
    }
    throw new Error(`the master answered ${res.status}: ${msg}`);
  }
  return (text ? JSON.parse(text) : {}) as T;
}

/** Prints rows as an aligned text table. */
export function printTable(columns: readonly string[], rows: readonly (readonly (string | number)[])[], out: (s: string) => void = (s) => process.stdout.write(s + '\n')): void {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => String(r[i] ?? '').length)));
  out(columns.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  for (const r of rows) out(r.map((v, i) => String(v ?? '').padEnd(widths[i]!)).join('  ').trimEnd());
}
