import type { GossipTransport, IncomingMessage, OutgoingMessage, ReceiveOptions, SendResult } from '../../src/federation/gossip/transport.js';

// A GossipTransport wrapper that misbehaves like an SQS standard queue at its worst: it
// duplicates messages, reorders them, and holds some back for a number of later sends
// (delay). Seeded, so a failing schedule can be replayed.

export interface ChaosOptions {
  readonly seed: number;
  /** Chance that a message is sent twice. */
  readonly duplicate?: number;
  /** Chance that a message is held back... */
  readonly delay?: number;
  /** ...for 1 to this many later `send` calls. */
  readonly maxDelaySends?: number;
  /** Shuffle each send's messages (with released delayed ones). */
  readonly reorder?: boolean;
  /** Also hand received batches back in shuffled order, some messages twice. */
  readonly chaoticReceive?: boolean;
}

/** mulberry32: a small seeded PRNG. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class ChaosTransport implements GossipTransport {
  readonly region: string;
  private readonly rnd: () => number;
  private held: { m: OutgoingMessage; sendsLeft: number }[] = [];
  readonly counts = { duplicated: 0, delayed: 0, reordered: 0 };

  constructor(
    private readonly inner: GossipTransport,
    private readonly options: ChaosOptions,
  ) {
    this.region = inner.region;
    this.rnd = seeded(options.seed);
  }

  private shuffle<T>(list: T[]): T[] {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(this.rnd() * (i + 1));
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    return list;
  }

  async send(messages: readonly OutgoingMessage[]): Promise<SendResult> {
    const out: OutgoingMessage[] = [];
    const stillHeld: typeof this.held = [];
    for (const h of this.held) {
      if (--h.sendsLeft <= 0) out.push(h.m);
      else stillHeld.push(h);
    }
    this.held = stillHeld;
    for (const m of messages) {
      const copies = this.rnd() < (this.options.duplicate ?? 0) ? 2 : 1;
      if (copies === 2) this.counts.duplicated++;
      for (let c = 0; c < copies; c++) {
        if (this.rnd() < (this.options.delay ?? 0)) {
          this.counts.delayed++;
          this.held.push({ m, sendsLeft: 1 + Math.floor(this.rnd() * (this.options.maxDelaySends ?? 3)) });
        } else out.push(m);
      }
    }
    if (this.options.reorder && out.length > 1) {
      this.counts.reordered++;
      this.shuffle(out);
    }
    const r = await this.inner.send(out);
    return { ...r, messages: messages.length };
  }

  /** Sends everything still held back. */
  async flush(): Promise<void> {
    const all = this.held.map((h) => h.m);
    this.held = [];
    if (all.length) await this.inner.send(this.options.reorder ? this.shuffle(all) : all);
  }

  async receive(options: ReceiveOptions): Promise<IncomingMessage[]> {
    const got = await this.inner.receive(options);
    if (!this.options.chaoticReceive) return got;
    const extra = got.filter(() => this.rnd() < (this.options.duplicate ?? 0));
    return this.shuffle([...got, ...extra]);
  }

  async ack(messages: readonly IncomingMessage[]): Promise<void> {
    const unique = [...new Map(messages.map((m) => [m.handle, m])).values()];
    await this.inner.ack(unique);
  }
}
