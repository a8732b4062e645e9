import { z } from 'zod';
import { JobsClientError } from '../jobs/client.js';
import type { JobSpecInput, JobSpecUpdate } from '../jobs/spec.js';
import type { FederatedJobView } from './federated-views.js';

// An HTTP client of /api/v1/federation/jobs, for the CLI and tests. A 4xx becomes a
// JobsClientError with the field it names (as the jobs client does).

export interface FederatedJobInput {
  readonly name: string;
  readonly policy: { readonly counts: Record<string, number> } | { readonly weights: Record<string, number>; readonly total: number };
  readonly job: Omit<JobSpecInput, 'name' | 'instances'>;
}

export interface FederatedJobChange {
  readonly policy?: FederatedJobInput['policy'];
  readonly job?: Omit<JobSpecUpdate, 'name' | 'instances'>;
}

const errorBody = z.object({ error: z.string(), field: z.string().optional() });
const jobShape = z.object({ id: z.string(), owner: z.string(), regions: z.array(z.object({ region: z.string() }).passthrough()) }).passthrough();
const one = z.object({ job: jobShape });
const many = z.object({ region: z.string(), jobs: z.array(jobShape) });

export class FederatedJobsClient {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(
    master: string | URL,
    private readonly options: { readonly headers?: Record<string, string>; readonly fetch?: typeof fetch } = {},
  ) {
    this.base = String(master).replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? fetch;
  }

  private async request<S extends z.ZodType>(method: string, path: string, schema: S, payload?: unknown): Promise<z.output<S>> {
    const res = await this.fetchFn(`${this.base}${path}`, {
      method,
      headers: { Accept: 'application/json', ...(payload !== undefined ? { 'Content-Type': 'application/json' } : {}), ...this.options.headers },
      ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}),
    });
    const text = await res.text();
    let value: unknown;
    try {
      value = text ? JSON.parse(text) : undefined;
    } catch {
      throw new JobsClientError(res.status, `${method} ${path}: HTTP ${res.status}: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const e = errorBody.safeParse(value);
      throw new JobsClientError(res.status, e.success ? e.data.error : `${method} ${path}: HTTP ${res.status}`, e.success ? e.data.field : undefined);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new JobsClientError(res.status, `${method} ${path}: unexpected answer: ${parsed.error.issues[0]?.message ?? ''}`);
    return parsed.data;
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
