import { DROP_REASONS, type DropReason } from './digest-codec.js';

// Counters of one RegionGossip (or receiver Lambda container), for tests, the benchmark and logs.

export class GossipStats {
  rounds = 0;
  /** Digests handed to the transport, the transport requests they took, and their bytes. */
  sentMessages = 0;
  sendRequests = 0;
  sentBytes = 0;
  sendFailures = 0;
  received = 0;
  applied = 0;
  /** Not newer than what the table held: duplicates, reordered or delayed copies. */
  stale = 0;
  /** Older copies from the same peer in one batch, skipped in favour of the newest. */
  superseded = 0;
  /** Messages left for redelivery after a storage error. */
  retried = 0;
  transitions = 0;
  readonly dropped: Record<DropReason, number> = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;

  get droppedTotal(): number {
    return Object.values(this.dropped).reduce((a, b) => a + b, 0);
  }

  snapshot(): Record<string, number | Record<string, number>> {
    return {
      rounds: this.rounds,
      sentMessages: this.sentMessages,
      sendRequests: this.sendRequests,
      sentBytes: this.sentBytes,
      sendFailures: this.sendFailures,
      received: this.received,
      applied: this.applied,
      stale: this.stale,
      superseded: this.superseded,
      retried: this.retried,
      transitions: this.transitions,
      dropped: { ...this.dropped },
    };
  }
}
