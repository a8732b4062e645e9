import type { JsonValue } from '../../state/item-store.js';

// A transport-neutral request and response: server.ts (node:http) and handler.ts (API
// Gateway v2 events) translate to and from these, so routing and policy exist once.

export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
  /** Aborted when the client goes away. */
  readonly signal?: AbortSignal;
}

export interface JsonResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: JsonValue;
}

/** A RecordIO stream of JSON records: only the local server can send one. */
export interface StreamResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly stream: AsyncIterable<JsonValue>;
}

export type HttpResponse = JsonResponse | StreamResponse;

export function isStream(r: HttpResponse): r is StreamResponse {
  return 'stream' in r;
}

/** Mesos's RecordIO framing: the record's length in bytes, a newline, the record. */
export function recordIO(record: JsonValue): string {
  const json = JSON.stringify(record);
  return `${Buffer.byteLength(json)}\n${json}`;
}
