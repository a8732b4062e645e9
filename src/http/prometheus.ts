import type { Counter, Registry } from 'prom-client';
import type { RawResponse } from './types.js';

// What the master and the agent share to serve metrics: a prom-client Registry as Prometheus's
// text exposition, and counters kept in step with plain counts kept elsewhere (gossip stats, the
// autoscaler's), so those modules need no metrics library of their own.

/** GET /metrics: the registry in the Prometheus text format (version 0.0.4). */
export async function prometheusResponse(registry: Registry): Promise<RawResponse> {
  const text = await registry.metrics();
  return { status: 200, headers: { 'Content-Type': registry.contentType }, raw: Buffer.from(text, 'utf8') };
}

/**
 * Moves a counter up to `total`, a count kept elsewhere that only grows. A smaller total (the
 * source was replaced) starts over from there without ever moving the counter back.
 */
export class CounterSync<L extends string> {
  private readonly last = new Map<string, number>();

  constructor(private readonly counter: Counter<L>) {}

  set(labels: Partial<Record<L, string>>, total: number): void {
    const key = JSON.stringify(labels);
    const before = this.last.get(key) ?? 0;
    if (total > before) this.counter.inc(labels, total - before);
    this.last.set(key, total);
  }
}
