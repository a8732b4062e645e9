import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planTargets, type PlanInput, type PlanRegion } from '../../../../src/federation/jobs/plan.js';

// The owner's plan, pure: shares, spill-over to the most room, failover of dead regions and
// hand-back with hysteresis, no churn.

const K = 3_000;
const alive = (name: string, slots?: number, extra: Partial<PlanRegion> = {}): PlanRegion => ({ name, state: 'alive', stableForMs: 60_000, ...(slots !== undefined ? { slots } : {}), ...extra });
const input = (regions: PlanRegion[], shares: Record<string, number>, previous: PlanInput['previous'] = { targets: {}, displaced: [] }): PlanInput => ({ shares, regions, previous, handBackAfterMs: K });

describe('federated job plan', () => {
  it('gives every region its share when it has room', () => {
    const p = planTargets(input([alive('a', 10), alive('b', 10), alive('c', 10)], { a: 3, b: 2 }));
    expect(p).toEqual({ targets: { a: 3, b: 2, c: 0 }, displaced: [], act: ['a', 'b', 'c'], short: 0 });
  });

  it('spills what a region cannot run to the region with the most room, one at a time', () => {
    // c fits 1 of its 5: b (room 6) takes two until it is level with a (4), the tie goes to a by name, then b.
    const p = planTargets(input([alive('a', 4), alive('b', 6), alive('c', 1)], { c: 5 }));
    expect(p.targets).toEqual({ a: 1, b: 3, c: 1 });
    const q = planTargets(input([alive('a', 1), alive('b', 9), alive('c', 0)], { a: 1, c: 4 }));
    expect(q.targets).toEqual({ a: 1, b: 4, c: 0 });
    // A region that reported instances it could not place is held at what it placed.
    const r = planTargets(input([alive('a', 10, { limit: 1 }), alive('b', 10)], { a: 3 }));
    expect(r.targets).toEqual({ a: 1, b: 2 });
  });

  it('lets instances that fit nowhere wait in their own region', () => {
    const p = planTargets(input([alive('a', 1), alive('b', 0)], { a: 3, b: 2 }));
    expect(p).toMatchObject({ targets: { a: 3, b: 2 }, short: 4 });
  });

  it('leaves a suspect region alone and moves a dead one', () => {
    const regions = [alive('a', 10), alive('b', 10), { name: 'c', state: 'suspect' as const, stableForMs: 0, slots: 10 }];
    const held = planTargets(input(regions, { a: 2, b: 2, c: 2 }, { targets: { a: 2, b: 2, c: 2 }, displaced: [] }));
    expect(held).toMatchObject({ targets: { a: 2, b: 2, c: 2 }, act: ['a', 'b'], displaced: [] });
    const dead = planTargets(input([alive('a', 10), alive('b', 10), { name: 'c', state: 'dead', stableForMs: 0 }], { a: 2, b: 2, c: 2 }, held));
    expect(dead).toMatchObject({ targets: { a: 3, b: 3, c: 0 }, displaced: ['c'], act: ['a', 'b'] });
  });

  it('hands a returning region its share back only after it stayed alive for the hysteresis', () => {
    const before = { targets: { a: 3, b: 3, c: 0 }, displaced: ['c'] };
    const early = planTargets(input([alive('a', 10), alive('b', 10), alive('c', 10, { stableForMs: K - 1 })], { a: 2, b: 2, c: 2 }, before));
    expect(early).toMatchObject({ targets: before.targets, displaced: ['c'], act: ['a', 'b'] });
    const late = planTargets(input([alive('a', 10), alive('b', 10), alive('c', 10, { stableForMs: K })], { a: 2, b: 2, c: 2 }, early));
    expect(late).toMatchObject({ targets: { a: 2, b: 2, c: 2 }, displaced: [], act: ['a', 'b', 'c'] });
    // Flapping (dead again before the hysteresis ran out) keeps it displaced throughout.
    const flap = planTargets(input([alive('a', 10), alive('b', 10), { name: 'c', state: 'dead', stableForMs: 0 }], { a: 2, b: 2, c: 2 }, early));
    expect(flap).toMatchObject({ targets: before.targets, displaced: ['c'] });
  });

  it('keeps extra instances where they went, even when another region now has more room', () => {
    const before = { targets: { a: 4, b: 2, c: 0 }, displaced: ['c'] };
    const p = planTargets(input([alive('a', 5), alive('b', 50), { name: 'c', state: 'dead', stableForMs: 0 }], { a: 2, b: 2, c: 2 }, before));
    expect(p.targets).toEqual(before.targets);
  });

  it('never loses or invents instances, and is stable: planning again changes nothing', () => {
    const region = fc.record({
      state: fc.constantFrom('alive', 'alive', 'suspect', 'dead', 'unknown'),
      slots: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
      stable: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(region, { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 5, maxLength: 5 }), (rs, counts) => {
        const regions: PlanRegion[] = rs.map((r, i) => ({ name: `r${i}`, state: r.state as PlanRegion['state'], stableForMs: r.stable ? K : 0, ...(r.slots !== undefined ? { slots: r.slots } : {}) }));
        const shares = Object.fromEntries(regions.map((r, i) => [r.name, counts[i]!]));
        const first = planTargets(input(regions, shares));
        const again = planTargets(input(regions, shares, first));
        expect(again.targets).toEqual(first.targets);
        expect(again.displaced).toEqual(first.displaced);
        const total = Object.values(shares).reduce((a, b) => a + b, 0);
        const heldElsewhere = regions.filter((r) => r.state === 'suspect' || r.state === 'unknown').reduce((n, r) => n + shares[r.name]!, 0);
        const acted = first.act.reduce((n, r) => n + first.targets[r]!, 0);
        // Every instance is asked of exactly one region, or waits for lack of any live one.
        if (first.act.length > 0) expect(acted + heldElsewhere).toBe(total);
        for (const r of first.displaced) expect(first.targets[r]).toBe(0);
      }),
    );
  });
});
