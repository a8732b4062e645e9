import type { ExtensibleMaster } from '../master-lambda/extension.js';
import { attachFederation, type AttachedFederation } from './attach.js';
import type { GossipConfig } from './gossip/config.js';
import type { FederatedJobsConfig } from './jobs/config.js';
import type { FederatedJobsController } from './jobs/controller.js';
import type { LocalJobs } from './jobs/local-jobs.js';
import type { RegionGossip } from './gossip/region-gossip.js';
import { InProcessGossipNetwork } from './gossip/in-process-transport.js';
import { directRegionJobs, type RegionJobs } from './jobs/region-jobs.js';

// Federates regions that run in one process (`stratus dev --regions a,b,c`): one in-process
// gossip network and each region's federation attached to its master. Regions given their jobs
// framework also get federated jobs, reaching the other regions' jobs frameworks by direct calls.

export interface LocalRegion {
  readonly name: string;
  readonly master: ExtensibleMaster;
  /** The region's API URL, advertised to its peers. */
  readonly api?: string;
  /** The region's jobs framework (e.g. `runningJobs(await startJobsFramework(...))`): enables federated jobs. */
  readonly jobs?: LocalJobs;
}

export interface InProcessFederation {
  readonly network: InProcessGossipNetwork;
  readonly gossip: ReadonlyMap<string, RegionGossip>;
  /** Federated job controllers of the regions that were given their jobs framework. */
  readonly controllers: ReadonlyMap<string, FederatedJobsController>;
  stop(): Promise<void>;
}

export function federateInProcess(regions: readonly LocalRegion[], config: Partial<GossipConfig> = {}, jobsConfig: Partial<FederatedJobsConfig> = {}): InProcessFederation {
  const network = new InProcessGossipNetwork();
  const names = regions.map((r) => r.name);
  const direct = new Map<string, RegionJobs>(regions.flatMap((r) => (r.jobs ? [[r.name, directRegionJobs(r.jobs.api)] as const] : [])));
  const attached = new Map<string, AttachedFederation>();
  for (const r of regions) {
    attached.set(
      r.name,
      attachFederation(r.master, {
        region: r.name,
        peers: names.filter((n) => n !== r.name),
        transport: network.transport(r.name),
        run: 'process',
        config,
        jobsConfig,
        jobs: r.jobs ?? false,
        regionJobs: (region) => direct.get(region),
        ...(r.api ? { api: r.api } : {}),
      }),
    );
  }
  return {
    network,
    gossip: new Map([...attached].map(([n, a]) => [n, a.gossip])),
    controllers: new Map([...attached].flatMap(([n, a]) => (a.controller ? [[n, a.controller] as const] : []))),
    stop: async () => {
      await Promise.all([...attached.values()].map((a) => a.controller?.stop()));
      await Promise.all([...attached.values()].map((a) => a.gossip.stop()));
    },
  };
}
