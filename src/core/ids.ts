import { randomUUID } from 'node:crypto';
import { ValidationError } from './errors.js';

// Ids are plain strings branded by kind, so an AgentId cannot be passed where a TaskId is expected.
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type AgentId = Brand<string, 'AgentId'>;
export type FrameworkId = Brand<string, 'FrameworkId'>;
export type OfferId = Brand<string, 'OfferId'>;
export type TaskId = Brand<string, 'TaskId'>;
export type ExecutorId = Brand<string, 'ExecutorId'>;
export type StreamId = Brand<string, 'StreamId'>;

// '#' separates key parts in the table and '/' separates URL path parts, so neither may
// appear in an id; Marathon- and Mesos-generated ids (app.uuid, uuid-S0, ...) all fit.
const ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._:@+=-]{0,254}$/;

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

function check(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(`${field} must be a non-empty string`, field);
  }
  if (!ID_PATTERN.test(value)) {
    throw new ValidationError(
      `${field} '${value.slice(0, 64)}' is malformed: use 1-255 characters of A-Z a-z 0-9 . _ : @ + = -, not starting with a punctuation mark`,
      field,
    );
  }
  return value;
}

export const agentId = (v: unknown, field = 'agent_id'): AgentId => check(v, field) as AgentId;
export const frameworkId = (v: unknown, field = 'framework_id'): FrameworkId => check(v, field) as FrameworkId;
export const offerId = (v: unknown, field = 'offer_id'): OfferId => check(v, field) as OfferId;
export const taskId = (v: unknown, field = 'task_id'): TaskId => check(v, field) as TaskId;
export const executorId = (v: unknown, field = 'executor_id'): ExecutorId => check(v, field) as ExecutorId;
export const streamId = (v: unknown, field = 'Mesos-Stream-Id'): StreamId => check(v, field) as StreamId;

/** A fresh random id, valid under ID_PATTERN. */
export function newId(prefix = ''): string {
  return prefix + randomUUID();
}
