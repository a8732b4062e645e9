import type { OutgoingMessage } from './transport.js';

// How a round's messages become requests: grouped by destination inbox, then cut at SQS's
// SendMessageBatch limits (10 entries, 256 KiB in total). Shared by the SQS adapter and the
// in-process one, so the benchmark's request counts are the ones SQS would see.

export const MAX_BATCH_ENTRIES = 10;
export const MAX_BATCH_BYTES = 256 * 1024;

export interface Batch {
  readonly to: string;
  readonly messages: readonly OutgoingMessage[];
  readonly bytes: number;
}

export function planBatches(messages: readonly OutgoingMessage[], maxEntries = MAX_BATCH_ENTRIES, maxBytes = MAX_BATCH_BYTES): Batch[] {
  const byPeer = new Map<string, OutgoingMessage[]>();
  for (const m of messages) {
    let l = byPeer.get(m.to);
    if (!l) byPeer.set(m.to, (l = []));
    l.push(m);
  }
  const out: Batch[] = [];
  for (const [to, list] of byPeer) {
    let cur: OutgoingMessage[] = [];
    let bytes = 0;
    for (const m of list) {
      const b = Buffer.byteLength(m.body);
      if (cur.length > 0 && (cur.length === maxEntries || bytes + b > maxBytes)) {
        out.push({ to, messages: cur, bytes });
        cur = [];
        bytes = 0;
      }
      cur.push(m);
      bytes += b;
    }
    if (cur.length) out.push({ to, messages: cur, bytes });
  }
  return out;
}
