import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import { finiteNumber, idValue, parse, userRecord, withoutNulls } from '../../wire/validate.js';

// The Mesos v1 operator Call (POST /api/v1), the calls Stratus implements.

export const OPERATOR_CALLS = [
  'GET_HEALTH',
  'GET_STATE',
  'GET_AGENTS',
  'GET_FRAMEWORKS',
  'GET_TASKS',
  'GET_ROLES',
  'GET_WEIGHTS',
  'UPDATE_WEIGHTS',
  'GET_QUOTA',
  'UPDATE_QUOTA',
  'DRAIN_AGENT',
  'DEACTIVATE_AGENT',
  'REACTIVATE_AGENT',
  'MARK_AGENT_GONE',
  'TEARDOWN',
  'GET_METRICS',
  'GET_VERSION',
  'GET_FLAGS',
  'GET_LOGGING_LEVEL',
  'GET_MASTER',
  'GET_EXECUTORS',
  'GET_MAINTENANCE_STATUS',
  'GET_MAINTENANCE_SCHEDULE',
  'GET_OPERATIONS',
  'SUBSCRIBE',
] as const;

const scalarMap = userRecord(z.string(), z.object({ value: finiteNumber }));
const agentRef = z.object({ agent_id: idValue });

export const operatorCallSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('GET_HEALTH') }),
  z.object({ type: z.literal('GET_STATE') }),
  z.object({ type: z.literal('GET_AGENTS') }),
  z.object({ type: z.literal('GET_FRAMEWORKS') }),
  z.object({ type: z.literal('GET_TASKS') }),
  z.object({ type: z.literal('GET_ROLES') }),
  z.object({ type: z.literal('GET_WEIGHTS') }),
  z.object({
    type: z.literal('UPDATE_WEIGHTS'),
    update_weights: z.object({ weight_infos: z.array(z.object({ role: z.string().min(1).max(255), weight: finiteNumber })).min(1).max(1000) }),
  }),
  z.object({ type: z.literal('GET_QUOTA') }),
  z.object({
    type: z.literal('UPDATE_QUOTA'),
    update_quota: z.object({
      force: z.boolean().optional(),
      quota_configs: z.array(z.object({ role: z.string().min(1).max(255), guarantees: scalarMap.optional(), limits: scalarMap.optional() })).min(1).max(1000),
    }),
  }),
  z.object({
    type: z.literal('DRAIN_AGENT'),
    drain_agent: agentRef.extend({
      max_grace_period: z.object({ seconds: z.number().int().min(0).max(7 * 24 * 3600), nanos: z.number().int().min(0).optional() }).optional(),
      mark_gone: z.boolean().optional(),
    }),
  }),
  z.object({ type: z.literal('DEACTIVATE_AGENT'), deactivate_agent: agentRef }),
  z.object({ type: z.literal('REACTIVATE_AGENT'), reactivate_agent: agentRef }),
  z.object({ type: z.literal('MARK_AGENT_GONE'), mark_agent_gone: agentRef }),
  z.object({ type: z.literal('TEARDOWN'), teardown: z.object({ framework_id: idValue }) }),
  // Mesos lets the caller bound how long the metrics may take; the figures here come at once.
  z.object({ type: z.literal('GET_METRICS'), get_metrics: z.object({ timeout: z.object({ nanoseconds: z.number().int().min(0) }).optional() }).optional() }),
  z.object({ type: z.literal('GET_VERSION') }),
  z.object({ type: z.literal('GET_FLAGS') }),
  z.object({ type: z.literal('GET_LOGGING_LEVEL') }),
  z.object({ type: z.literal('GET_MASTER') }),
  z.object({ type: z.literal('GET_EXECUTORS') }),
  z.object({ type: z.literal('GET_MAINTENANCE_STATUS') }),
  z.object({ type: z.literal('GET_MAINTENANCE_SCHEDULE') }),
  z.object({ type: z.literal('GET_OPERATIONS') }),
  // Mesos's operator SUBSCRIBE has no body besides its type.
  z.object({ type: z.literal('SUBSCRIBE') }),
]);
export type OperatorCall = z.output<typeof operatorCallSchema>;

export function parseOperatorCall(json: unknown): OperatorCall {
  const body = withoutNulls(json);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('the body must be a JSON object (a Mesos v1 operator Call)', 'body');
  const type = (body as { type?: unknown }).type;
  if (typeof type !== 'string') throw new ValidationError('type must be an operator call type such as "GET_STATE"', 'type');
  if (!(OPERATOR_CALLS as readonly string[]).includes(type)) {
    throw new ValidationError(`unknown or unsupported operator call '${type.slice(0, 64)}'; supported: ${OPERATOR_CALLS.join(', ')}`, 'type');
  }
  const key = type.toLowerCase();
  if (!type.startsWith('GET_') && type !== 'SUBSCRIBE' && (body as Record<string, unknown>)[key] === undefined) throw new ValidationError(`a ${type} call needs the '${key}' field`, key);
  return parse(operatorCallSchema, body);
}
