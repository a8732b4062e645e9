import { z } from 'zod';
import { ValidationError } from '../core/errors.js';
import { userRecord } from '../wire/validate.js';

// The job spec users submit (JSON over HTTP, or built by `stratus run`), parsed with zod at
// the edge. Every refusal is a ValidationError naming the field, so the API answers 400
// {error, field}.

export const JOB_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const MAX_INSTANCES = 1000;
export const MAX_PORTS = 64;

// Docker image references: [registry/]name[:tag][@digest], lower-case path components.
const IMAGE_PATTERN = /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const jobName = z.string().regex(JOB_NAME_PATTERN, 'must be 1-63 lower-case letters, digits and dashes, starting and ending with a letter or digit');

const uniqueHost = z.object({ type: z.literal('uniqueHost'), soft: z.boolean().optional() }).strict();
const hostAttribute = z
  .object({
    type: z.literal('hostAttribute'),
    attribute: z.string().min(1).max(128),
    values: z.array(z.string().min(1).max(255)).min(1).max(100),
    soft: z.boolean().optional(),
  })
  .strict();
export const constraintSchema = z.discriminatedUnion('type', [uniqueHost, hostAttribute]);
export type JobConstraint = z.output<typeof constraintSchema>;

const seconds = (max: number) => z.number().min(0).max(max);

const healthCheck = z
  .object({
    type: z.enum(['command', 'http', 'tcp']),
    /** For `command`: a shell command, healthy when it exits 0. */
    command: z.string().min(1).max(65536).optional(),
    /** For `http`/`tcp`: which of the job's ports (0-based)... */
    portIndex: z.number().int().min(0).max(MAX_PORTS - 1).optional(),
    /** ...or a fixed port. */
    port: z.number().int().min(1).max(65535).optional(),
    path: z.string().max(2048).optional(),
    delaySeconds: seconds(3600).optional(),
    intervalSeconds: z.number().positive().max(3600).optional(),
    timeoutSeconds: z.number().positive().max(3600).optional(),
    gracePeriodSeconds: seconds(3600).optional(),
    consecutiveFailures: z.number().int().min(1).max(100).optional(),
  })
  .strict();
export type JobHealthCheck = z.output<typeof healthCheck>;

function specShape(minInstances: number) {
  return {
    name: jobName,
    type: z.enum(['service', 'batch']).default('service'),
    instances: z.number().int().min(minInstances).max(MAX_INSTANCES),
    /** Cores per instance. */
    cpus: z.number().positive().max(1_000_000),
    /** MiB per instance. */
    mem: z.number().positive().max(1_000_000_000),
    disk: z.number().min(0).max(1_000_000_000).default(0),
    /** Host ports per instance (a count: the ports are picked from the offer). */
    ports: z.number().int().min(0).max(MAX_PORTS).default(0),
    /** A Docker image: the task runs in a container (its entrypoint when there is no command). */
    image: z.string().min(1).max(1024).regex(IMAGE_PATTERN, 'is not a valid image reference').optional(),
    /** A shell command (string) or an argv (array, run without a shell). */
    command: z.union([z.string().min(1).max(65536), z.array(z.string().max(65536)).min(1).max(1024)]).optional(),
    env: userRecord(z.string().regex(ENV_NAME, 'is not a valid environment variable name'), z.string().max(65536)).default({}),
    labels: userRecord(z.string().min(1).max(255), z.string().max(4096)).default({}),
    /** Spread instances evenly over zones: hard (never unbalanced), soft (preferred), off. */
    zoneSpread: z.enum(['hard', 'soft', 'off']).default('hard'),
    constraints: z.array(constraintSchema).max(16).default([]),
    healthCheck: healthCheck.optional(),
    /** Rolling updates and rebalances never have more than this many instances not running. */
    maxUnavailable: z.number().int().min(1).max(MAX_INSTANCES).default(1),
    /** Batch: relaunches of a failed instance before the job fails. */
    retries: z.number().int().min(0).max(100).default(3),
    /** Between SIGTERM and SIGKILL when an instance is killed. */
    killGraceSeconds: seconds(3600).optional(),
  };
}

const submitSchema = z.object(specShape(1)).strict();
const storedSchema = z.object(specShape(0)).strict();
const updateSchema = z.object(specShape(0)).partial().strict();

export type JobSpec = z.output<typeof storedSchema>;
export type JobSpecInput = z.input<typeof submitSchema>;
export type JobSpecUpdate = z.input<typeof updateSchema>;

function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError('the body must be a JSON object (a job spec)', 'body');
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  // An unknown key names itself, not its parent.
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const field = fieldPath(keys.length > 0 ? [...issue.path, keys[0]!] : issue.path) || 'body';
  const message = issue.code === 'unrecognized_keys' ? `unknown field '${field}'` : `${field}: ${issue.message}`;
  throw new ValidationError(message, field);
}

/** Rules across fields. */
function checkSpec(spec: JobSpec): JobSpec {
  if (spec.image === undefined && spec.command === undefined) throw new ValidationError('a job needs a command, an image, or both', 'command');
  const hc = spec.healthCheck;
  if (hc) {
    if (hc.type === 'command' && hc.command === undefined) throw new ValidationError('healthCheck.command is required for a command check', 'healthCheck.command');
    if (hc.type !== 'command') {
      if (hc.port === undefined && hc.portIndex === undefined) throw new ValidationError(`an ${hc.type} check needs port or portIndex`, 'healthCheck.portIndex');
      if (hc.portIndex !== undefined && hc.portIndex >= spec.ports) {
        throw new ValidationError(`healthCheck.portIndex ${hc.portIndex} is not one of the job's ${spec.ports} port(s)`, 'healthCheck.portIndex');
      }
    }
  }
  spec.constraints.forEach((c, i) => {
    if (c.type === 'uniqueHost' && spec.constraints.findIndex((d) => d.type === 'uniqueHost') !== i) {
      throw new ValidationError('uniqueHost appears twice', `constraints[${i}].type`);
    }
  });
  return spec;
}

/** A new job, as submitted. */
export function parseJobSpec(value: unknown): JobSpec {
  return checkSpec(parseWith(submitSchema, value));
}

/** A job spec read back from the Registry (written by this module; 0 instances allowed). */
export function parseStoredSpec(value: unknown): JobSpec {
  return parseWith(storedSchema, value);
}

/** A change to a job (PUT): any subset of fields, merged over the current spec. */
export function mergeJobUpdate(current: JobSpec, value: unknown): JobSpec {
  const update = parseWith(updateSchema, value);
  if (update.name !== undefined && update.name !== current.name) throw new ValidationError(`name cannot change (the job is ${current.name})`, 'name');
  if (update.type !== undefined && update.type !== current.type) throw new ValidationError('type cannot change; submit a new job', 'type');
  // Only the keys the caller gave replace the current values (zod's defaults are not changes).
  const given = value as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...current };
  for (const k of Object.keys(given)) merged[k] = (update as Record<string, unknown>)[k];
  return checkSpec(parseWith(storedSchema, merged));
}

/** The fields whose change needs new tasks (a rolling update); the others apply in place. */
const TASK_FIELDS = ['cpus', 'mem', 'disk', 'ports', 'image', 'command', 'env', 'labels', 'healthCheck', 'killGraceSeconds', 'zoneSpread', 'constraints'] as const;

/** JSON with object keys sorted, so {a, b} and {b, a} compare equal. */
function stable(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export function needsRollingUpdate(before: JobSpec, after: JobSpec): boolean {
  return TASK_FIELDS.some((k) => stable(before[k]) !== stable(after[k]));
}
