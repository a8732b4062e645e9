import { describe, expect, it } from 'vitest';
import { seededRandom, shuffleInPlace } from '../../../../src/master-lambda/allocator/shuffle.js';

describe('seeded shuffle', () => {
  it('is a permutation, the same for the same seed and different across seeds', () => {
    const base = Array.from({ length: 50 }, (_, i) => i);
    const a = shuffleInPlace([...base], 3);
    expect([...a].sort((x, y) => x - y)).toEqual(base);
    expect(shuffleInPlace([...base], 3)).toEqual(a);
    expect(shuffleInPlace([...base], 4)).not.toEqual(a);
    expect(a).not.toEqual(base);
  });

  it('draws floats in [0, 1) spread over the interval', () => {
    const random = seededRandom(11);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const x = random();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      buckets[Math.floor(x * 10)]!++;
    }
    for (const b of buckets) expect(b).toBeGreaterThan(800);
  });
});
