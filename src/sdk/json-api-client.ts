import { z } from 'zod';

// The JSON-over-HTTP calls Stratus's own clients make (jobs, federated jobs, autoscaler):
// send JSON, read JSON, check the answer with a zod schema, and turn a 4xx body
// `{error, field}` into an error that names the field.

export class ApiError extends Error {
  constructor(
    /** The HTTP status; 0 when the master could not be reached. */
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export interface JsonApiOptions {
  /** Extra headers, e.g. Authorization. */
  readonly headers?: Record<string, string>;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

type ErrorFactory = (status: number, message: string, field?: string) => Error;

const errorBody = z.object({ error: z.string(), field: z.string().optional() });

export class JsonApiClient {
  readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(
    master: string | URL,
    protected readonly options: JsonApiOptions = {},
    private readonly makeError: ErrorFactory = (s, m, f) => new ApiError(s, m, f),
  ) {
    this.base = String(master).replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? fetch;
  }

  /** One call; `payload` is sent as JSON (a string is sent as it is, e.g. a file's content). */
  async request<S extends z.ZodType>(method: string, path: string, schema: S, payload?: unknown): Promise<z.output<S>> {
    let res: Response;
    try {
      res = await this.fetchFn(`${this.base}${path}`, {
        method,
        headers: { Accept: 'application/json', ...(payload !== undefined ? { 'Content-Type': 'application/json' } : {}), ...this.options.headers },
        ...(payload !== undefined ? { body: typeof payload === 'string' ? payload : JSON.stringify(payload) } : {}),
        ...(this.options.timeoutMs !== undefined ? { signal: AbortSignal.timeout(this.options.timeoutMs) } : {}),
      });
    } catch (e) {
      const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
      throw this.makeError(0, `cannot reach the master at ${this.base}: ${cause}`);
    }
    const text = await res.text();
    let value: unknown;
    try {
      value = text ? JSON.parse(text) : undefined;
    } catch {
      throw this.makeError(res.status, `${method} ${path}: HTTP ${res.status}: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const e = errorBody.safeParse(value);
      throw this.makeError(res.status, e.success ? e.data.error : `${method} ${path}: HTTP ${res.status}`, e.success ? e.data.field : undefined);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw this.makeError(res.status, `${method} ${path}: unexpected answer: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  }
}
