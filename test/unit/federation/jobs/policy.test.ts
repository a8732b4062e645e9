import { describe, expect, it } from 'vitest';
import { baseShares, parsePolicy, policyTotal } from '../../../../src/federation/jobs/policy.js';

// Region policies: explicit counts, or a total spread by weights (largest remainder, ties by
// region name); every refusal names the field.

const REGIONS = ['eu-west-1', 'us-east-1', 'ap-south-1'];

function refusal(value: unknown): { field?: string; message: string } {
  try {
    parsePolicy(value, REGIONS);
  } catch (e) {
    return { field: (e as { field?: string }).field, message: (e as Error).message };
  }
  throw new Error('accepted');
}

describe('region policy', () => {
  it('takes counts as given and apportions weights by largest remainder', () => {
    expect(baseShares(parsePolicy({ counts: { 'eu-west-1': 3, 'us-east-1': 2 } }, REGIONS))).toEqual({ 'eu-west-1': 3, 'us-east-1': 2 });
    const w = parsePolicy({ weights: { 'eu-west-1': 1, 'us-east-1': 2 }, total: 7 }, REGIONS);
    expect(baseShares(w)).toEqual({ 'eu-west-1': 2, 'us-east-1': 5 });
    expect(policyTotal(w)).toBe(7);
    // Equal remainders: the region first by name gets the extra instance.
    expect(baseShares(parsePolicy({ weights: { 'us-east-1': 1, 'eu-west-1': 1, 'ap-south-1': 1 }, total: 4 }, REGIONS))).toEqual({ 'ap-south-1': 2, 'eu-west-1': 1, 'us-east-1': 1 });
    expect(baseShares(parsePolicy({ weights: { 'eu-west-1': 0, 'us-east-1': 0 }, total: 0 }, REGIONS))).toEqual({ 'eu-west-1': 0, 'us-east-1': 0 });
  });

  it('always apportions exactly the total', () => {
    for (let total = 0; total <= 50; total++) {
      const shares = baseShares({ weights: { a: 0.3, b: 1.7, c: 5, d: 0 }, total });
      expect(Object.values(shares).reduce((x, y) => x + y, 0)).toBe(total);
      expect(shares.d).toBe(0);
    }
  });

  it('refuses bad policies, naming the field', () => {
    expect(refusal({ counts: { 'mars-1': 2 } })).toMatchObject({ field: 'policy.counts.mars-1', message: expect.stringContaining("region 'mars-1' is not in this federation") });
    expect(refusal({ counts: { 'eu-west-1': -1 } })).toMatchObject({ field: 'policy.counts.eu-west-1', message: expect.stringContaining('must not be negative') });
    expect(refusal({ weights: { 'us-east-1': -2 }, total: 3 })).toMatchObject({ field: 'policy.weights.us-east-1' });
    expect(refusal({ weights: { 'pluto-9': 1 }, total: 3 })).toMatchObject({ field: 'policy.weights.pluto-9' });
    expect(refusal({ counts: { 'eu-west-1': 1.5 } })).toMatchObject({ field: 'policy.counts.eu-west-1', message: expect.stringContaining('whole number') });
    expect(refusal({ counts: { 'bad name!': 1 } })).toMatchObject({ field: 'policy.counts.bad name!' });
    expect(refusal({ weights: { 'eu-west-1': 1 } })).toMatchObject({ field: 'policy.total' });
    expect(refusal({ weights: { 'eu-west-1': 1 }, total: -1 })).toMatchObject({ field: 'policy.total' });
    expect(refusal({ counts: { 'eu-west-1': 1 }, total: 4 })).toMatchObject({ field: 'policy.total' });
    expect(refusal({ counts: { 'eu-west-1': 1 }, weights: { 'eu-west-1': 1 }, total: 1 })).toMatchObject({ field: 'policy.weights' });
    expect(refusal({})).toMatchObject({ field: 'policy.counts' });
    expect(refusal({ counts: {} })).toMatchObject({ field: 'policy.counts' });
    expect(refusal({ weights: { 'eu-west-1': 0 }, total: 2 })).toMatchObject({ field: 'policy.weights' });
    expect(refusal({ counts: { 'eu-west-1': 600, 'us-east-1': 600 } })).toMatchObject({ field: 'policy.counts' });
    expect(refusal({ spread: 'even' })).toMatchObject({ field: 'policy.spread', message: "unknown field 'policy.spread'" });
    expect(refusal([1])).toMatchObject({ field: 'policy' });
  });
});
