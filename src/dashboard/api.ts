import type { ErrorBody } from './types.js';

// Calls to the master from the page's own origin. The operator credential (when the region
// authenticates) is kept in sessionStorage for this tab only and sent as the Authorization
// header the master accepts: HTTP Basic principal:secret, or a Bearer token.

const KEY = 'stratus.authorization';

export function storedAuthorization(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function storeAuthorization(value: string | undefined): void {
  if (value === undefined) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, value);
}

export function basicAuthorization(principal: string, secret: string): string {
  const bytes = new TextEncoder().encode(`${principal}:${secret}`);
  let bin = '';
  bytes.forEach((b) => (bin += String.fromCharCode(b)));
  return `Basic ${btoa(bin)}`;
}

/** A refusal or failure, with the status (0: the master did not answer). */
export class CallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function errorOf(res: Response): Promise<CallError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as ErrorBody;
    return new CallError(res.status, body.error);
  } catch {
    return new CallError(res.status, text || res.statusText);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const auth = storedAuthorization();
  return { accept: 'application/json', ...(auth ? { authorization: auth } : {}), ...extra };
}

async function send(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, { ...init, cache: 'no-store' });
  } catch (e) {
    throw new CallError(0, `the master did not answer: ${(e as Error).message}`);
  }
}

/** GET of JSON; undefined for 404 (an API this master does not mount). */
export async function getJson<T>(path: string): Promise<T | undefined> {
  const res = await send(path, { headers: headers() });
  if (res.status === 404) return undefined;
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

/** A conditional GET: `unchanged` while the ETag still matches (304, no body sent). */
export async function getIfChanged<T>(path: string, etag: string | undefined): Promise<{ unchanged: true } | { unchanged: false; value: T; etag: string | undefined }> {
  const res = await send(path, { headers: headers(etag ? { 'if-none-match': etag } : {}) });
  if (res.status === 304) return { unchanged: true };
  if (!res.ok) throw await errorOf(res);
  return { unchanged: false, value: (await res.json()) as T, etag: res.headers.get('etag') ?? undefined };
}

/** A task's log, read through the master with the caller's credential. */
export async function getLog(frameworkId: string, taskId: string, stream: 'stdout' | 'stderr', tailBytes: number): Promise<{ text: string; total: number }> {
  const path = `/api/v1/tasks/${encodeURIComponent(frameworkId)}/${encodeURIComponent(taskId)}/logs?stream=${stream}&tail_bytes=${tailBytes}`;
  const res = await send(path, { headers: headers({ accept: 'text/plain' }) });
  if (!res.ok) throw await errorOf(res);
  return { text: await res.text(), total: Number(res.headers.get('x-stratus-log-total-bytes') ?? 0) };
}
