import { z } from 'zod';
import type { RebalanceResult, UpdateResult } from './api.js';
import type { JobSpecInput, JobSpecUpdate } from './spec.js';
import type { JobDetail, JobView } from './views.js';
import { JsonApiClient, type JsonApiOptions } from '../http/json-client.js';

// An HTTP client of the jobs API, for the CLI and for other regions (federation). Answers are
// checked for their outer shape; a 4xx becomes a ApiError with the field it names.


export type JobsClientOptions = JsonApiOptions;

const jobShape = z.object({ name: z.string(), state: z.string(), counts: z.object({}).passthrough() }).passthrough();
const one = z.object({ job: jobShape });
const many = z.object({ jobs: z.array(jobShape) });
const updated = z.object({ job: jobShape, rolling: z.boolean() });
const rebalanced = z.object({ job: z.string(), request: z.number(), plan: z.object({}).passthrough() });

export class JobsClient extends JsonApiClient {
  constructor(master: string | URL, options: JobsClientOptions = {}) {
    super(master, options);
  }


  async submit(spec: JobSpecInput): Promise<JobDetail> {
    return (await this.request('POST', '/api/v1/jobs', one, spec)).job as unknown as JobDetail;
  }

  async list(): Promise<JobView[]> {
    return (await this.request('GET', '/api/v1/jobs', many)).jobs as unknown as JobView[];
  }

  async get(name: string): Promise<JobDetail> {
    return (await this.request('GET', `/api/v1/jobs/${encodeURIComponent(name)}`, one)).job as unknown as JobDetail;
  }

  async update(name: string, change: JobSpecUpdate): Promise<UpdateResult> {
    return (await this.request('PUT', `/api/v1/jobs/${encodeURIComponent(name)}`, updated, change)) as unknown as UpdateResult;
  }

  scale(name: string, instances: number): Promise<UpdateResult> {
    return this.update(name, { instances });
  }

  async rebalance(name: string): Promise<RebalanceResult> {
    return (await this.request('POST', `/api/v1/jobs/${encodeURIComponent(name)}/rebalance`, rebalanced)) as unknown as RebalanceResult;
  }

  async remove(name: string): Promise<JobView> {
    return (await this.request('DELETE', `/api/v1/jobs/${encodeURIComponent(name)}`, one)).job as unknown as JobView;
  }
}
