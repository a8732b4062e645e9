import { JobsApi } from '../../jobs/api.js';
import { registryAgents } from '../../jobs/agents.js';
import type { RunningJobs } from '../../jobs/start.js';
import { JobsStore } from '../../jobs/store.js';
import type { Registry } from '../../state/registry.js';

// This region's jobs framework as the federated jobs controller reaches it: the child jobs it
// runs for federated jobs are created through its API and read back from its store.

/** This region's jobs framework: its API (which wakes the framework) and its store. */
export interface LocalJobs {
  readonly api: JobsApi;
  readonly store: JobsStore;
}

/** The jobs of a region from its Registry alone (a framework elsewhere picks changes up on refresh). */
export function registryJobs(registry: Registry): LocalJobs {
  const store = new JobsStore(registry);
  return { api: new JobsApi({ store, agents: registryAgents(registry) }), store };
}

/** The jobs of a framework running in this process. */
export function runningJobs(jobs: RunningJobs): LocalJobs {
  return { api: jobs.api, store: jobs.framework.store };
}
