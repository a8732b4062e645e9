import type { FederatedJobView } from '../../src/federation/jobs/views.js';
import type { GossipTransport, IncomingMessage, OutgoingMessage, ReceiveOptions, SendResult } from '../../src/federation/gossip/transport.js';
import { childName } from '../../src/federation/jobs/child-job.js';
import type { Master } from '../../src/master-lambda/master.js';
import { waitUntil } from './wait.js';

// Helpers for federated jobs on real regions (masters, jobs frameworks, simulated agents):
// a transport switch that cuts a region off (no sends, no receives), and counts of RUNNING
// tasks of a federated job per region, from each master's own tasks.

/** Wraps a region's transport; `cut` drops what it sends and hides its inbox until `restore`. */
export class CutTransport implements GossipTransport {
  readonly region: string;
  cut = false;
  dropped = 0;

  constructor(private readonly inner: GossipTransport) {
    this.region = inner.region;
  }

  async send(messages: readonly OutgoingMessage[]): Promise<SendResult> {
    if (!this.cut) return this.inner.send(messages);
    this.dropped += messages.length;
    return { messages: messages.length, requests: 0, bytes: 0, failed: messages.map((m) => ({ to: m.to, error: 'cut off' })) };
  }

  async receive(options: ReceiveOptions): Promise<IncomingMessage[]> {
    if (!this.cut) return this.inner.receive(options);
    // Nothing arrives while cut off; wait as a long poll would, so the loop does not spin.
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        options.signal?.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, Math.min(options.waitMs, 200));
      options.signal?.addEventListener('abort', done, { once: true });
    });
    return [];
  }

  ack(messages: readonly IncomingMessage[]): Promise<void> {
    return this.inner.ack(messages);
  }
}

/** RUNNING tasks of federated job `id` in each region, as each master records them. */
export async function runningPerRegion(masters: ReadonlyMap<string, Master>, id: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, m] of masters) out[name] = (await m.registry.listTasks()).filter((t) => t.state === 'RUNNING' && t.taskId.startsWith(`${childName(id)}.`)).length;
  return out;
}

export const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

/** Waits until `probe(counts)` holds for the job's running counts; returns them. */
export function waitCounts(masters: ReadonlyMap<string, Master>, id: string, probe: (c: Record<string, number>) => boolean, timeoutMs: number, what: string): Promise<Record<string, number>> {
  return waitUntil(
    async () => {
      const c = await runningPerRegion(masters, id);
      return probe(c) ? c : undefined;
    },
    timeoutMs,
    `${what} (${id})`,
    100,
  );
}

/** The owner's view of a region's part of a federated job. */
export function regionOf(view: FederatedJobView, region: string): FederatedJobView['regions'][number] {
  const r = view.regions.find((x) => x.region === region);
  if (!r) throw new Error(`no region ${region} in ${view.id}`);
  return r;
}
