import { SchedulerCallError } from './errors.js';
import type { Credentials } from './types.js';
import { errorBody } from './wire.js';

// The HTTP side of the driver: the master URL, credentials as headers, JSON in and out.

export type FetchFn = typeof fetch;

export function authHeaders(credentials: Credentials | undefined): Record<string, string> {
  if (credentials === undefined) return {};
  if ('token' in credentials) return { Authorization: `Bearer ${credentials.token}` };
  return { Authorization: `Basic ${Buffer.from(`${credentials.principal}:${credentials.secret}`).toString('base64')}` };
}

export function principalOf(credentials: Credentials | undefined): string | undefined {
  return credentials?.principal;
}

/** Turns a non-2xx answer into a SchedulerCallError with the master's message and field. */
export async function failure(res: Response, what: string): Promise<SchedulerCallError> {
  const text = await res.text().catch(() => '');
  let message = text.slice(0, 500) || res.statusText;
  let field: string | undefined;
  try {
    const parsed = errorBody.safeParse(JSON.parse(text));
    if (parsed.success) {
      message = parsed.data.error;
      field = parsed.data.field;
    }
  } catch {
    // not JSON: keep the text
  }
  return new SchedulerCallError(res.status, `${what} failed with HTTP ${res.status}: ${message}`, field);
}

export class MasterHttp {
  readonly base: string;

  constructor(
    master: string | URL,
    private readonly credentials: Credentials | undefined,
    private readonly fetchFn: FetchFn = fetch,
  ) {
    this.base = String(master).replace(/\/+$/, '');
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { 'Content-Type': 'application/json', Accept: 'application/json', ...authHeaders(this.credentials), ...extra };
  }

  post(path: string, body: unknown, extra: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    return this.fetchFn(`${this.base}${path}`, { method: 'POST', headers: this.headers(extra), body: JSON.stringify(body), ...(signal ? { signal } : {}) });
  }

  get(path: string, extra: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    const { 'Content-Type': _ct, ...headers } = this.headers(extra);
    return this.fetchFn(`${this.base}${path}`, { method: 'GET', headers, ...(signal ? { signal } : {}) });
  }
}
