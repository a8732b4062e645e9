import { JobsApi, JobsStore, registryAgents, type PendingTask } from '../jobs/index.js';
import type { Registry } from '../state/registry.js';

// Where the autoscaler reads demand when the jobs framework runs in another process (the
// Lambda tick): the pending instances and Fenzo's reasons the framework persisted. In-process
// (`stratus dev`), pass `() => jobs.pendingTasks()` instead.

export function registryPendingTasks(registry: Registry): () => Promise<readonly PendingTask[]> {
  const api = new JobsApi({ store: new JobsStore(registry), agents: registryAgents(registry) });
  return () => api.pendingTasks();
}
