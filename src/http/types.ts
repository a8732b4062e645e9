import type { JsonValue } from '../core/json.js';
import { toJson } from '../core/json.js';

// A transport-neutral request and response. The node server (src/http/node-server.ts) and the
// API Gateway entry points translate to and from these, so routing and policy exist once.

export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
  /** Aborted when the client goes away. */
  readonly signal?: AbortSignal;
  /** The TCP connection's ends, when the transport has one (the node server): who is calling from this host. */
  readonly connection?: { readonly remoteAddress: string; readonly remotePort: number; readonly localAddress: string; readonly localPort: number };
}

export interface JsonResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: JsonValue;
}

/** A RecordIO stream of JSON records (only a transport that can stream sends one). */
export interface StreamResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly stream: AsyncIterable<JsonValue>;
}

/** Bytes as they are (a task's log), with their own Content-Type header. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly raw: Buffer;
}

export type HttpResponse = JsonResponse | StreamResponse | RawResponse;

export function isStream(r: HttpResponse): r is StreamResponse {
  return 'stream' in r;
}

export function isRaw(r: HttpResponse): r is RawResponse {
  return 'raw' in r;
}

/** A JSON answer of plain data (undefined fields dropped, as JSON has no place for them). */
export function json(status: number, value: unknown, headers?: Record<string, string>): JsonResponse {
  return { status, body: toJson(value), ...(headers ? { headers } : {}) };
}
