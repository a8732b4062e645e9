import { z } from 'zod';
import { ValidationError } from '../core/errors.js';

// zod at the edge: every external input is parsed here, and a failure becomes a
// ValidationError whose `field` is the JSON path of the offending value.

export function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

export function parse<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = fieldPath(prefix, issue.path);
  throw new ValidationError(`${field || 'body'}: ${issue.message}`, field || 'body');
}

/** Mesos's `{"value": "..."}` id wrapper. */
export const idValue = z.object({ value: z.string().min(1).max(255) });

export const finiteNumber = z.number().refine(Number.isFinite, 'must be a finite number');

/** int64 fields may arrive as numbers or as numeric strings (protobuf JSON). */
export const int64 = z.union([z.number().int(), z.string().regex(/^-?\d+$/).transform(Number)]);

/** Mesos Labels: `{"labels": [{"key", "value"}]}`. */
export const labels = z.object({ labels: z.array(z.object({ key: z.string().min(1).max(255), value: z.string().max(4096).optional() })).max(256) });

export function labelsToRecord(l: z.output<typeof labels> | undefined): Record<string, string> | undefined {
  if (!l) return undefined;
  const out: Record<string, string> = {};
  for (const { key, value } of l.labels) out[key] = value ?? '';
  return out;
}

export function recordToLabels(r: Readonly<Record<string, string>> | undefined): { labels: { key: string; value: string }[] } | undefined {
  if (!r) return undefined;
  return { labels: Object.entries(r).map(([key, value]) => ({ key, value })) };
}

/**
 * A JSON object whose keys the user names (labels, env, attributes, quota limits). JSON.parse
 * keeps a `__proto__` key as an own property, but copying it into a record would drop it
 * silently: it is refused instead, naming the field.
 */
export function userRecord<K extends z.ZodType<string>, V extends z.ZodType>(key: K, value: V) {
  return z
    .unknown()
    .superRefine((v, ctx) => {
      if (typeof v === 'object' && v !== null && Object.hasOwn(v, '__proto__')) {
        ctx.addIssue({ code: 'custom', path: ['__proto__'], message: "'__proto__' is not allowed as a name" });
      }
    })
    .pipe(z.record(key, value));
}

/**
 * Protobuf's JSON mapping reads `null` as "field not set", and Mesos clients write it for every
 * empty repeated or optional field (mesos-go does). The Mesos APIs' codecs pass their input
 * through this first, so each schema sees an unset field, never a null. Array elements are
 * kept: `[null]` is no valid protobuf JSON and stays refused.
 */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // defineProperty: a '__proto__' key stays an own property, for userRecord to refuse.
    if (v !== null) Object.defineProperty(out, k, { value: withoutNulls(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
