import { ValidationError } from '../../core/errors.js';
import { MAX_FEDERATED_INSTANCES, regionPolicySchema } from '../gossip/digest.js';

// A federated job's region policy: explicit instance counts per region, or a total spread
// over regions by weight. Its wire shape is checked by zod (regionPolicySchema, kept with the
// digest that carries it to peers: ../gossip/digest.ts); the rules across fields and against
// the federation's regions are checked by `parsePolicy`, whose errors name the field
// (`policy.counts.eu-west-1`), so the API answers 400 naming it.

export type RegionPolicy =
  | { readonly counts: Readonly<Record<string, number>> }
  | { readonly weights: Readonly<Record<string, number>>; readonly total: number };

function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
  return [prefix, ...path.map(String)].filter(Boolean).join('.');
}

/**
 * Validates a policy for a federation of `regions` (this one and its peers). Throws a
 * ValidationError naming the field at fault; `field` is the policy's own name in the request.
 */
export function parsePolicy(value: unknown, regions: readonly string[], field = 'policy'): RegionPolicy {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(`${field} must be an object: {"counts": {region: n}} or {"weights": {region: w}, "total": n}`, field);
  }
  const r = regionPolicySchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const at = fieldPath(field, keys.length > 0 ? [...issue.path, keys[0]!] : issue.path);
    const message = issue.code === 'unrecognized_keys' ? `unknown field '${at}'` : issue.code === 'invalid_key' ? `${at}: is not a valid region name` : `${at}: ${issue.message}`;
    throw new ValidationError(message, at);
  }
  const p = r.data;
  if ((p.counts === undefined) === (p.weights === undefined)) {
    throw new ValidationError(`${field} needs exactly one of counts or weights`, p.counts === undefined ? `${field}.counts` : `${field}.weights`);
  }
  const known = new Set(regions);
  const named = p.counts ?? p.weights!;
  const kind = p.counts ? 'counts' : 'weights';
  if (Object.keys(named).length === 0) throw new ValidationError(`${field}.${kind} names no region`, `${field}.${kind}`);
  for (const region of Object.keys(named)) {
    if (!known.has(region)) {
      throw new ValidationError(`${field}.${kind}.${region}: region '${region}' is not in this federation (known: ${[...known].sort().join(', ')})`, `${field}.${kind}.${region}`);
    }
  }
  if (p.counts) {
    if (p.total !== undefined) throw new ValidationError(`${field}.total goes with weights; with counts the total is their sum`, `${field}.total`);
    const sum = Object.values(p.counts).reduce((a, b) => a + b, 0);
    if (sum > MAX_FEDERATED_INSTANCES) throw new ValidationError(`${field}.counts add up to ${sum}, more than ${MAX_FEDERATED_INSTANCES}`, `${field}.counts`);
    return { counts: p.counts };
  }
  if (p.total === undefined) throw new ValidationError(`${field}.total is required with weights`, `${field}.total`);
  if (p.total > 0 && Object.values(p.weights!).every((w) => w === 0)) throw new ValidationError(`${field}.weights are all zero`, `${field}.weights`);
  return { weights: p.weights!, total: p.total };
}

export function policyTotal(p: RegionPolicy): number {
  return 'counts' in p ? Object.values(p.counts).reduce((a, b) => a + b, 0) : p.total;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Each region's share of the instances: the counts as given, or the total apportioned by weight
 * (largest remainder; ties go to the region first by name, so every region computes the same).
 */
export function baseShares(p: RegionPolicy): Record<string, number> {
  if ('counts' in p) return { ...p.counts };
  const regions = Object.keys(p.weights).sort(byName);
  const sum = regions.reduce((a, r) => a + (p.weights[r] ?? 0), 0);
  const out: Record<string, number> = {};
  if (sum === 0) {
    for (const r of regions) out[r] = 0;
    return out;
  }
  const quotas = regions.map((r) => ({ r, q: (p.total * (p.weights[r] ?? 0)) / sum }));
  let left = p.total;
  for (const { r, q } of quotas) {
    out[r] = Math.floor(q);
    left -= out[r];
  }
  const order = [...quotas].sort((a, b) => b.q - Math.floor(b.q) - (a.q - Math.floor(a.q)) || byName(a.r, b.r));
  for (let i = 0; left > 0; i++, left--) {
    const r = order[i % order.length]!.r;
    out[r] = (out[r] ?? 0) + 1;
  }
  return out;
}
