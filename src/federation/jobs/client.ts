import { z } from 'zod';
import { JsonApiClient, type JsonApiOptions } from '../../http/json-client.js';
import type { JobSpecInput, JobSpecUpdate } from '../../jobs/spec.js';
import type { FederatedJobView } from './views.js';

// An HTTP client of /api/v1/federation/jobs, for the CLI and tests. A 4xx becomes a
// ApiError with the field it names (as the jobs client does).

export interface FederatedJobInput {
  readonly name: string;
  readonly policy: { readonly counts: Record<string, number> } | { readonly weights: Record<string, number>; readonly total: number };
  readonly job: Omit<JobSpecInput, 'name' | 'instances'>;
}

export interface FederatedJobChange {
  readonly policy?: FederatedJobInput['policy'];
  readonly job?: Omit<JobSpecUpdate, 'name' | 'instances'>;
}

const jobShape = z.object({ id: z.string(), owner: z.string(), regions: z.array(z.object({ region: z.string() }).passthrough()) }).passthrough();
const one = z.object({ job: jobShape });
const many = z.object({ region: z.string(), jobs: z.array(jobShape) });

export class FederatedJobsClient extends JsonApiClient {
  constructor(master: string | URL, options: JsonApiOptions = {}) {
    super(master, options);
  }


  async submit(input: FederatedJobInput): Promise<FederatedJobView> {
    return (await this.request('POST', '/api/v1/federation/jobs', one, input)).job as unknown as FederatedJobView;
  }

  async list(): Promise<FederatedJobView[]> {
    return (await this.request('GET', '/api/v1/federation/jobs', many)).jobs as unknown as FederatedJobView[];
  }

  async get(id: string): Promise<FederatedJobView> {
    return (await this.request('GET', `/api/v1/federation/jobs/${encodeURIComponent(id)}`, one)).job as unknown as FederatedJobView;
  }

  async update(id: string, change: FederatedJobChange): Promise<FederatedJobView> {
    return (await this.request('PUT', `/api/v1/federation/jobs/${encodeURIComponent(id)}`, one, change)).job as unknown as FederatedJobView;
  }

  async remove(id: string): Promise<FederatedJobView> {
    return (await this.request('DELETE', `/api/v1/federation/jobs/${encodeURIComponent(id)}`, one)).job as unknown as FederatedJobView;
  }
}
