import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../src/core/errors.js';
import { dominantShare, EMPTY, resources, type Resources } from '../../../../src/core/resources.js';
import { DrfSorter, type DrfClient } from '../../../../src/master-lambda/allocator/drf-sorter.js';

const TOTAL = resources({ cpus: 10, mem: 1000, disk: 100 });

describe('DrfSorter', () => {
  it('orders clients by dominant share, lowest first', () => {
    const s = new DrfSorter(TOTAL, [
      { name: 'a', allocated: resources({ cpus: 5 }) }, // 0.5 (cpus)
      { name: 'b', allocated: resources({ cpus: 1, mem: 300 }) }, // 0.3 (mem)
      { name: 'c' }, // 0
      { name: 'd', allocated: resources({ disk: 40, mem: 100 }) }, // 0.4 (disk)
    ]);
    expect(s.sort()).toEqual(['c', 'b', 'd', 'a']);
    expect(s.share(1)).toBeCloseTo(0.3, 12);
  });

  it('divides the share by the weight', () => {
    const s = new DrfSorter(TOTAL, [
      { name: 'heavy', weight: 3, allocated: resources({ cpus: 6 }) }, // 0.6 / 3 = 0.2
      { name: 'light', weight: 1, allocated: resources({ cpus: 3 }) }, // 0.3
    ]);
    expect(s.sort()).toEqual(['heavy', 'light']);
    expect(s.share(0)).toBeCloseTo(0.2, 12);
  });

  it('breaks ties by name, whatever the order clients were given in', () => {
    const names = ['m', 'b', 'z', 'a', 'q'];
    const s = new DrfSorter(TOTAL, names.map((name) => ({ name })));
    expect(s.sort()).toEqual(['a', 'b', 'm', 'q', 'z']);
    expect(s.first(() => true)).toBe(3); // 'a'
  });

  it('leaves out scalars the cluster has none of', () => {
    const s = new DrfSorter(resources({ cpus: 10, mem: 1000 }), [
      { name: 'a', allocated: resources({ cpus: 1, network: 500 }) }, // network not in the total: 0.1
      { name: 'b', allocated: resources({ mem: 200 }) }, // 0.2
    ]);
    expect(s.sort()).toEqual(['a', 'b']);
    expect(s.share(0)).toBe(0.1);
  });

  it('re-sorts one client when its allocation changes', () => {
    const s = new DrfSorter(TOTAL, [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    s.allocated(0, resources({ cpus: 2 }));
    expect(s.sort()).toEqual(['b', 'c', 'a']);
    s.allocated(1, resources({ mem: 500 }));
    expect(s.sort()).toEqual(['c', 'a', 'b']);
    s.unallocated(1, resources({ mem: 500 }));
    expect(s.sort()).toEqual(['b', 'c', 'a']);
    expect(s.allocation(1)).toEqual(EMPTY);
    // Giving back more than held stops at zero.
    s.unallocated(0, resources({ cpus: 5 }));
    expect(s.allocation(0).cpus).toBe(0);
    expect(s.sort()).toEqual(['a', 'b', 'c']);
  });

  it('deactivated clients leave the order but keep their allocation', () => {
    const s = new DrfSorter(TOTAL, [
      { name: 'a' },
      { name: 'b', allocated: resources({ cpus: 1 }) },
      { name: 'c', active: false },
    ]);
    expect(s.sort()).toEqual(['a', 'b']);
    expect(s.activeCount).toBe(2);
    s.deactivate(0);
    s.allocated(0, resources({ cpus: 5 }));
    expect(s.sort()).toEqual(['b']);
    expect(s.isActive(0)).toBe(false);
    s.activate(2);
    s.activate(0);
    expect(s.sort()).toEqual(['c', 'b', 'a']);
    expect(s.size).toBe(3);
    expect(s.name(2)).toBe('c');
  });

  it('first() finds the lowest-share client a predicate accepts, or -1', () => {
    const s = new DrfSorter(
      TOTAL,
      ['a', 'b', 'c', 'd', 'e'].map((name, i) => ({ name, allocated: resources({ cpus: 5 - i }) })),
    );
    expect(s.sort()).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(s.name(s.first((c) => s.name(c) < 'd'))).toBe('c');
    expect(s.first(() => false)).toBe(-1);
    expect(new DrfSorter(TOTAL, []).first(() => true)).toBe(-1);
  });

  it('rejects a weight that is not positive', () => {
    expect(() => new DrfSorter(TOTAL, [{ name: 'a', weight: 0 }])).toThrow(ValidationError);
    expect(() => new DrfSorter(TOTAL, [{ name: 'a', weight: Number.NaN }])).toThrow(ValidationError);
  });

  // Any sequence of updates keeps the heap's order equal to sorting every client from
  // scratch by (dominantShare / weight, name), and first() equals the first match of it.
  it('matches a full sort after any sequence of updates (property)', () => {
    const scalars = fc.record({
      cpus: fc.integer({ min: 0, max: 10_000 }),
      mem: fc.integer({ min: 0, max: 1000 }),
      disk: fc.integer({ min: 0, max: 100 }),
      network: fc.constant(0),
      ports: fc.constant([]),
    });
    const op = fc.oneof(
      fc.record({ kind: fc.constant('allocated' as const), client: fc.nat(), r: scalars }),
      fc.record({ kind: fc.constant('unallocated' as const), client: fc.nat(), r: scalars }),
      fc.record({ kind: fc.constant('deactivate' as const), client: fc.nat() }),
      fc.record({ kind: fc.constant('activate' as const), client: fc.nat() }),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 25 }),
        fc.array(fc.constantFrom(1, 0.5, 2, 3), { minLength: 25, maxLength: 25 }),
        fc.array(op, { maxLength: 60 }),
        fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
        (names, weights, ops, accepted) => {
          const clients: DrfClient[] = names.map((name, i) => ({ name, weight: weights[i]! }));
          const s = new DrfSorter(TOTAL, clients);
          const held: Resources[] = names.map(() => EMPTY);
          const active = names.map(() => true);
          for (const o of ops) {
            const c = o.client % names.length;
            if (o.kind === 'allocated') {
              s.allocated(c, o.r);
              held[c] = { ...held[c]!, cpus: held[c]!.cpus + o.r.cpus, mem: held[c]!.mem + o.r.mem, disk: held[c]!.disk + o.r.disk };
            } else if (o.kind === 'unallocated') {
              s.unallocated(c, o.r);
              const h = held[c]!;
              held[c] = { ...h, cpus: Math.max(0, h.cpus - o.r.cpus), mem: Math.max(0, h.mem - o.r.mem), disk: Math.max(0, h.disk - o.r.disk) };
            } else if (o.kind === 'deactivate') {
              s.deactivate(c);
              active[c] = false;
            } else {
              s.activate(c);
              active[c] = true;
            }
          }
          const key = (i: number): number => dominantShare(held[i]!, TOTAL) / weights[i]!;
          const expected = names
            .map((_, i) => i)
            .filter((i) => active[i])
            .sort((a, b) => key(a) - key(b) || (names[a]! < names[b]! ? -1 : 1));
          expect(s.sort()).toEqual(expected.map((i) => names[i]));
          expected.forEach((i) => expect(s.share(i)).toBe(key(i)));
          const match = expected.find((i) => accepted[i]) ?? -1;
          expect(s.first((c) => accepted[c]!)).toBe(match);
        },
      ),
      { numRuns: 300 },
    );
  });
});
