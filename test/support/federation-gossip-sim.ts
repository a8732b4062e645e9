import type { GossipConfig } from '../../src/federation/gossip/config.js';
import { RegionGossip, type RegionGossipOptions, type LeaderView } from '../../src/federation/gossip/region-gossip.js';
import type { GossipTransport } from '../../src/federation/gossip/transport.js';
import { InProcessGossipNetwork } from '../../src/federation/gossip/in-process-transport.js';
import { silentLogger } from '../../src/core/logger.js';
import { MemoryItemStore } from '../../src/state/memory-item-store.js';
import { Registry } from '../../src/state/registry.js';

// Several regions in one process on simulated time: in-memory Registries, an in-process gossip
// network, and RegionGossips driven round by round (no timers), so unit tests and the
// benchmark can reason in whole intervals.

export interface SimRegion {
  readonly name: string;
  readonly registry: Registry;
  transport: GossipTransport;
  gossip: RegionGossip;
  /** Set false to cut the region off: it neither sends nor receives. */
  connected: boolean;
}

export interface SimOptions {
  readonly regions: readonly string[];
  readonly config?: Partial<GossipConfig>;
  /** Wraps each region's transport (e.g. in a ChaosTransport). */
  readonly wrap?: (t: GossipTransport, region: string) => GossipTransport;
  readonly leader?: (region: string) => LeaderView | undefined;
  readonly extra?: Partial<RegionGossipOptions>;
  /** Per-region options on top of `extra` (e.g. the region's federated job summaries). */
  readonly extraFor?: (region: string) => Partial<RegionGossipOptions>;
}

export class SimGossip {
  now = 0;
  wall = 1_700_000_000_000;
  readonly network: InProcessGossipNetwork;
  readonly regions = new Map<string, SimRegion>();
  readonly config: Partial<GossipConfig>;

  constructor(private readonly options: SimOptions) {
    this.config = { intervalMs: 1_000, ...options.config };
    this.network = new InProcessGossipNetwork({ clock: () => this.now });
    for (const name of options.regions) {
      const registry = new Registry(new MemoryItemStore(), undefined, () => this.wall);
      const region: SimRegion = { name, registry, transport: this.transportFor(name), gossip: undefined as unknown as RegionGossip, connected: true };
      this.regions.set(name, region);
      region.gossip = this.newGossip(name);
    }
  }

  private transportFor(name: string): GossipTransport {
    const t = this.network.transport(name);
    return this.options.wrap ? this.options.wrap(t, name) : t;
  }

  /** A fresh RegionGossip for a region (a restart), on its same Registry and inbox. */
  newGossip(name: string): RegionGossip {
    const r = this.region(name);
    const leader = this.options.leader?.(name);
    const f = new RegionGossip({
      region: name,
      peers: this.options.regions.filter((p) => p !== name),
      registry: r.registry,
      transport: r.transport,
      config: this.config,
      log: silentLogger,
      clock: () => this.now,
      wallClock: () => this.wall,
      ...(leader ? { leader } : {}),
      ...this.options.extra,
      ...this.options.extraFor?.(name),
    });
    r.gossip = f;
    return f;
  }

  region(name: string): SimRegion {
    const r = this.regions.get(name);
    if (!r) throw new Error(`no region ${name}`);
    return r;
  }

  advance(ms: number): void {
    this.now += ms;
    this.wall += ms;
  }

  /** Every connected region sends (and judges its peers), then every connected region reads its inbox dry. */
  async round(): Promise<void> {
    for (const r of this.regions.values()) if (r.connected) await r.gossip.tick();
    await this.deliver();
  }

  async deliver(): Promise<void> {
    for (const r of this.regions.values()) {
      if (!r.connected) continue;
      while ((await r.gossip.receiveOnce(0)) > 0);
    }
  }

  /** `n` rounds, one interval apart. */
  async rounds(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      await this.round();
      this.advance(this.config.intervalMs ?? 1_000);
    }
  }

  async stateOf(observer: string, peer: string): Promise<string | undefined> {
    return (await this.region(observer).gossip.peers()).find((p) => p.name === peer)?.state;
  }
}
