import { JobsClient, startJobsFramework, type JobDetail, type JobsTiming, type RunningJobs, type StartJobsOptions } from '../../src/jobs/index.js';
import { createLogger } from '../../src/core/logger.js';
import type { TestCluster } from './jobs-cluster.js';
import { waitUntil } from './wait.js';

// Runs the jobs framework against a TestCluster with short timings, its API on the master.

export const FAST_JOBS: Partial<JobsTiming> = {
  tickMs: 100,
  refreshMs: 300,
  agentRefreshMs: 300,
  debounceMs: 10,
  backoff: { initialMs: 300, maxMs: 3_000, resetAfterMs: 10_000 },
  launchTimeoutMs: 15_000,
  killRetryMs: 2_000,
  declineRefuseSeconds: 1,
  idleRefuseSeconds: 5,
  acceptRefuseSeconds: 0.2,
  reasonsRefreshMs: 500,
};

export async function startJobs(cluster: TestCluster, options: Partial<StartJobsOptions> & { mount?: boolean } = {}): Promise<RunningJobs> {
  const { mount = true, timing, ...rest } = options;
  return startJobsFramework({
    master: cluster.url,
    registry: cluster.master.registry,
    timing: { ...FAST_JOBS, ...timing },
    ...(process.env.STRATUS_TEST_LOG ? { log: createLogger('test-jobs', 'debug') } : {}),
    ...(mount ? { router: cluster.master.api } : {}),
    ...rest,
  });
}

export function client(cluster: TestCluster): JobsClient {
  return new JobsClient(cluster.url);
}

/** Running instances per zone, e.g. { a: 2, b: 2, c: 2 }. */
export function runningByZone(job: JobDetail): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of job.instances) if (i.state === 'running') out[i.zone ?? '?'] = (out[i.zone ?? '?'] ?? 0) + 1;
  return out;
}

/** Waits until the job has `n` running instances (and nothing else live), returning it. */
export function waitRunning(c: JobsClient, name: string, n: number, timeoutMs = 15_000): Promise<JobDetail> {
  return waitUntil(
    async () => {
      const job = await c.get(name);
      return job.counts.running === n && job.instances.length === n ? job : undefined;
    },
    timeoutMs,
    `${n} running instances of ${name}`,
    50,
  );
}

/** The master's view: RUNNING tasks of the jobs framework whose id starts with `<job>.`. */
export async function masterRunning(cluster: TestCluster, frameworkId: string, job: string): Promise<string[]> {
  const tasks = await cluster.master.registry.listTasksByFramework(frameworkId);
  return tasks.filter((t) => t.taskId.startsWith(`${job}.`) && t.state === 'RUNNING').map((t) => t.taskId);
}

/** What `watchRunning` saw: the fewest tasks RUNNING at once so far. */
export interface RunningWatch {
  readonly min: number;
  stop(): void;
}

/**
 * Follows every status update the framework receives from the master about `job`'s tasks,
 * starting from the `running` task ids, and keeps the fewest RUNNING at any moment. Each
 * transition is seen (no sampling); a task reported killing or ended no longer counts, even if
 * an earlier RUNNING is delivered again.
 */
export function watchRunning(jobs: RunningJobs, job: string, running: readonly string[]): RunningWatch {
  const driver = jobs.framework.driver;
  if (driver === undefined) throw new Error('the jobs framework has no driver yet');
  const up = new Set(running);
  const down = new Set<string>();
  let min = up.size;
  const off = driver.on('update', (status) => {
    if (!status.taskId.startsWith(`${job}.`)) return;
    if (status.state === 'TASK_RUNNING') {
      if (!down.has(status.taskId)) up.add(status.taskId);
    } else if (status.state !== 'TASK_STAGING' && status.state !== 'TASK_STARTING') {
      up.delete(status.taskId);
      down.add(status.taskId);
    }
    min = Math.min(min, up.size);
  });
  return {
    get min() {
      return min;
    },
    stop: off,
  };
}
