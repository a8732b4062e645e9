import { z } from 'zod';
import { activityEntrySchema } from './activity.js';
import { JsonApiClient, type JsonApiOptions } from '../http/json-client.js';

// An HTTP client of the autoscaler's operator routes, for the CLI. Answers are checked for their
// outer shape; a 4xx becomes an ApiError carrying the field the master named.

const ruleShape = z
  .object({
    group: z.string(),
    minSize: z.number(),
    maxSize: z.number(),
    minIdle: z.number(),
    maxIdle: z.number(),
    scaleUpCooldownSeconds: z.number(),
    scaleDownCooldownSeconds: z.number(),
    shape: z.object({ cpus: z.number(), mem: z.number(), disk: z.number().optional(), ports: z.number().optional() }),
  })
  .passthrough();
export const rulesResponse = z.object({ groups: z.array(ruleShape), updatedAt: z.number().optional(), version: z.number(), knownGroups: z.array(z.string()) });
export type RulesResponse = z.output<typeof rulesResponse>;

// The stored entry's shape, open to fields a newer master adds.
const activityShape = activityEntrySchema.passthrough();
export const activityResponse = z.object({ activity: z.array(activityShape), metrics: z.record(z.string(), z.number()) });
export type ActivityResponse = z.output<typeof activityResponse>;

export const statusResponse = z
  .object({
    provider: z.string(),
    groups: z.array(
      z
        .object({ group: z.string(), hosts: z.number(), idle: z.number(), busy: z.number(), draining: z.number(), unreachable: z.number(), removing: z.number(), inFlight: z.number() })
        .passthrough(),
    ),
    operations: z.array(z.object({ id: z.string(), kind: z.string(), group: z.string(), phase: z.string() }).passthrough()),
    metrics: z.record(z.string(), z.number()),
  })
  .passthrough();
export type StatusResponse = z.output<typeof statusResponse>;

export type AutoscalerClientOptions = JsonApiOptions;

export class AutoscalerClient extends JsonApiClient {
  constructor(master: string | URL, options: AutoscalerClientOptions = {}) {
    super(master, { timeoutMs: 15_000, ...options });
  }

  rules(): Promise<RulesResponse> {
    return this.request('GET', '/api/v1/autoscaler/rules', rulesResponse);
  }

  /** `rules` as an object, or JSON text sent as it is (a file's content). */
  setRules(rules: unknown): Promise<RulesResponse> {
    return this.request('PUT', '/api/v1/autoscaler/rules', rulesResponse, rules);
  }

  activity(options: { readonly limit?: number; readonly group?: string } = {}): Promise<ActivityResponse> {
    const q = new URLSearchParams();
    if (options.limit !== undefined) q.set('limit', String(options.limit));
    if (options.group !== undefined) q.set('group', options.group);
    const qs = q.toString();
    return this.request('GET', `/api/v1/autoscaler/activity${qs ? `?${qs}` : ''}`, activityResponse);
  }

  status(): Promise<StatusResponse> {
    return this.request('GET', '/api/v1/autoscaler/status', statusResponse);
  }
}
