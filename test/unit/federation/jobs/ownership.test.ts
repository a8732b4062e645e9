import { describe, expect, it } from 'vitest';
import { beats, bestClaim, quorum, successionOrder, successor } from '../../../../src/federation/jobs/ownership.js';

describe('federated job ownership', () => {
  it('orders claims by term, then by owner name', () => {
    expect(beats({ owner: 'b', term: 2 }, { owner: 'a', term: 1 })).toBe(true);
    expect(beats({ owner: 'a', term: 1 }, { owner: 'b', term: 2 })).toBe(false);
    expect(beats({ owner: 'a', term: 2 }, { owner: 'b', term: 2 })).toBe(true);
    expect(bestClaim([{ owner: 'c', term: 3 }, { owner: 'a', term: 1 }, { owner: 'b', term: 3 }])).toEqual({ owner: 'b', term: 3 });
    expect(bestClaim([])).toBeUndefined();
  });

  it('succeeds deterministically: the home first, then the others by name, skipping the dead owner', () => {
    const regions = ['us-east-1', 'eu-west-1', 'ap-south-1'];
    expect(successionOrder('eu-west-1', regions)).toEqual(['eu-west-1', 'ap-south-1', 'us-east-1']);
    expect(successor('eu-west-1', regions, 'eu-west-1', () => true)).toBe('ap-south-1');
    expect(successor('eu-west-1', regions, 'eu-west-1', (r) => r !== 'ap-south-1')).toBe('us-east-1');
    // The owner is a successor; the home is alive again: the home comes first.
    expect(successor('eu-west-1', regions, 'ap-south-1', () => true)).toBe('eu-west-1');
    expect(successor('eu-west-1', regions, 'eu-west-1', () => false)).toBeUndefined();
  });

  it('needs a majority, except between two regions', () => {
    expect([1, 2, 3, 4, 5, 6].map(quorum)).toEqual([1, 1, 2, 3, 3, 4]);
  });
});
