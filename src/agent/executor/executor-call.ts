import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import { isValidId } from '../../core/ids.js';
import { TASK_STATES } from '../../core/task-state.js';
import { idValue, parse, withoutNulls } from '../../wire/validate.js';

// The executor API's Call (Mesos's executor.proto, JSON): SUBSCRIBE, UPDATE and MESSAGE, checked
// as Mesos's agent checks them. JSON null means "not set" (protobuf's JSON mapping).

const stateName = z.enum(TASK_STATES.map((s) => `TASK_${s}`) as [string, ...string[]]);

export const executorTaskStatus = z.object({
  task_id: idValue,
  state: stateName,
  /** 16 bytes, base64 (a UUID): the executor names each update, and resends it under that name. */
  uuid: z.string().min(1).max(64),
  source: z.enum(['SOURCE_MASTER', 'SOURCE_AGENT', 'SOURCE_EXECUTOR']).optional(),
  reason: z
    .string()
    .regex(/^REASON_[A-Z0-9_]{1,100}$/, 'must be a Mesos TaskStatus.Reason name (REASON_...)')
    .optional(),
  message: z.string().max(65536).optional(),
  healthy: z.boolean().optional(),
  timestamp: z.number().nonnegative().optional(),
  executor_id: idValue.optional(),
  agent_id: idValue.optional(),
  data: z.string().optional(),
});
export type ExecutorTaskStatus = z.output<typeof executorTaskStatus>;

const callSchema = z.object({
  type: z.enum(['SUBSCRIBE', 'UPDATE', 'MESSAGE']),
  executor_id: idValue,
  framework_id: idValue,
  subscribe: z
    .object({
      unacknowledged_tasks: z.array(z.object({ task_id: idValue }).passthrough()).max(10000).optional(),
      unacknowledged_updates: z.array(z.object({ framework_id: idValue.optional(), status: executorTaskStatus })).max(10000).optional(),
    })
    .optional(),
  update: z.object({ status: executorTaskStatus }).optional(),
  message: z.object({ data: z.string().max(1 << 20) }).optional(),
});
export type ExecutorCall = z.output<typeof callSchema>;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Checks a status the executor sends (UPDATE, or resent at SUBSCRIBE) beyond its shape. */
export function checkStatus(s: ExecutorTaskStatus, field: string, executorId: string): void {
  if (!isValidId(s.task_id.value)) throw new ValidationError(`${field}.task_id.value is malformed`, `${field}.task_id.value`);
  if (!BASE64.test(s.uuid) || Buffer.from(s.uuid, 'base64').length !== 16) {
    throw new ValidationError(`${field}.uuid must be a UUID: 16 bytes, base64`, `${field}.uuid`);
  }
  if (s.state === 'TASK_STAGING' || s.state === 'TASK_UNKNOWN') throw new ValidationError(`${field}.state ${s.state} cannot come from an executor`, `${field}.state`);
  if (s.source !== undefined && s.source !== 'SOURCE_EXECUTOR') throw new ValidationError(`${field}.source must be SOURCE_EXECUTOR`, `${field}.source`);
  if (s.executor_id !== undefined && s.executor_id.value !== executorId) {
    throw new ValidationError(`${field}.executor_id ${s.executor_id.value.slice(0, 64)} is not the calling executor (${executorId})`, `${field}.executor_id.value`);
  }
}

/** A Call body -> ExecutorCall; 400 naming the field for anything malformed. */
export function decodeExecutorCall(body: unknown): ExecutorCall {
  const c = parse(callSchema, withoutNulls(body));
  if (!isValidId(c.framework_id.value)) throw new ValidationError('framework_id.value is malformed', 'framework_id.value');
  if (!isValidId(c.executor_id.value)) throw new ValidationError('executor_id.value is malformed', 'executor_id.value');
  if (c.type === 'UPDATE') {
    if (!c.update) throw new ValidationError("an UPDATE call needs 'update'", 'update');
    checkStatus(c.update.status, 'update.status', c.executor_id.value);
  }
  if (c.type === 'MESSAGE') {
    if (!c.message) throw new ValidationError("a MESSAGE call needs 'message'", 'message');
    if (!BASE64.test(c.message.data)) throw new ValidationError('message.data must be base64', 'message.data');
  }
  if (c.type === 'SUBSCRIBE') {
    c.subscribe?.unacknowledged_updates?.forEach((u, i) => {
      const f = `subscribe.unacknowledged_updates[${i}]`;
      if (u.framework_id !== undefined && u.framework_id.value !== c.framework_id.value) {
        throw new ValidationError(`${f}.framework_id is not the calling executor's framework`, `${f}.framework_id.value`);
      }
      checkStatus(u.status, `${f}.status`, c.executor_id.value);
    });
  }
  return c;
}
