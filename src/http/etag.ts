import { createHash } from 'node:crypto';
import type { JsonValue } from '../core/json.js';
import type { HttpRequest, JsonResponse } from './types.js';

// Conditional GETs (RFC 9110): a strong ETag is a hash of the exact bytes sent, so a poller
// (the dashboard, every 2 s) that sends If-None-Match gets a bodiless 304 while nothing changed.

/** A strong entity tag for these bytes: a quoted, truncated sha256. */
export function strongEtag(bytes: string | Buffer): string {
  return `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
}

/** Whether an If-None-Match header matches `etag` (weak comparison, as RFC 9110 asks for GET). */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = etag.replace(/^W\//, '');
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === opaque;
  });
}

/** A 200 JSON answer carrying its ETag, or 304 with no body when the caller has those bytes. */
export function conditionalJson(req: HttpRequest, body: JsonValue, headers: Record<string, string> = {}): JsonResponse {
  // The transports send JSON.stringify(body): the tag is of those bytes.
  const etag = strongEtag(JSON.stringify(body));
  const all = { ...headers, ETag: etag, 'Cache-Control': 'no-cache' };
  if (ifNoneMatchHits(req.headers['if-none-match'], etag)) return { status: 304, headers: all };
  return { status: 200, headers: all, body };
}
