// The federation module's public surface: what masters, `stratus dev` and the CDK stack's
// Lambdas use, federated jobs included. Internals (codec, intake, membership timing, the
// planner) are imported from their own files by tests only.

export { DEFAULT_GOSSIP_CONFIG, gossipConfig, type GossipConfig } from './gossip/config.js';
export {
  DIGEST_VERSION,
  MAX_FEDERATED_INSTANCES,
  REGION_NAME,
  comparePositions,
  isNewer,
  type AgentCounts,
  type Capacity,
  type CapacityBucket,
  type DigestPosition,
  type FederatedDefinition,
  type FederatedJobSummary,
  type RegionDigest,
  type RegionHealth,
  type Scalars,
  type ServiceEndpoint,
} from './gossip/digest.js';
export { DROP_REASONS, type DropReason } from './gossip/digest-codec.js';
export {
  RegionGossip,
  type GossipEvent,
  type RegionGossipOptions,
  type LeaderView,
  type PeerDigest,
  type PeerSummary,
  type RegionalEndpoint,
  type ServiceLookup,
} from './gossip/region-gossip.js';
export type { GossipTransport, IncomingMessage, OutgoingMessage, ReceiveOptions, SendResult } from './gossip/transport.js';
export { InProcessGossipNetwork } from './gossip/in-process-transport.js';
export { federateInProcess, type InProcessFederation, type LocalRegion } from './in-process-federation.js';
export { attachFederationFromEnv, federationSettingsFromEnv, sqsTransportFromEnv, type FederationSettings } from './env.js';
export { attachFederation, type AttachedFederation, type AttachFederationOptions, type FederationRunMode } from './attach.js';
export { PEER_STATES, type PeerState } from './gossip/peer-store.js';
export { gossipRoutes } from './gossip/routes.js';
export { DEFAULT_QUEUE_PREFIX, QueueDirectory, deleteQueues, ensureQueues, inboxQueueName, deadLetterQueueName, sqsClientFromEnv } from './gossip/sqs-queues.js';
export { SqsGossipTransport, type SqsTransportOptions } from './gossip/sqs-transport.js';
export { GossipStats } from './gossip/stats.js';
export { DEFAULT_FEDERATED_JOBS_CONFIG, federatedJobsConfig, type FederatedJobsConfig } from './jobs/config.js';
export { FederatedJobsController, type FederatedJobsOptions } from './jobs/controller.js';
export { registryJobs, runningJobs, type LocalJobs } from './jobs/local-jobs.js';
export { federatedJobsRoutes } from './jobs/routes.js';
export { baseShares, parsePolicy, policyTotal, type RegionPolicy } from './jobs/policy.js';
export type { ChildView, FederatedJobView, FederatedRegionView } from './jobs/views.js';
export { FederatedJobsClient, type FederatedJobInput, type FederatedJobChange } from './jobs/client.js';
export { childName, FEDERATED_JOB_ID, FEDERATED_JOB_LABEL, FEDERATED_HOME_LABEL } from './jobs/child-job.js';
export { directRegionJobs, httpRegionJobs, RegionJobsError, type RegionJobs } from './jobs/region-jobs.js';
