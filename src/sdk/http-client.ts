import { authHeaders, type Credentials } from '../http/json-client.js';
import { ApiError } from '../wire/api-error.js';

// The HTTP side of the driver: the master URL, credentials as headers, JSON in and out.

export type FetchFn = typeof fetch;

export function principalOf(credentials: Credentials | undefined): string | undefined {
  return credentials?.principal;
}

/** Turns a non-2xx answer into an ApiError with the master's message and field. */
export async function failure(res: Response, what: string): Promise<ApiError> {
  return ApiError.fromAnswer(res.status, await res.text().catch(() => ''), what);
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
