import type { GossipConfig } from './config.js';
import { isNewer, type DigestPosition } from './digest.js';
import type { PeerState } from './peer-store.js';

// Failure detection on this process's own monotonic clock: a peer's age is the time since this
// process last saw its (incarnation, seq) move forward, whether it received the digest itself
// or read it from the peer table. Peers' clocks are never read, so skew cannot matter.
//
// A process that first meets a peer (a new leader after failover) backdates the observation
// to match the state persisted in the table: a dead peer stays dead until a newer digest comes,
// instead of looking freshly alive because this process has not watched it yet.

export type LivenessConfig = Pick<GossipConfig, 'intervalMs' | 'suspectAfterMissed' | 'deadAfterMissed'>;

export function stateForAge(ageMs: number, c: LivenessConfig): PeerState {
  if (ageMs >= c.deadAfterMissed * c.intervalMs) return 'dead';
  if (ageMs >= c.suspectAfterMissed * c.intervalMs) return 'suspect';
  return 'alive';
}

function backdate(state: PeerState, c: LivenessConfig): number {
  return state === 'dead' ? c.deadAfterMissed * c.intervalMs : state === 'suspect' ? c.suspectAfterMissed * c.intervalMs : 0;
}

interface Observation {
  position: DigestPosition;
  at: number;
}

export class Membership {
  private readonly seen = new Map<string, Observation>();

  constructor(
    private readonly config: LivenessConfig,
    private readonly clock: () => number,
  ) {}

  /**
   * Notes that `region` is at `position` (persisted in `state`). Returns true when that is news:
   * a newer position than this process saw before.
   */
  observe(region: string, position: DigestPosition, state: PeerState): boolean {
    const prev = this.seen.get(region);
    const now = this.clock();
    if (!prev) {
      this.seen.set(region, { position, at: now - backdate(state, this.config) });
      return false;
    }
    if (!isNewer(position, prev.position)) return false;
    this.seen.set(region, { position, at: now });
    return true;
  }

  /** Milliseconds since the peer last moved forward, on this process's clock. */
  ageOf(region: string): number | undefined {
    const o = this.seen.get(region);
    return o ? Math.max(0, this.clock() - o.at) : undefined;
  }

  /** The state the peer's age calls for (undefined before any observation). */
  stateOf(region: string): PeerState | undefined {
    const age = this.ageOf(region);
    return age === undefined ? undefined : stateForAge(age, this.config);
  }

  forget(region: string): void {
    this.seen.delete(region);
  }
}
