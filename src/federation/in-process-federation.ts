import type { Master } from '../master-lambda/master.js';
import type { FederationConfig } from './config.js';
import type { FederatedJobsConfig } from './federated-config.js';
import { FederatedJobsController, type LocalJobs } from './federated-controller.js';
import { federatedJobsRoutes } from './federated-routes.js';
import { Federation } from './federation.js';
import { InProcessGossipNetwork } from './in-process-transport.js';
import { directRegionJobs, type RegionJobs } from './region-jobs.js';
import { federationRoutes } from './routes.js';
import { withFederatedJobs } from './with-federated-jobs.js';

// Federates regions that run in one process (`stratus dev --regions a,b,c`): one in-process
// gossip network, a Federation per region on its master (lease, Registry, log), and the
// federation routes mounted on each master's API. Regions given their jobs framework also get
// federated jobs: a controller each (deciding on its master's lease), reaching the other
// regions' jobs frameworks by direct calls, and the /api/v1/federation/jobs routes.

export interface LocalRegion {
  readonly name: string;
  readonly master: Master;
  /** The region's API URL, advertised to its peers. */
  readonly api?: string;
  /** The region's jobs framework (e.g. `runningJobs(await startJobsFramework(...))`): enables federated jobs. */
  readonly jobs?: LocalJobs;
}

export interface InProcessFederation {
  readonly network: InProcessGossipNetwork;
  readonly federations: ReadonlyMap<string, Federation>;
  /** Federated job controllers of the regions that were given their jobs framework. */
  readonly controllers: ReadonlyMap<string, FederatedJobsController>;
  stop(): Promise<void>;
}

export function federateInProcess(regions: readonly LocalRegion[], config: Partial<FederationConfig> = {}, jobsConfig: Partial<FederatedJobsConfig> = {}): InProcessFederation {
  const network = new InProcessGossipNetwork();
  const names = regions.map((r) => r.name);
  const federations = new Map<string, Federation>();
  const controllers = new Map<string, FederatedJobsController>();
  const direct = new Map<string, RegionJobs>(regions.flatMap((r) => (r.jobs ? [[r.name, directRegionJobs(r.jobs.api)] as const] : [])));
  for (const r of regions) {
    const options = {
      region: r.name,
      peers: names.filter((n) => n !== r.name),
      transport: network.transport(r.name),
      config,
      ...(r.api ? { api: r.api } : {}),
    };
    let f: Federation;
    if (r.jobs) {
      const built = withFederatedJobs((federatedJobs) => Federation.forMaster(r.master, { ...options, federatedJobs }), {
        jobs: r.jobs,
        leader: r.master.lease,
        regionJobs: (region) => direct.get(region),
        config: jobsConfig,
        log: r.master.ctx.log.child({ component: 'federated-jobs', region: r.name }),
      });
      f = built.federation;
      federatedJobsRoutes(r.master.api, built.controller);
      controllers.set(r.name, built.controller.start());
    } else f = Federation.forMaster(r.master, options);
    federationRoutes(r.master.api, f);
    federations.set(r.name, f.start());
  }
  return {
    network,
    federations,
    controllers,
    stop: async () => {
      await Promise.all([...controllers.values()].map((c) => c.stop()));
      await Promise.all([...federations.values()].map((f) => f.stop()));
    },
  };
}
