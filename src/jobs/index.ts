// The built-in jobs framework (services and batch jobs, placed with Fenzo), its HTTP API and client.
export { startJobsFramework, type RunningJobs, type StartJobsOptions } from './start.js';
export { JobsFramework, type JobsFrameworkOptions } from './framework.js';
export { DEFAULT_JOBS_TIMING, type JobsTiming } from './timing.js';
export { JobsApi, type JobsApiOptions, type RebalanceResult, type UpdateResult } from './api.js';
export { jobsRoutes } from './routes.js';
export { JobsClient } from './client.js';
export { JobsStore } from './store.js';
export { registryAgents, type AgentSource, type ClusterAgent } from './agents.js';
export { parseJobSpec, mergeJobUpdate, needsRollingUpdate, JOB_NAME_PATTERN, type JobSpec, type JobSpecInput, type JobSpecUpdate, type JobConstraint, type JobHealthCheck } from './spec.js';
export { DEFAULT_INSTANCE_BACKOFF, instanceBackoffMs, type InstanceBackoff } from './lifecycle.js';
export { planRebalance, eligibleZones, type RebalancePlan } from './rebalance.js';
export type { InstanceState, KillCause } from './model.js';
export type { InstanceView, JobCounts, JobDetail, JobState, JobView, PendingTask } from './views.js';
