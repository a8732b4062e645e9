import { ValidationError } from '../../core/errors.js';
import { mergeJobUpdate, parseJobSpec, type JobSpec } from '../../jobs/spec.js';
import { childName, FEDERATED_HOME_LABEL, FEDERATED_JOB_ID, FEDERATED_JOB_LABEL } from './child-job.js';
import { parsePolicy, type RegionPolicy } from './policy.js';

// The bodies of POST and PUT /api/v1/federation/jobs, checked at the edge. The job part is an
// ordinary job spec without name and instances (the policy decides those per region), checked
// by the jobs framework's own parser; every error names its field from the body's root
// (`job.cpus`, `policy.counts.eu-west-1`), so the API answers 400 naming it.
//
//   POST {"name": "web", "policy": {"counts": {"eu-west-1": 3, "us-east-1": 2}}, "job": {"cpus": 0.5, "mem": 128, "command": "..."}}
//   PUT  {"policy": {"weights": {"eu-west-1": 1, "us-east-1": 2}, "total": 6}}    (and/or "job": {...changes})

/** The template travels in every digest of its owner: keep it well under a message. */
export const MAX_TEMPLATE_BYTES = 16 * 1024;

export interface FederatedSubmission {
  readonly id: string;
  readonly policy: RegionPolicy;
  readonly template: JobSpec;
}

export interface FederatedChange {
  readonly policy?: RegionPolicy;
  readonly template?: JobSpec;
}

const SUBMIT_KEYS = new Set(['name', 'policy', 'job']);
const UPDATE_KEYS = new Set(['policy', 'job']);

function object(value: unknown, field: string, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(`${field === 'body' ? 'the body' : field} must be a JSON object (${what})`, field);
  return value as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  for (const k of Object.keys(o)) if (!allowed.has(k)) throw new ValidationError(`unknown field '${k}'`, k);
}

/** Runs a jobs-spec check, re-rooting its field under `job.`. */
function underJob<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValidationError) {
      const field = e.field && e.field !== 'body' ? `job.${e.field}` : 'job';
      throw new ValidationError(e.message.startsWith(`${e.field}:`) ? `job.${e.message}` : e.message.replace(/'([^']+)'/, "'job.$1'"), field);
    }
    throw e;
  }
}

function checkJobPart(job: Record<string, unknown>): void {
  if ('name' in job) throw new ValidationError('job.name: the child jobs are named after the federated job (give "name" at the top level)', 'job.name');
  if ('instances' in job) throw new ValidationError('job.instances: the region policy sets the instances of each region', 'job.instances');
  const labels = job.labels;
  if (labels && typeof labels === 'object' && !Array.isArray(labels)) {
    for (const k of Object.keys(labels)) {
      if (k === FEDERATED_JOB_LABEL || k === FEDERATED_HOME_LABEL) throw new ValidationError(`job.labels.${k}: this label is set by the federation`, `job.labels.${k}`);
    }
  }
}

function checkSize(template: JobSpec): JobSpec {
  const bytes = Buffer.byteLength(JSON.stringify(template));
  if (bytes > MAX_TEMPLATE_BYTES) throw new ValidationError(`job: the spec is ${bytes} bytes; a federated job's spec must fit in ${MAX_TEMPLATE_BYTES} (it travels in every digest)`, 'job');
  return template;
}

function withLabels(job: Record<string, unknown>, id: string, home: string): Record<string, unknown> {
  const labels = job.labels && typeof job.labels === 'object' && !Array.isArray(job.labels) ? job.labels : {};
  return { ...job, labels: { ...labels, [FEDERATED_JOB_LABEL]: id, [FEDERATED_HOME_LABEL]: home } };
}

/** A new federated job submitted to `home`, in a federation of `regions`. */
export function parseSubmission(value: unknown, home: string, regions: readonly string[]): FederatedSubmission {
  const body = object(value, 'body', 'a federated job: name, policy, job');
  onlyKeys(body, SUBMIT_KEYS);
  if (typeof body.name !== 'string' || !FEDERATED_JOB_ID.test(body.name)) {
    throw new ValidationError('name: must be 1-59 lower-case letters, digits and dashes, starting and ending with a letter or digit', 'name');
  }
  const id = body.name;
  if (body.policy === undefined) throw new ValidationError('policy is required: {"counts": {region: n}} or {"weights": {region: w}, "total": n}', 'policy');
  const policy = parsePolicy(body.policy, regions);
  if (body.job === undefined) throw new ValidationError('job is required: the spec of each instance (cpus, mem, command or image, ...)', 'job');
  const job = object(body.job, 'job', 'a job spec without name and instances');
  checkJobPart(job);
  const spec = underJob(() => parseJobSpec({ ...withLabels(job, id, home), name: childName(id), instances: 1 }));
  return { id, policy, template: checkSize({ ...spec, instances: 0 }) };
}

/** A change to a federated job whose template is `current`. */
export function parseChange(value: unknown, current: JobSpec, regions: readonly string[]): FederatedChange {
  const body = object(value, 'body', 'policy and/or job changes');
  onlyKeys(body, UPDATE_KEYS);
  if (body.policy === undefined && body.job === undefined) throw new ValidationError('nothing to change: give policy and/or job', 'body');
  const policy = body.policy === undefined ? undefined : parsePolicy(body.policy, regions);
  let template: JobSpec | undefined;
  if (body.job !== undefined) {
    const job = object(body.job, 'job', 'the job spec fields to change');
    checkJobPart(job);
    const labels = job.labels === undefined ? {} : { labels: withLabels(job, current.labels[FEDERATED_JOB_LABEL] ?? '', current.labels[FEDERATED_HOME_LABEL] ?? '').labels };
    template = checkSize({ ...underJob(() => mergeJobUpdate(current, { ...job, ...labels })), instances: 0 });
  }
  return { ...(policy ? { policy } : {}), ...(template ? { template } : {}) };
}
