import { describe, expect, it } from 'vitest';
import { DEFAULT_GOSSIP_CONFIG } from '../../../../src/federation/gossip/config.js';
import { buildDigest, regionCapacity } from '../../../../src/federation/gossip/digest-builder.js';
import { MAX_JOBS_PER_DIGEST, type FederatedJobSummary } from '../../../../src/federation/gossip/digest.js';
import type { PeerDigest } from '../../../../src/federation/gossip/region-gossip.js';
import type { ChildStatus } from '../../../../src/federation/jobs/local-children.js';
import { childOf, regionStates, type RoundView } from '../../../../src/federation/jobs/round-view.js';
import { fleet } from '../../../support/federation-fixtures.js';

// What a round of the federated jobs controller decides on, from peers' digests and this
// region's own children: pure, so each rule is checked on its own here.

const summary = (jobId: string, extra: Partial<FederatedJobSummary> = {}): FederatedJobSummary => ({ jobId, home: 'a', owner: 'a', ownerTerm: 1, wanted: 2, running: 2, healthy: 2, ...extra });

function peer(name: string, jobs: FederatedJobSummary[], agents = 2): PeerDigest {
  const digest = buildDigest({ region: name, incarnation: 1, seq: 1, ...fleet(name, { agents }), jobs }, DEFAULT_GOSSIP_CONFIG);
  return { name, state: 'alive', incarnation: 1, seq: 1, ageMs: 0, aliveForMs: 5_000, digest };
}

const child: ChildStatus = { id: 'web', home: 'a', wanted: 3, running: 2, healthy: 2, pending: 1, unplaceable: 0, specHash: 'h1', deleting: false };
const capacity = regionCapacity(fleet('a', { agents: 3 }).agents);

function view(regions: RoundView['regions'], children: RoundView['children']): RoundView {
  return { self: 'a', now: 0, wall: 0, warm: true, quorate: true, regions, children, reserved: new Map(), epoch: undefined };
}

describe('a round view of the regions', () => {
  it('puts this region first, alive for good, its children reported like a peer summary', () => {
    const states = regionStates('a', ['b', 'c'], [peer('c', []), peer('b', [])], capacity, new Map([['web', child]]), true);
    expect([...states.keys()]).toEqual(['a', 'b', 'c']);
    const self = states.get('a')!;
    expect(self).toMatchObject({ state: 'alive', stableForMs: Infinity, capacity, complete: true });
    expect(self.jobs.get('web')).toEqual({ jobId: 'web', home: 'a', owner: 'a', ownerTerm: 0, wanted: 3, running: 2, healthy: 2, pending: 1, unplaceable: 0, specHash: 'h1' });
    expect(states.get('b')).toMatchObject({ state: 'alive', stableForMs: 5_000, complete: true, capacity: peer('b', []).digest.capacity.region });
  });

  it('counts a peer never heard from unknown during the warm-up and dead after it', () => {
    expect(regionStates('a', ['b'], [], capacity, new Map(), false).get('b')).toMatchObject({ state: 'unknown', stableForMs: 0, complete: false });
    expect(regionStates('a', ['b'], [], capacity, new Map(), true).get('b')).toMatchObject({ state: 'dead', stableForMs: 0, complete: false });
  });

  it('has an unhealthy peer not stable yet, and a full job list possibly incomplete', () => {
    const full = Array.from({ length: MAX_JOBS_PER_DIGEST }, (_, i) => summary(`j${i}`));
    const states = regionStates('a', ['b', 'c'], [peer('b', [], 0), peer('c', full)], capacity, new Map(), true);
    expect(states.get('b')).toMatchObject({ state: 'alive', stableForMs: 0, complete: true });
    expect(states.get('c')).toMatchObject({ stableForMs: 5_000, complete: false });
  });

  it("reads a region's child: this region's from its store, a peer's from a summary with a spec hash (one without is a replica only)", () => {
    const states = regionStates('a', ['b', 'c'], [peer('b', [summary('web', { specHash: 'h0', wanted: 1 })]), peer('c', [summary('web')])], capacity, new Map([['web', child]]), true);
    const v = view(states, new Map([['web', child]]));
    expect(childOf(v, 'a', 'web')).toEqual({ wanted: 3, running: 2, healthy: 2, pending: 1, unplaceable: 0, specHash: 'h1' });
    expect(childOf(v, 'b', 'web')).toMatchObject({ wanted: 1, specHash: 'h0' });
    expect(childOf(v, 'c', 'web')).toBeUndefined();
    expect(childOf(v, 'a', 'other')).toBeUndefined();
  });
});
