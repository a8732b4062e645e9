import { describe, expect, it } from 'vitest';
import { offerInterestCall, type OfferInterest } from '../../../src/jobs/offer-interest.js';

// When the jobs framework asks for offers (REVIVE) and when it says it needs none (SUPPRESS).

const slots = (...keys: string[]): ReadonlySet<string> => new Set(keys);

function state(over: Partial<OfferInterest> = {}): OfferInterest {
  return { suppressed: false, declinedSinceRevive: false, lastLaunchable: slots(), ...over };
}

describe('offerInterestCall', () => {
  it('revives when slots wait and the master may hold offers back', () => {
    expect(offerInterestCall(slots('web/0'), state({ suppressed: true }))).toBe('revive');
    expect(offerInterestCall(slots('web/0'), state({ suppressed: undefined }))).toBe('revive');
    expect(offerInterestCall(slots('web/0'), state({ suppressed: false }))).toBeUndefined();
  });

  it('revives again only when new slots wait after a decline', () => {
    const waited = state({ lastLaunchable: slots('web/0') });
    expect(offerInterestCall(slots('web/0'), { ...waited, declinedSinceRevive: true })).toBeUndefined();
    expect(offerInterestCall(slots('web/0', 'web/1'), { ...waited, declinedSinceRevive: true })).toBe('revive');
    expect(offerInterestCall(slots('web/0', 'web/1'), waited)).toBeUndefined();
  });

  it('suppresses when nothing waits, once', () => {
    expect(offerInterestCall(slots(), state({ suppressed: false }))).toBe('suppress');
    expect(offerInterestCall(slots(), state({ suppressed: undefined }))).toBe('suppress');
    expect(offerInterestCall(slots(), state({ suppressed: true, declinedSinceRevive: true }))).toBeUndefined();
  });
});
