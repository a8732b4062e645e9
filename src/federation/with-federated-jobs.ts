import type { FederatedJobSummary } from './digest.js';
import { FederatedJobsController, type FederatedJobsOptions } from './federated-controller.js';
import type { Federation } from './federation.js';

// Builds a region's Federation and its federated jobs controller together: the Federation's
// digest carries the controller's summaries, the controller reads the Federation's peers. The
// caller builds the Federation as it would anyway, passing `federatedJobs` through:
//
//   const { federation, controller } = withFederatedJobs(
//     (federatedJobs) => sqsFederationFromEnv(master.registry, { leader: master.lease, api: url, federatedJobs }),
//     { jobs: runningJobs(jobs), leader: master.lease, peerHeaders: { Authorization: `Bearer ${token}` } },
//   );
//   federationRoutes(master.api, federation);
//   federatedJobsRoutes(master.api, controller);
//   federation.start(); controller.start();        // or both `.duty`s among the master's duties

export function withFederatedJobs(
  makeFederation: (federatedJobs: () => Promise<FederatedJobSummary[]>) => Federation,
  options: Omit<FederatedJobsOptions, 'federation'>,
): { federation: Federation; controller: FederatedJobsController } {
  // The Federation asks for summaries only once started, after the controller exists.
  const ref: { controller?: FederatedJobsController } = {};
  const federation = makeFederation(() => ref.controller?.summaries() ?? Promise.resolve([]));
  const controller = (ref.controller = new FederatedJobsController({ ...options, federation }));
  return { federation, controller };
}
