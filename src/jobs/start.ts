import type { JobsApi } from './api.js';
import { JobsFramework, type JobsFrameworkOptions } from './framework.js';
import type { Router } from '../http/router.js';
import { jobsRoutes } from './routes.js';
import type { PendingTask } from './views.js';

// One call to run the jobs framework in a process (`stratus dev`, a long-running service):
//   const jobs = await startJobsFramework({ master: server.url, registry: master.registry, router: master.api });
//   ...
//   await jobs.stop();

export interface StartJobsOptions extends JobsFrameworkOptions {
  /** Mount the jobs HTTP API on this router (the master's `api`). Or call `mount` later. */
  readonly router?: Router;
}

export interface RunningJobs {
  readonly framework: JobsFramework;
  /** The operations behind the HTTP routes. */
  readonly api: JobsApi;
  /** Adds the jobs routes to a router. */
  mount(router: Router): void;
  /** Pending instances with Fenzo's reasons (the autoscaler's input). */
  pendingTasks(): PendingTask[];
  /** Stops the framework (its tasks keep running; a restart resubscribes and reconciles). */
  stop(): Promise<void>;
}

export async function startJobsFramework(options: StartJobsOptions): Promise<RunningJobs> {
  const framework = new JobsFramework(options);
  if (options.router) jobsRoutes(options.router, framework.api);
  await framework.start();
  return {
    framework,
    api: framework.api,
    mount: (router) => jobsRoutes(router, framework.api),
    pendingTasks: () => framework.pendingTasks(),
    stop: () => framework.stop(),
  };
}
