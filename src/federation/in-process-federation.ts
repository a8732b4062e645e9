import type { Master } from '../master-lambda/master.js';
import type { FederationConfig } from './config.js';
import { Federation } from './federation.js';
import { InProcessGossipNetwork } from './in-process-transport.js';
import { federationRoutes } from './routes.js';

// Federates regions that run in one process (`stratus dev --regions a,b,c`): one in-process
// gossip network, a Federation per region on its master (lease, Registry, log), and the
// federation routes mounted on each master's API.

export interface LocalRegion {
  readonly name: string;
  readonly master: Master;
  /** The region's API URL, advertised to its peers. */
  readonly api?: string;
}

export interface InProcessFederation {
  readonly network: InProcessGossipNetwork;
  readonly federations: ReadonlyMap<string, Federation>;
  stop(): Promise<void>;
}

export function federateInProcess(regions: readonly LocalRegion[], config: Partial<FederationConfig> = {}): InProcessFederation {
  const network = new InProcessGossipNetwork();
  const names = regions.map((r) => r.name);
  const federations = new Map<string, Federation>();
  for (const r of regions) {
    const f = Federation.forMaster(r.master, {
      region: r.name,
      peers: names.filter((n) => n !== r.name),
      transport: network.transport(r.name),
      config,
      ...(r.api ? { api: r.api } : {}),
    });
    federationRoutes(r.master.api, f);
    federations.set(r.name, f.start());
  }
  return {
    network,
    federations,
    stop: async () => {
      await Promise.all([...federations.values()].map((f) => f.stop()));
    },
  };
}
