import { planBatches } from './batching.js';
import type { GossipTransport, IncomingMessage, OutgoingMessage, ReceiveOptions, SendResult } from './transport.js';

// Gossip between regions of one process (`stratus dev --regions a,b,c`, tests, the benchmark):
// one inbox per region, with the SQS semantics that matter here: a received message is hidden
// until acknowledged, and comes back (receive count + 1) if not acknowledged in time.

interface Queued {
  readonly id: string;
  readonly body: string;
  receiveCount: number;
  /** While in flight: when it becomes visible again. */
  visibleAt: number;
}

class Inbox {
  readonly queue: Queued[] = [];
  readonly inFlight = new Map<string, Queued>();
  readonly waiters = new Set<() => void>();

  wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

export interface InProcessNetworkOptions {
  /** How long a received, unacknowledged message stays hidden (SQS's visibility timeout). */
  readonly visibilityMs?: number;
  readonly clock?: () => number;
}

export class InProcessGossipNetwork {
  private readonly inboxes = new Map<string, Inbox>();
  private nextId = 0;
  private readonly visibilityMs: number;
  private readonly clock: () => number;
  /** Every send, for the benchmark: messages and bytes. */
  readonly totals = { messages: 0, bytes: 0, undeliverable: 0 };

  constructor(options: InProcessNetworkOptions = {}) {
    this.visibilityMs = options.visibilityMs ?? 30_000;
    this.clock = options.clock ?? (() => performance.now());
  }

  private inbox(region: string): Inbox {
    let i = this.inboxes.get(region);
    if (!i) this.inboxes.set(region, (i = new Inbox()));
    return i;
  }

  /** The transport of one region; its inbox exists from now on. */
  transport(region: string): GossipTransport {
    this.inbox(region);
    return new InProcessTransport(region, this);
  }

  /** Messages waiting in (not in flight from) a region's inbox. */
  depth(region: string): number {
    return this.inboxes.get(region)?.queue.length ?? 0;
  }

  deliver(m: OutgoingMessage): boolean {
    const inbox = this.inboxes.get(m.to);
    this.totals.messages++;
    this.totals.bytes += Buffer.byteLength(m.body);
    if (!inbox) {
      this.totals.undeliverable++;
      return false;
    }
    inbox.queue.push({ id: `m${++this.nextId}`, body: m.body, receiveCount: 0, visibleAt: 0 });
    inbox.wake();
    return true;
  }

  take(region: string, max: number): IncomingMessage[] {
    const inbox = this.inbox(region);
    const now = this.clock();
    for (const [id, m] of inbox.inFlight) {
      if (m.visibleAt > now) continue;
      inbox.inFlight.delete(id);
      inbox.queue.push(m);
    }
    const batch = inbox.queue.splice(0, max);
    for (const m of batch) {
      m.receiveCount++;
      m.visibleAt = now + this.visibilityMs;
      inbox.inFlight.set(m.id, m);
    }
    return batch.map((m) => ({ id: m.id, body: m.body, handle: m.id, receiveCount: m.receiveCount }));
  }

  async wait(region: string, ms: number, signal?: AbortSignal): Promise<void> {
    const inbox = this.inbox(region);
    if (inbox.queue.length > 0 || ms <= 0 || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        inbox.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      inbox.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  acknowledge(region: string, handles: readonly string[]): void {
    const inbox = this.inbox(region);
    for (const h of handles) inbox.inFlight.delete(h);
  }
}

class InProcessTransport implements GossipTransport {
  constructor(
    readonly region: string,
    private readonly network: InProcessGossipNetwork,
  ) {}

  async send(messages: readonly OutgoingMessage[]): Promise<SendResult> {
    const failed: { to: string; error: string }[] = [];
    let bytes = 0;
    for (const m of messages) {
      bytes += Buffer.byteLength(m.body);
      if (!this.network.deliver(m)) failed.push({ to: m.to, error: `no inbox for region ${m.to}` });
    }
    // Counted as the SQS adapter would batch them, so both adapters report comparable requests.
    return { messages: messages.length, requests: planBatches(messages).length, bytes, failed };
  }

  async receive(options: ReceiveOptions): Promise<IncomingMessage[]> {
    let got = this.network.take(this.region, options.maxMessages);
    if (got.length === 0) {
      await this.network.wait(this.region, options.waitMs, options.signal);
      got = this.network.take(this.region, options.maxMessages);
    }
    return got;
  }

  async ack(messages: readonly IncomingMessage[]): Promise<void> {
    this.network.acknowledge(this.region, messages.map((m) => m.handle));
  }
}
