import { MAX_JOBS_PER_DIGEST, type CapacityBucket, type FederatedJobSummary, type RegionDigest, type Scalars } from '../gossip/digest.js';
import type { PeerDigest } from '../gossip/region-gossip.js';
import type { ChildStatus } from './local-children.js';
import type { RegionLiveness } from './plan.js';
import type { ReportedChild } from './views.js';

// What one round of the federated jobs controller decides on: every region's liveness,
// capacity and reported children (the peers' from their latest digests, this region's from its
// own store), read once at the start of the round and shared by the owner's and the
// follower's parts.

export interface RegionState {
  readonly name: string;
  readonly state: RegionLiveness;
  readonly stableForMs: number;
  readonly capacity?: CapacityBucket;
  readonly digest?: RegionDigest;
  readonly jobs: ReadonlyMap<string, FederatedJobSummary>;
  /** False when the region's digest may leave jobs out (a full list). */
  readonly complete: boolean;
}

export interface RoundView {
  /** This region. */
  readonly self: string;
  readonly now: number;
  readonly wall: number;
  readonly warm: boolean;
  readonly quorate: boolean;
  readonly regions: ReadonlyMap<string, RegionState>;
  readonly children: ReadonlyMap<string, ChildStatus>;
  /** Resources planned this round and not yet placed, per region: later jobs plan around them. */
  readonly reserved: Map<string, Scalars>;
  readonly epoch: number | undefined;
}

/** A stored child reports itself like a peer's summary does. */
function reported(c: ChildStatus): ReportedChild {
  return { wanted: c.wanted, running: c.running, healthy: c.healthy, pending: c.pending, unplaceable: c.unplaceable, specHash: c.specHash };
}

/** Every region as this round sees it, this one first. */
export function regionStates(
  self: string,
  peerNames: readonly string[],
  peers: readonly PeerDigest[],
  capacity: CapacityBucket,
  children: ReadonlyMap<string, ChildStatus>,
  warm: boolean,
): Map<string, RegionState> {
  const out = new Map<string, RegionState>();
  const own = new Map<string, FederatedJobSummary>();
  for (const c of children.values()) own.set(c.id, { jobId: c.id, home: self, owner: self, ownerTerm: 0, ...reported(c) });
  out.set(self, { name: self, state: 'alive', stableForMs: Infinity, capacity, jobs: own, complete: true });
  const byPeer = new Map(peers.map((p) => [p.name, p]));
  for (const name of peerNames) {
    const p = byPeer.get(name);
    if (!p) {
      // Never heard from: after the warm-up, as good as dead.
      out.set(name, { name, state: warm ? 'dead' : 'unknown', stableForMs: 0, jobs: new Map(), complete: false });
      continue;
    }
    out.set(name, {
      name,
      state: p.state,
      stableForMs: p.digest.health.status === 'unhealthy' ? 0 : p.aliveForMs,
      capacity: p.digest.capacity.region,
      digest: p.digest,
      jobs: new Map(p.digest.jobs.map((j) => [j.jobId, j])),
      complete: p.digest.jobs.length < MAX_JOBS_PER_DIGEST,
    });
  }
  return out;
}

/** A region's child of job `id` as reported (this region's from its store); undefined when it has none. */
export function childOf(view: RoundView, region: string, id: string): ReportedChild | undefined {
  if (region === view.self) {
    const c = view.children.get(id);
    return c ? reported(c) : undefined;
  }
  const s = view.regions.get(region)?.jobs.get(id);
  // A summary without a spec hash is a replica only: the region has no child.
  return s?.specHash !== undefined ? s : undefined;
}
