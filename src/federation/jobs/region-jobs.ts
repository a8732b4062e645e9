import { StratusError } from '../../core/errors.js';
import type { JobsApi } from '../../jobs/api.js';
import { JobsClient } from '../../jobs/client.js';
import { ApiError } from '../../wire/api-error.js';
import type { JobSpec, JobSpecInput, JobSpecUpdate } from '../../jobs/spec.js';

// How the owner of a federated job reaches a region's jobs framework to create, scale, change
// and delete that region's child job: the region's own JobsApi when it runs in this process
// (this region; every region of `stratus dev --regions`), the jobs HTTP API at the URL a peer
// advertises in its digest otherwise.

export interface RegionJobs {
  /** The job's spec, or undefined when the region has no job of that name. */
  spec(name: string): Promise<JobSpec | undefined>;
  create(spec: JobSpecInput): Promise<void>;
  update(name: string, change: JobSpecUpdate): Promise<void>;
  /** Kills the job's instances and removes it; a job that is not there is fine. */
  remove(name: string): Promise<void>;
}

/** What a region answered: `rejected` (4xx: this request will not work as is) or not (retry later). */
export class RegionJobsError extends Error {
  constructor(
    message: string,
    readonly rejected: boolean,
    readonly conflict = false,
  ) {
    super(message);
    this.name = 'RegionJobsError';
  }
}

function translate(e: unknown): never {
  if (e instanceof RegionJobsError) throw e;
  if (e instanceof StratusError) throw new RegionJobsError(e.message, e.code === 'VALIDATION' || e.code === 'CONFLICT' || e.code === 'NOT_FOUND', e.code === 'CONFLICT');
  if (e instanceof ApiError) throw new RegionJobsError(e.message, e.status >= 400 && e.status < 500, e.status === 409);
  throw new RegionJobsError((e as Error)?.message ?? String(e), false);
}

const notFound = (e: unknown): boolean => (e instanceof StratusError && e.code === 'NOT_FOUND') || (e instanceof ApiError && e.status === 404);

/** A region's jobs framework in this process. */
export function directRegionJobs(api: JobsApi): RegionJobs {
  return {
    async spec(name) {
      try {
        return (await api.get(name)).spec;
      } catch (e) {
        if (notFound(e)) return undefined;
        return translate(e);
      }
    },
    async create(spec) {
      await api.submit(spec).catch(translate);
    },
    async update(name, change) {
      await api.update(name, change).catch(translate);
    },
    async remove(name) {
      await api.remove(name).catch((e: unknown) => (notFound(e) ? undefined : translate(e)));
    },
  };
}

/** A region's jobs framework over HTTP (its master's API; `headers` carry the operator credential). */
export function httpRegionJobs(url: string, headers: Record<string, string> = {}, fetchFn?: typeof fetch): RegionJobs {
  const timed: typeof fetch = (input, init) => (fetchFn ?? fetch)(input, { ...init, signal: AbortSignal.timeout(10_000) });
  const client = new JobsClient(url, { headers, fetch: timed });
  return {
    async spec(name) {
      try {
        return (await client.get(name)).spec;
      } catch (e) {
        if (notFound(e)) return undefined;
        return translate(e);
      }
    },
    async create(spec) {
      await client.submit(spec).catch(translate);
    },
    async update(name, change) {
      await client.update(name, change).catch(translate);
    },
    async remove(name) {
      await client.remove(name).catch((e: unknown) => (notFound(e) ? undefined : translate(e)));
    },
  };
}
