import { ApiError } from '../wire/api-error.js';
import type { HttpRequest } from './types.js';

// Content negotiation as Mesos's v1 APIs do it. Stratus encodes JSON only (no protobuf schema
// ships with it), so:
//   - a plain answer is JSON when Accept is absent, */*, application/* or names application/json;
//     anything else (application/x-protobuf alone, say) is 406 naming what Stratus can give;
//   - a stream (SUBSCRIBE) is RecordIO-framed JSON records. Asked with `Accept: application/json`
//     it answers `Content-Type: application/json` (Mesos 1.x); asked with
//     `Accept: application/recordio` it answers that type with `Message-Content-Type:
//     application/json`, and Message-Accept, when sent, must allow JSON;
//   - a request body must be JSON: Content-Type application/x-protobuf is 415.

const JSON_TYPE = 'application/json';
const RECORDIO_TYPE = 'application/recordio';

interface MediaRange {
  readonly type: string;
  readonly q: number;
}

/** The media ranges of an Accept-style header, best first (q=0 dropped). */
export function mediaRanges(header: string | undefined): MediaRange[] {
  if (header === undefined || header.trim() === '') return [];
  const out: MediaRange[] = [];
  for (const part of header.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!type) continue;
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (Number.isFinite(q) && q > 0) out.push({ type, q });
  }
  return out.sort((a, b) => b.q - a.q);
}

function allowsJson(ranges: readonly MediaRange[]): boolean {
  return ranges.length === 0 || ranges.some((r) => r.type === JSON_TYPE || r.type === '*/*' || r.type === 'application/*');
}

function notAcceptable(header: string, asked: string | undefined): ApiError {
  return new ApiError(406, `cannot answer in ${asked ?? 'the requested type'}: this master encodes application/json only (protobuf is not supported)`, header);
}

/** Throws 406 unless the caller accepts a JSON answer. */
export function requireJsonAccepted(req: HttpRequest): void {
  if (!allowsJson(mediaRanges(req.headers.accept))) throw notAcceptable('Accept', req.headers.accept);
}

/** Throws 415 unless the request body is JSON (an absent Content-Type is taken as JSON). */
export function requireJsonBody(req: HttpRequest): void {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type === undefined || type === '' || type === JSON_TYPE) return;
  throw new ApiError(415, `cannot read a ${type} body: send application/json (protobuf is not supported)`, 'Content-Type');
}

/** The response headers of a RecordIO stream of JSON records, as the caller's Accept asks. */
export function streamHeaders(req: HttpRequest): Record<string, string> {
  const ranges = mediaRanges(req.headers.accept);
  const best = ranges.find((r) => r.type === JSON_TYPE || r.type === RECORDIO_TYPE || r.type === '*/*' || r.type === 'application/*');
  if (ranges.length > 0 && best === undefined) throw notAcceptable('Accept', req.headers.accept);
  if (best?.type === RECORDIO_TYPE) {
    if (!allowsJson(mediaRanges(req.headers['message-accept']))) throw notAcceptable('Message-Accept', req.headers['message-accept']);
    return { 'Content-Type': RECORDIO_TYPE, 'Message-Content-Type': JSON_TYPE };
  }
  return { 'Content-Type': JSON_TYPE };
}
