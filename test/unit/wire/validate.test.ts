import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parse, userRecord, withoutNulls } from '../../../src/wire/validate.js';

describe('withoutNulls (protobuf JSON: null is "not set")', () => {
  it('drops null-valued fields at every depth, keeps everything else', () => {
    expect(withoutNulls({ a: null, b: { c: null, d: 0, e: '', f: false }, g: [{ h: null, i: 1 }], j: [] })).toEqual({ b: { d: 0, e: '', f: false }, g: [{ i: 1 }], j: [] });
    expect(withoutNulls(null)).toBeNull();
    expect(withoutNulls('x')).toBe('x');
  });

  it('keeps null list elements, so [null] is still refused', () => {
    expect(withoutNulls({ l: [null, 1] })).toEqual({ l: [null, 1] });
  });

  it("keeps a '__proto__' key an own property, for userRecord to refuse", () => {
    const v = withoutNulls(JSON.parse('{"labels": {"__proto__": {"x": 1}, "ok": "y"}}')) as { labels: object };
    expect(Object.hasOwn(v.labels, '__proto__')).toBe(true);
    expect(() => parse(z.object({ labels: userRecord(z.string(), z.unknown()) }), v)).toThrow(/__proto__/);
  });
});
