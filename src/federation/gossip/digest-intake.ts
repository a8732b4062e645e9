import type { Logger } from '../../core/logger.js';
import { decodeDigest, type DropReason } from './digest-codec.js';
import { comparePositions, type DigestPosition, type RegionDigest } from './digest.js';
import type { PeerStore } from './peer-store.js';
import type { GossipStats } from './stats.js';

// Applying received messages to the peer table: the one path both the RegionGossip's receive
// loop and the receiver Lambda take. Invalid digests are dropped, counted and logged, never
// applied; of several digests from one peer in a batch only the newest is written; a storage
// failure leaves that message for redelivery instead of losing it.

export interface IntakeMessage {
  readonly id: string;
  readonly body: string;
}

export interface IntakeResult {
  /** Ids of messages to deliver again (storage failed); all others may be deleted. */
  readonly retry: readonly string[];
  /** Digests that moved a peer forward, in the order applied. */
  readonly applied: readonly RegionDigest[];
}

export interface DigestIntakeOptions {
  /** This region: a digest claiming to come from it is dropped. */
  readonly region: string;
  readonly store: PeerStore;
  readonly stats: GossipStats;
  readonly log: Logger;
  readonly maxDigestBytes: number;
}

export class DigestIntake {
  /** The newest position this process wrote or read per peer: anything not newer is stale without a read. */
  private readonly known = new Map<string, DigestPosition>();

  constructor(private readonly options: DigestIntakeOptions) {}

  private drop(m: IntakeMessage, reason: DropReason, detail: string): void {
    this.options.stats.dropped[reason]++;
    this.options.log.warn('gossip message dropped', { reason, detail, messageId: m.id, bytes: Buffer.byteLength(m.body) });
  }

  async process(messages: readonly IntakeMessage[]): Promise<IntakeResult> {
    const { stats, store, log } = this.options;
    const newest = new Map<string, { m: IntakeMessage; digest: RegionDigest }>();
    for (const m of messages) {
      stats.received++;
      const d = decodeDigest(m.body, this.options);
      if (!d.ok) {
        this.drop(m, d.reason, d.detail);
        continue;
      }
      if (d.digest.region === this.options.region) {
        this.drop(m, 'self', `a digest from this region (${d.digest.region}) reached its own inbox`);
        continue;
      }
      const prev = newest.get(d.digest.region);
      if (prev && comparePositions(d.digest, prev.digest) <= 0) {
        stats.superseded++;
        continue;
      }
      if (prev) stats.superseded++;
      newest.set(d.digest.region, { m, digest: d.digest });
    }
    const retry: string[] = [];
    const applied: RegionDigest[] = [];
    for (const { m, digest } of newest.values()) {
      const known = this.known.get(digest.region);
      if (known && comparePositions(digest, known) <= 0) {
        stats.stale++;
        continue;
      }
      try {
        const outcome = await store.apply(digest, m.body);
        if (outcome === 'applied') {
          stats.applied++;
          applied.push(digest);
          this.known.set(digest.region, { incarnation: digest.incarnation, seq: digest.seq });
        } else stats.stale++;
      } catch (e) {
        stats.retried++;
        retry.push(m.id);
        log.error('could not store a peer digest; it will be redelivered', { error: e, region: digest.region, messageId: m.id });
      }
    }
    return { retry, applied };
  }
}
