import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { authHeaders as credentialHeaders, JsonApiClient, type Credentials } from '../http/json-client.js';

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
    throw new UsageError(parseErrorMessage(e as Error & { code?: string }));
  }
}

/** parseArgs's messages, shortened to what the user needs (its advice on '--' confuses more than it helps). */
function parseErrorMessage(e: Error & { code?: string }): string {
  const quoted = /'([^']+)'/.exec(e.message)?.[1];
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted !== undefined) return `unknown option '${quoted}'`;
  if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' && quoted !== undefined) return `unexpected argument '${quoted}'`;
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && quoted !== undefined) {
    const flag = quoted.replace(/ <value>$/, '').split(', ').pop()!;
    return /argument missing/.test(e.message) ? `${flag} needs a value` : `${flag} needs a value (one starting with a dash goes as ${flag}=-VALUE)`;
  }
  return e.message;
}

/** Asks for help: `--help` or `-h` before any `--` (after it, words belong to the task's command). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/** The flags of a list command's output format: `--output table|json` (`-o json`), and `--json` kept as its alias. */
export const OUTPUT_FLAGS = {
  output: { type: 'string', short: 'o' },
  json: { type: 'boolean' },
} as const satisfies Options;

export const OUTPUT_USAGE = '  -o, --output FORMAT  table (default) or json (machine-readable, on stdout); --json is -o json';

export type OutputFormat = 'table' | 'json';

/** The output format the parsed OUTPUT_FLAGS ask for; a UsageError for any other format. */
export function outputFormat(values: { readonly output?: string | undefined; readonly json?: boolean | undefined }): OutputFormat {
  const f = values.output ?? (values.json ? 'json' : 'table');
  if (f !== 'table' && f !== 'json') throw new UsageError(`--output is table or json (got '${f}')`);
  if (values.json && f !== 'json') throw new UsageError('--json and --output table contradict each other');
  return f;
}

/** Prints a value as JSON on stdout (one document, indented, newline-terminated). */
export function printJson(value: unknown, out: (s: string) => void = (s) => process.stdout.write(s + '\n')): void {
  out(JSON.stringify(value, null, 2));
}

export interface NumberRule {
  /** A whole number only. */
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
}

/** A numeric flag's value: undefined when absent; a UsageError naming the flag when it is not a number in range. */
export function numberFlag(flag: string, value: string | undefined, rule: NumberRule = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const ok = value.trim() !== '' && Number.isFinite(n) && (!rule.integer || Number.isSafeInteger(n)) && n >= (rule.min ?? -Infinity) && n <= (rule.max ?? Infinity);
  if (ok) return n;
  const range = rule.min !== undefined && rule.max !== undefined ? ` from ${rule.min} to ${rule.max}` : rule.min !== undefined ? ` of at least ${rule.min}` : rule.max !== undefined ? ` of at most ${rule.max}` : '';
  // A name in capitals is a positional argument (N), any other a flag (--cpus).
  throw new UsageError(`${/^[A-Z]+$/.test(flag) ? flag : `--${flag}`} must be a ${rule.integer ? 'whole number' : 'number'}${range} (got '${value}')`);
}

/** The master URL from --master, STRATUS_MASTER, or the local default (Mesos's port). */
export function masterUrl(flag: string | undefined): string {
  return (flag ?? process.env.STRATUS_MASTER ?? 'http://127.0.0.1:5050').replace(/\/$/, '');
}

/**
 * Credentials for calls to the master, from the environment: STRATUS_TOKEN (bearer) or
 * STRATUS_PRINCIPAL with STRATUS_SECRET (HTTP Basic). `stratus dev --authenticate` prints them.
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  if (env.STRATUS_TOKEN) return { token: env.STRATUS_TOKEN };
  if (env.STRATUS_PRINCIPAL && env.STRATUS_SECRET !== undefined) return { principal: env.STRATUS_PRINCIPAL, secret: env.STRATUS_SECRET };
  return undefined;
}

/** The Authorization header of the CLI's credentials, if any. */
export function authHeaders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return credentialHeaders(credentialsFromEnv(env));
}

/** A client of a master's (or an agent's) API with the CLI's credentials. */
export function apiClient(server: string): JsonApiClient {
  return new JsonApiClient(server, { headers: authHeaders(), timeoutMs: 15_000 });
}

/** POST /api/v1 (the operator API) with the CLI's credentials; throws an ApiError with the master's message. */
export async function operatorCall<S extends z.ZodType>(master: string, body: unknown, schema: S, signal?: AbortSignal): Promise<z.output<S>>;
export async function operatorCall(master: string, body: unknown): Promise<unknown>;
export async function operatorCall(master: string, body: unknown, schema: z.ZodType = z.unknown(), signal?: AbortSignal): Promise<unknown> {
  return apiClient(master).request('POST', '/api/v1', schema, body, signal ? { signal } : {});
}

/** Prints rows as an aligned text table. */
export function printTable(columns: readonly string[], rows: readonly (readonly (string | number)[])[], out: (s: string) => void = (s) => process.stdout.write(s + '\n')): void {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => String(r[i] ?? '').length)));
  out(columns.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  for (const r of rows) out(r.map((v, i) => String(v ?? '').padEnd(widths[i]!)).join('  ').trimEnd());
}
