import type { ExtensibleMaster } from '../master-lambda/extension.js';
import type { GossipConfig } from './gossip/config.js';
import type { FederatedJobsConfig } from './jobs/config.js';
import { FederatedJobsController } from './jobs/controller.js';
import { registryJobs, type LocalJobs } from './jobs/local-jobs.js';
import { federatedJobsRoutes } from './jobs/routes.js';
import { RegionGossip, type RegionGossipOptions } from './gossip/region-gossip.js';
import type { GossipTransport } from './gossip/transport.js';
import type { RegionJobs } from './jobs/region-jobs.js';
import { gossipRoutes } from './gossip/routes.js';

// One call for every entry point to give a master its federation: gossip (digests to and from
// peers, failure detection) and federated jobs (a controller deciding the jobs this region owns),
// their routes, and how they run. Beside attachAutoscaler (src/autoscaler/attach.ts).
//
//   const fed = attachFederation(master, { region, peers, transport, run: 'process' });
//   ...
//   await fed.stop();

/**
 * How the federation runs in this process:
 * - `process`: its own loops (send on the lease holder, receive, decide), routes mounted;
 *   `stratus master`, `stratus dev`.
 * - `leader-duties`: the master's leader duties drive sending and deciding, nothing received,
 *   no routes; the scheduled leader Lambda.
 * - `routes`: routes only, served from the region's table; the API Lambda.
 */
export type FederationRunMode = 'process' | 'leader-duties' | 'routes';

export interface AttachFederationOptions {
  readonly region: string;
  readonly peers: readonly string[];
  readonly transport: GossipTransport;
  readonly run: FederationRunMode;
  /** This region's API URL, advertised to peers. */
  readonly api?: string;
  /** The region's jobs for federated jobs (default: from the master's Registry); false leaves federated jobs out. */
  readonly jobs?: LocalJobs | false;
  /** Reaches a region's jobs framework (default: this one in process, peers over HTTP). */
  readonly regionJobs?: (region: string, api: string | undefined) => RegionJobs | undefined;
  /** Headers for peers' jobs APIs (the operator credential peers accept). */
  readonly peerHeaders?: Record<string, string>;
  readonly config?: Partial<GossipConfig>;
  readonly jobsConfig?: Partial<FederatedJobsConfig>;
  /** Extra gossip options (clocks, a separate peer registry in tests). */
  readonly gossip?: Partial<Omit<RegionGossipOptions, 'region' | 'peers' | 'registry' | 'transport' | 'leader'>>;
}

export interface AttachedFederation {
  readonly gossip: RegionGossip;
  readonly controller?: FederatedJobsController;
  stop(): Promise<void>;
}

export function attachFederation(master: ExtensibleMaster, options: AttachFederationOptions): AttachedFederation {
  const log = master.ctx.log.child({ component: 'federation', region: options.region });
  const jobs = options.jobs === false ? undefined : (options.jobs ?? registryJobs(master.registry));
  // The gossip's digest carries the controller's summaries; the controller reads the
  // gossip's peers. The gossip asks for summaries only once running, after both exist.
  const ref: { controller?: FederatedJobsController } = {};
  const gossip = new RegionGossip({
    ...options.gossip,
    region: options.region,
    peers: options.peers,
    registry: master.registry,
    transport: options.transport,
    leader: master.lease,
    log,
    ...(options.config ? { config: options.config } : {}),
    ...(options.api ? { api: options.api } : {}),
    ...(jobs ? { federatedJobs: () => ref.controller?.summaries() ?? Promise.resolve([]) } : {}),
    ...(options.run !== 'process' ? { receive: false, sendLoop: false } : {}),
  });
  const controller = jobs
    ? (ref.controller = new FederatedJobsController({
        gossip,
        jobs,
        leader: master.lease,
        log: master.ctx.log.child({ component: 'federated-jobs', region: options.region }),
        ...(options.regionJobs ? { regionJobs: options.regionJobs } : {}),
        ...(options.peerHeaders ? { peerHeaders: options.peerHeaders } : {}),
        ...(options.jobsConfig ? { config: options.jobsConfig } : {}),
      }))
    : undefined;
  // The master's /metrics counts this gossip's digests.
  master.ctx.metrics.observeGossip(() => ({ sent: gossip.stats.sentMessages, received: gossip.stats.received, dropped: gossip.stats.droppedTotal }));
  if (options.run !== 'leader-duties') {
    gossipRoutes(master.api, gossip);
    if (controller) federatedJobsRoutes(master.api, controller);
  }
  if (options.run === 'leader-duties') {
    master.addDuty(gossip.duty);
    if (controller) master.addDuty(controller.duty);
  }
  if (options.run === 'process') {
    gossip.start();
    controller?.start();
  }
  return {
    gossip,
    ...(controller ? { controller } : {}),
    stop: async () => {
      await controller?.stop();
      await gossip.stop();
    },
  };
}
