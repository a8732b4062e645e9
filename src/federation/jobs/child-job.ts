import { createHash } from 'node:crypto';
import type { JobSpec, JobSpecInput } from '../../jobs/spec.js';

// A federated job runs in each region as an ordinary job of that region's jobs framework, its
// "child": named after the federated job (fed-<id>) and labelled with its id and home, so a
// region knows which of its jobs are federated and reports them in its digest.

/** A federated job's id: a job name short enough to take the child prefix. */
export const FEDERATED_JOB_ID = /^[a-z0-9](?:[a-z0-9-]{0,57}[a-z0-9])?$/;
export const CHILD_PREFIX = 'fed-';
export const FEDERATED_JOB_LABEL = 'stratus.federated-job';
export const FEDERATED_HOME_LABEL = 'stratus.federated-home';

export function childName(id: string): string {
  return `${CHILD_PREFIX}${id}`;
}

/** The federated job a region's job is the child of, if it is one. */
export function federatedIdOf(spec: JobSpec): string | undefined {
  const id = spec.labels[FEDERATED_JOB_LABEL];
  return id !== undefined && spec.name === childName(id) ? id : undefined;
}

/** JSON with object keys sorted, so equal specs hash alike whatever their key order. */
function stable(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** A short hash of a child spec, instances aside: whether a region runs the owner's latest spec. */
export function specHash(spec: JobSpec): string {
  return createHash('sha256').update(stable({ ...spec, instances: 0 })).digest('hex').slice(0, 16);
}

/** The child job's spec from the federated job's template, with a region's instance count. */
export function childSpec(template: JobSpec, instances: number): JobSpecInput {
  return { ...template, instances };
}
