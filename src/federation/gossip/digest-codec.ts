import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { DIGEST_VERSION, digestSchema, type RegionDigest } from './digest.js';

// The wire form of a digest: its JSON, or, when the JSON is large, an envelope holding the
// gzipped JSON in base64 (SQS bodies are text). Decoding checks size first, then JSON, then
// the version, then the schema; each failure has its own reason, so drops can be counted.

export const DROP_REASONS = ['oversized', 'malformed', 'unknown-version', 'schema', 'self'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export type Decoded = { readonly ok: true; readonly digest: RegionDigest } | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

export interface CodecLimits {
  readonly maxDigestBytes: number;
  readonly compressAboveBytes: number;
}

const GZIP = 'gzip+base64';
const envelopeSchema = z.object({ encoding: z.literal(GZIP), data: z.string() });
/** A gzipped digest may inflate to at most this (a small bomb must not exhaust memory). */
const MAX_INFLATED_BYTES = 8 * 1024 * 1024;

export class DigestTooLargeError extends Error {
  constructor(readonly bytes: number, readonly limit: number) {
    super(`the digest encodes to ${bytes} bytes, over the ${limit}-byte limit`);
  }
}

export interface Encoded {
  readonly body: string;
  /** Bytes of the body (what SQS counts). */
  readonly bytes: number;
  /** Bytes of the plain JSON. */
  readonly jsonBytes: number;
  readonly compressed: boolean;
}

export function encodeDigest(d: RegionDigest, limits: CodecLimits): Encoded {
  const json = JSON.stringify(d);
  const jsonBytes = Buffer.byteLength(json);
  let body = json;
  if (jsonBytes > limits.compressAboveBytes) {
    body = JSON.stringify({ encoding: GZIP, data: gzipSync(json).toString('base64') });
  }
  const bytes = Buffer.byteLength(body);
  if (bytes > limits.maxDigestBytes) throw new DigestTooLargeError(bytes, limits.maxDigestBytes);
  return { body, bytes, jsonBytes, compressed: body !== json };
}

/**
 * Encodes a digest, first leaving out federated job definitions (their owner sends them again
 * in later rounds), then halving the endpoints kept per service until it fits: a region with a
 * huge service still gossips its capacity and liveness, and marks the cut services truncated.
 */
export function encodeFitting(full: RegionDigest, limits: CodecLimits): Encoded & { readonly digest: RegionDigest } {
  try {
    return { ...encodeDigest(full, limits), digest: full };
  } catch (e) {
    if (!(e instanceof DigestTooLargeError)) throw e;
  }
  const d: RegionDigest = full.jobs.some((j) => j.definition) ? { ...full, jobs: full.jobs.map(({ definition: _d, ...summary }) => summary) } : full;
  let cap = Math.max(0, ...Object.values(d.services).map((l) => l.length));
  let current = d;
  for (;;) {
    try {
      return { ...encodeDigest(current, limits), digest: current };
    } catch (e) {
      if (!(e instanceof DigestTooLargeError)) throw e;
      if (cap === 0) {
        // Even the names do not fit: send capacity and liveness, and say services were left out.
        if (current.servicesOmitted) throw e;
        const { truncatedServices: _t, ...rest } = d;
        current = { ...rest, services: {}, servicesOmitted: true };
        continue;
      }
      cap = Math.floor(cap / 2);
      const services: RegionDigest['services'] = {};
      const truncated = new Set(d.truncatedServices ?? []);
      for (const [name, list] of Object.entries(d.services)) {
        services[name] = list.slice(0, cap);
        if (list.length > cap) truncated.add(name);
      }
      current = { ...d, services, truncatedServices: [...truncated].sort() };
    }
  }
}

function issues(e: z.ZodError): string {
  return e.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** Parses and validates a message body; never throws. */
export function decodeDigest(body: string, limits: Pick<CodecLimits, 'maxDigestBytes'>): Decoded {
  const bytes = Buffer.byteLength(body);
  if (bytes > limits.maxDigestBytes) return { ok: false, reason: 'oversized', detail: `${bytes} bytes, limit ${limits.maxDigestBytes}` };
  let value: unknown;
  try {
    value = JSON.parse(body);
    const env = envelopeSchema.safeParse(value);
    if (env.success) value = JSON.parse(gunzipSync(Buffer.from(env.data.data, 'base64'), { maxOutputLength: MAX_INFLATED_BYTES }).toString('utf8'));
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') return { ok: false, reason: 'oversized', detail: `inflates past ${MAX_INFLATED_BYTES} bytes` };
    return { ok: false, reason: 'malformed', detail: (e as Error).message.slice(0, 200) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'malformed', detail: 'not a JSON object' };
  const version = (value as { version?: unknown }).version;
  if (version !== DIGEST_VERSION) {
    return { ok: false, reason: 'unknown-version', detail: `version ${JSON.stringify(version)?.slice(0, 32)}; this region reads ${DIGEST_VERSION}` };
  }
  const parsed = digestSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: 'schema', detail: issues(parsed.error) };
  return { ok: true, digest: parsed.data };
}
