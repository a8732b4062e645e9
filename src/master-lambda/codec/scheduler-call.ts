import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import { finiteNumber, idValue, labels, parse, withoutNulls } from '../../wire/validate.js';
import { killPolicy, taskInfo } from './task-info.js';

// The Mesos v1 scheduler Call (JSON). Calls Stratus does not implement are refused by name
// with a 400 instead of being mistaken for malformed input.

export const CALL_TYPES = [
  'SUBSCRIBE',
  'TEARDOWN',
  'ACCEPT',
  'DECLINE',
  'REVIVE',
  'SUPPRESS',
  'KILL',
  'ACKNOWLEDGE',
  'RECONCILE',
  'MESSAGE',
  'REQUEST',
  'UPDATE_FRAMEWORK',
  'SHUTDOWN',
] as const;
export type CallType = (typeof CALL_TYPES)[number];

// A Map, not an object literal: a call type named like an Object property (constructor,
// toString, __proto__) must read as unknown, not as something found on the prototype.
const UNSUPPORTED_CALLS: ReadonlyMap<string, string> = new Map(Object.entries({
  ACCEPT_INVERSE_OFFERS: 'Stratus does not make inverse offers',
  DECLINE_INVERSE_OFFERS: 'Stratus does not make inverse offers',
  ACKNOWLEDGE_OPERATION_STATUS: 'Stratus supports no offer operations with status updates',
  RECONCILE_OPERATIONS: 'Stratus supports no offer operations with status updates',
}));

export const frameworkInfo = z.object({
  user: z.string().max(255),
  name: z.string().min(1).max(255),
  id: idValue.optional(),
  failover_timeout: finiteNumber.min(0).max(365 * 24 * 3600).optional(),
  checkpoint: z.boolean().optional(),
  role: z.string().max(255).optional(),
  roles: z.array(z.string().max(255)).max(64).optional(),
  hostname: z.string().max(255).optional(),
  principal: z.string().max(255).optional(),
  webui_url: z.string().max(2048).optional(),
  capabilities: z.array(z.object({ type: z.string().max(64) })).max(32).optional(),
  labels: labels.optional(),
});
export type MesosFrameworkInfo = z.output<typeof frameworkInfo>;

const filters = z.object({ refuse_seconds: finiteNumber.min(0).max(365 * 24 * 3600).optional() });
const roleList = z.array(z.string().max(255)).max(64);

const operation = z.object({
  type: z.string(),
  launch: z.object({ task_infos: z.array(z.unknown()).max(128).default([]) }).optional(),
  launch_group: z
    .object({
      executor: z.object({ executor_id: idValue }).passthrough(),
      task_group: z.object({ tasks: z.array(z.unknown()).min(1).max(128) }),
    })
    .optional(),
});

export const schedulerCallSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('SUBSCRIBE'),
    framework_id: idValue.optional(),
    subscribe: z.object({ framework_info: frameworkInfo, suppressed_roles: roleList.optional() }),
  }),
  z.object({ type: z.literal('TEARDOWN'), framework_id: idValue }),
  z.object({
    type: z.literal('ACCEPT'),
    framework_id: idValue,
    accept: z.object({ offer_ids: z.array(idValue).min(1).max(64), operations: z.array(operation).max(64), filters: filters.optional() }),
  }),
  z.object({
    type: z.literal('DECLINE'),
    framework_id: idValue,
    decline: z.object({ offer_ids: z.array(idValue).min(1).max(1000), filters: filters.optional() }),
  }),
  z.object({ type: z.literal('REVIVE'), framework_id: idValue, revive: z.object({ roles: roleList.optional() }).optional() }),
  z.object({ type: z.literal('SUPPRESS'), framework_id: idValue, suppress: z.object({ roles: roleList.optional() }).optional() }),
  z.object({
    type: z.literal('KILL'),
    framework_id: idValue,
    kill: z.object({ task_id: idValue, agent_id: idValue.optional(), kill_policy: killPolicy.optional() }),
  }),
  z.object({
    type: z.literal('ACKNOWLEDGE'),
    framework_id: idValue,
    acknowledge: z.object({ agent_id: idValue, task_id: idValue, uuid: z.string().min(1).max(256) }),
  }),
  z.object({
    type: z.literal('RECONCILE'),
    framework_id: idValue,
    reconcile: z.object({ tasks: z.array(z.object({ task_id: idValue, agent_id: idValue.optional() })).max(10000).optional() }).optional(),
  }),
  z.object({
    type: z.literal('MESSAGE'),
    framework_id: idValue,
    message: z.object({ agent_id: idValue, executor_id: idValue, data: z.string().max(1 << 20) }),
  }),
  z.object({ type: z.literal('REQUEST'), framework_id: idValue, request: z.object({ requests: z.array(z.unknown()).default([]) }).optional() }),
  z.object({
    type: z.literal('UPDATE_FRAMEWORK'),
    framework_id: idValue,
    update_framework: z.object({ framework_info: frameworkInfo, suppressed_roles: roleList.optional() }),
  }),
  z.object({ type: z.literal('SHUTDOWN'), framework_id: idValue, shutdown: z.object({ executor_id: idValue, agent_id: idValue }) }),
]);
export type SchedulerCall = z.output<typeof schedulerCallSchema>;

export { taskInfo };

export function parseSchedulerCall(json: unknown): SchedulerCall {
  const body = withoutNulls(json);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('the body must be a JSON object (a Mesos v1 scheduler Call)', 'body');
  }
  const type = (body as { type?: unknown }).type;
  if (typeof type !== 'string') throw new ValidationError('type must be a call type string such as "SUBSCRIBE"', 'type');
  const unsupported = UNSUPPORTED_CALLS.get(type);
  if (unsupported) throw new ValidationError(`call type ${type} is not supported: ${unsupported}`, 'type');
  if (!(CALL_TYPES as readonly string[]).includes(type)) {
    throw new ValidationError(`unknown call type '${type.slice(0, 64)}'; expected one of ${CALL_TYPES.join(', ')}`, 'type');
  }
  const key = type.toLowerCase();
  if (!['SUBSCRIBE', 'TEARDOWN', 'REVIVE', 'SUPPRESS', 'REQUEST', 'RECONCILE'].includes(type) && (body as Record<string, unknown>)[key] === undefined) {
    throw new ValidationError(`a ${type} call needs the '${key}' field`, key);
  }
  return parse(schedulerCallSchema, body);
}
