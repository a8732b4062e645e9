import { z } from 'zod';
import type { RebalanceResult, UpdateResult } from './api.js';
import type { JobSpecInput, JobSpecUpdate } from './spec.js';
import type { JobDetail, JobView } from './views.js';

// An HTTP client of the jobs API, for the CLI and for other regions (federation). Answers are
// checked for their outer shape; a 4xx becomes a JobsClientError with the field it names.

export class JobsClientError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'JobsClientError';
  }
}

export interface JobsClientOptions {
  /** Extra headers, e.g. Authorization. */
  readonly headers?: Record<string, string>;
  readonly fetch?: typeof fetch;
}

const errorBody = z.object({ error: z.string(), field: z.string().optional() });
const jobShape = z.object({ name: z.string(), state: z.string(), counts: z.object({}).passthrough() }).passthrough();
const one = z.object({ job: jobShape });
const many = z.object({ jobs: z.array(jobShape) });
const updated = z.object({ job: jobShape, rolling: z.boolean() });
const rebalanced = z.object({ job: z.string(), request: z.number(), plan: z.object({}).passthrough() });

export class JobsClient {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(
    master: string | URL,
    private readonly options: JobsClientOptions = {},
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
