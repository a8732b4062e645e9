import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InsufficientResourcesError, ValidationError } from '../../../src/core/errors.js';
import {
  add,
  contains,
  countPorts,
  dominantShare,
  EMPTY,
  equals,
  isEmpty,
  normalizeRanges,
  resources,
  subtract,
  takePorts,
  type PortRange,
  type Resources,
} from '../../../src/core/resources.js';

const rangeArb = fc
  .tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 200 }))
  .map(([b, len]): PortRange => ({ begin: b, end: Math.min(65535, b + len) }));

const resArb: fc.Arbitrary<Resources> = fc
  .record({
    cpus: fc.integer({ min: 0, max: 64_000 }),
    mem: fc.integer({ min: 0, max: 1 << 20 }),
    disk: fc.integer({ min: 0, max: 1 << 20 }),
    network: fc.integer({ min: 0, max: 10_000 }),
    ports: fc.array(rangeArb, { maxLength: 4 }),
  })
  .map((r) => ({ ...r, ports: normalizeRanges(r.ports) }));

describe('Resources', () => {
  it('takes 0.1 CPU ten times from 1 CPU and leaves exactly 0', () => {
    let r = resources({ cpus: 1 });
    const tenth = resources({ cpus: 0.1 });
    for (let i = 0; i < 10; i++) r = subtract(r, tenth);
    expect(r.cpus).toBe(0);
    expect(isEmpty(r)).toBe(true);
    expect(() => subtract(r, tenth)).toThrow(InsufficientResourcesError);
  });

  it('stores CPUs in thousandths and memory in whole MiB', () => {
    const r = resources({ cpus: 0.333, mem: 64, disk: 10 });
    expect(r).toEqual({ cpus: 333, mem: 64, disk: 10, network: 0, ports: [] });
  });

  it('refuses negative, NaN, infinite and huge values naming the field', () => {
    expect(() => resources({ cpus: -1 })).toThrow(/resources.cpus must not be negative/);
    expect(() => resources({ mem: Number.NaN })).toThrow(/resources.mem must be a finite number/);
    expect(() => resources({ disk: Infinity })).toThrow(ValidationError);
    expect(() => resources({ cpus: 1e9 })).toThrow(/too large/);
    expect(() => resources({ ports: [{ begin: 10, end: 5 }] })).toThrow(/begin must not exceed end/);
    expect(() => resources({ ports: [{ begin: 1, end: 70000 }] })).toThrow(/resources.ports\[0\].end/);
    try {
      resources({ mem: -5 }, 'task.resources');
    } catch (e) {
      expect((e as ValidationError).field).toBe('task.resources.mem');
    }
  });

  it('merges port ranges and takes the lowest free ports', () => {
    const r = resources({ ports: [{ begin: 31005, end: 31010 }, { begin: 31000, end: 31004 }, { begin: 32000, end: 32000 }] });
    expect(r.ports).toEqual([{ begin: 31000, end: 31010 }, { begin: 32000, end: 32000 }]);
    expect(takePorts(r.ports, 12)).toEqual([{ begin: 31000, end: 31010 }, { begin: 32000, end: 32000 }]);
    expect(takePorts(r.ports, 13)).toBeUndefined();
    const used = resources({ ports: [{ begin: 31003, end: 31004 }] });
    expect(subtract(r, used).ports).toEqual([
      { begin: 31000, end: 31002 },
      { begin: 31005, end: 31010 },
      { begin: 32000, end: 32000 },
    ]);
  });

  it('computes the dominant share over the resources the cluster has', () => {
    const total = resources({ cpus: 10, mem: 1000 });
    expect(dominantShare(resources({ cpus: 1, mem: 500 }), total)).toBe(0.5);
    expect(dominantShare(resources({ cpus: 5, mem: 100 }), total)).toBe(0.5);
    expect(dominantShare(resources({ cpus: 1, disk: 100 }), total)).toBe(0.1); // no disk in total: ignored
    expect(dominantShare(EMPTY, EMPTY)).toBe(0);
  });

  describe('properties', () => {
    it('(a + b) - b = a', () => {
      fc.assert(fc.property(resArb, resArb, (a, b) => equals(subtract(add(a, b), b), a) || hasOverlap(a, b)));
    });
    it('a + b contains both a and b; addition commutes', () => {
      fc.assert(fc.property(resArb, resArb, (a, b) => contains(add(a, b), a) && contains(add(a, b), b) && equals(add(a, b), add(b, a))));
    });
    it('subtract never goes negative: either it throws or the result plus b covers a', () => {
      fc.assert(
        fc.property(resArb, resArb, (a, b) => {
          if (!contains(a, b)) {
            expect(() => subtract(a, b)).toThrow(InsufficientResourcesError);
            return true;
          }
          const d = subtract(a, b);
          return d.cpus >= 0 && d.mem >= 0 && d.disk >= 0 && d.network >= 0 && equals(add(d, b), a);
        }),
      );
    });
    it('repeated fractional subtraction has no drift', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 50 }), (milli, n) => {
          const part = resources({ cpus: milli / 1000 });
          let r = resources({ cpus: (milli * n) / 1000 });
          for (let i = 0; i < n; i++) r = subtract(r, part);
          return r.cpus === 0;
        }),
      );
    });
    it('port counts add up and ranges stay normalized', () => {
      fc.assert(
        fc.property(fc.array(rangeArb, { maxLength: 6 }), (rs) => {
          const n = normalizeRanges(rs);
          for (let i = 1; i < n.length; i++) if (n[i]!.begin <= n[i - 1]!.end + 1) return false;
          const covered = new Set<number>();
          for (const r of rs) for (let p = r.begin; p <= r.end; p++) covered.add(p);
          return countPorts(n) === covered.size;
        }),
      );
    });
    it('dominant share is within [0, 1] for anything a total contains', () => {
      fc.assert(
        fc.property(resArb, resArb, (a, b) => {
          const s = dominantShare(a, add(a, b));
          return s >= 0 && s <= 1;
        }),
      );
    });
  });
});

function hasOverlap(a: Resources, b: Resources): boolean {
  // Port sets are sets: adding overlapping ranges then subtracting removes the overlap from a too.
  return a.ports.some((x) => b.ports.some((y) => x.begin <= y.end && y.begin <= x.end));
}
