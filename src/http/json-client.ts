import type { z } from 'zod';
import { ApiError } from '../wire/api-error.js';

// The one JSON-over-HTTP client: the SDK's driver, the CLI, the jobs, autoscaler and federated
// jobs clients and the agent's master client all call through it. It sends JSON, reads JSON,
// checks the answer with a zod schema, and turns anything else into an ApiError naming the
// field the server named.

export type Credentials =
  /** HTTP Basic, as Mesos's framework authentication (principal and secret). */
  | { readonly principal: string; readonly secret: string }
  /** A bearer token (JWT or opaque). */
  | { readonly token: string; readonly principal?: string };

export function authHeaders(credentials: Credentials | undefined): Record<string, string> {
  if (credentials === undefined) return {};
  if ('token' in credentials) return { Authorization: `Bearer ${credentials.token}` };
  return { Authorization: `Basic ${Buffer.from(`${credentials.principal}:${credentials.secret}`).toString('base64')}` };
}

export interface JsonApiOptions {
  /** Extra headers on every call, e.g. Authorization. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly fetch?: typeof fetch;
  /** Bound on each call; none by default. */
  readonly timeoutMs?: number;
}

export interface CallOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly headers?: Readonly<Record<string, string>>;
}

export class JsonApiClient {
  readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(
    server: string | URL,
    protected readonly options: JsonApiOptions = {},
  ) {
    this.base = String(server).replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? fetch;
  }

  /** One call; `payload` is sent as JSON (a string is sent as it is, e.g. a file's content). */
  async request<S extends z.ZodType>(method: string, path: string, schema: S, payload?: unknown, call: CallOptions = {}): Promise<z.output<S>> {
    const what = `${method} ${path}`;
    const { status, body } = await this.send(method, path, payload, call, 'application/json');
    const text = body.toString('utf8');
    let value: unknown;
    try {
      value = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ApiError(status, `${what}: HTTP ${status} with malformed JSON: ${text.slice(0, 200)}`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new ApiError(status, `${what}: unexpected answer: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  }

  /** A GET whose answer is bytes (a task's log), not JSON. */
  async bytes(path: string, call: CallOptions = {}): Promise<Buffer> {
    return (await this.send('GET', path, undefined, call, '*/*')).body;
  }

  private async send(method: string, path: string, payload: unknown, call: CallOptions, accept: string): Promise<{ status: number; body: Buffer }> {
    const what = `${method} ${path}`;
    const timeoutMs = call.timeoutMs ?? this.options.timeoutMs;
    const timeout = timeoutMs !== undefined ? AbortSignal.timeout(timeoutMs) : undefined;
    const signals = [timeout, call.signal].filter((s): s is AbortSignal => s !== undefined);
    let res: Response;
    let body: Buffer;
    try {
      res = await this.fetchFn(`${this.base}${path}`, {
        method,
        headers: { Accept: accept, ...(payload !== undefined ? { 'Content-Type': 'application/json' } : {}), ...this.options.headers, ...call.headers },
        ...(payload !== undefined ? { body: typeof payload === 'string' ? payload : JSON.stringify(payload) } : {}),
        ...(signals.length ? { signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) } : {}),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = timeout?.aborted ? `no answer within ${timeoutMs} ms` : (cause?.code ?? cause?.message ?? (e as Error).message);
      throw new ApiError(0, `cannot reach ${this.base} (${what}): ${why}`);
    }
    try {
      body = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      throw new ApiError(0, `${this.base}: the answer to ${what} was cut: ${(e as Error).message}`);
    }
    if (!res.ok) throw ApiError.fromAnswer(res.status, body.toString('utf8'));
    return { status: res.status, body };
  }
}
