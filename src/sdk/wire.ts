import { z } from 'zod';
import { decodeAttributes, mesosAttribute } from '../wire/mesos-attributes.js';
import { mesosResource, sumResources } from '../wire/mesos-resources.js';
import type { FailureInfo, MessageInfo, Offer, TaskStateName, TaskStatus } from './types.js';

// zod at the edge: every event and response body the driver reads from the master is parsed
// here. Unknown fields pass (newer masters add some); unknown event types are reported as such.

const idValue = z.object({ value: z.string().min(1) });
const offer = z.object({
  id: idValue,
  framework_id: idValue,
  agent_id: idValue,
  hostname: z.string(),
  resources: z.array(mesosResource),
  attributes: z.array(mesosAttribute).optional(),
  allocation_info: z.object({ role: z.string().optional() }).optional(),
});

const TASK_STATES = [
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_RUNNING',
  'TASK_KILLING',
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_UNREACHABLE',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
  'TASK_UNKNOWN',
] as const satisfies readonly TaskStateName[];

const status = z.object({
  task_id: idValue,
  agent_id: z.object({ value: z.string() }).optional(),
  state: z.enum(TASK_STATES),
  source: z.string().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  healthy: z.boolean().optional(),
  uuid: z.string().optional(),
  timestamp: z.number().optional(),
});

const eventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('SUBSCRIBED'),
    subscribed: z.object({ framework_id: idValue, heartbeat_interval_seconds: z.number().positive().optional() }),
  }),
  z.object({ type: z.literal('OFFERS'), offers: z.object({ offers: z.array(offer).optional() }).optional() }),
  z.object({ type: z.literal('RESCIND'), rescind: z.object({ offer_id: idValue }) }),
  z.object({ type: z.literal('UPDATE'), update: z.object({ status }) }),
  z.object({ type: z.literal('MESSAGE'), message: z.object({ agent_id: idValue, executor_id: idValue, data: z.string() }) }),
  z.object({
    type: z.literal('FAILURE'),
    failure: z.object({ agent_id: idValue.optional(), executor_id: idValue.optional(), status: z.number().optional() }).optional(),
  }),
  z.object({ type: z.literal('ERROR'), error: z.object({ message: z.string() }) }),
  z.object({ type: z.literal('HEARTBEAT') }),
]);

/** An event as the driver hands it on. */
export type WireEvent =
  | { readonly type: 'SUBSCRIBED'; readonly frameworkId: string; readonly heartbeatIntervalSeconds: number }
  | { readonly type: 'OFFERS'; readonly offers: readonly Offer[] }
  | { readonly type: 'RESCIND'; readonly offerId: string }
  | { readonly type: 'UPDATE'; readonly status: TaskStatus }
  | { readonly type: 'MESSAGE'; readonly message: MessageInfo }
  | { readonly type: 'FAILURE'; readonly failure: FailureInfo }
  | { readonly type: 'ERROR'; readonly message: string }
  | { readonly type: 'HEARTBEAT' }
  | { readonly type: 'UNKNOWN'; readonly rawType: string }
  | { readonly type: 'INVALID'; readonly problem: string };

const KNOWN_EVENTS: ReadonlySet<string> = new Set(['SUBSCRIBED', 'OFFERS', 'RESCIND', 'UPDATE', 'MESSAGE', 'FAILURE', 'ERROR', 'HEARTBEAT']);
const MESOS_DEFAULT_HEARTBEAT_SECONDS = 15;

function decodeOffer(o: z.output<typeof offer>): Offer {
  const attributes = decodeAttributes(o.attributes ?? []);
  const role = o.allocation_info?.role ?? o.resources.find((r) => r.allocation_info?.role)?.allocation_info?.role;
  return {
    id: o.id.value,
    frameworkId: o.framework_id.value,
    agentId: o.agent_id.value,
    hostname: o.hostname,
    ...(role !== undefined ? { role } : {}),
    resources: sumResources(o.resources),
    attributes,
    rawResources: o.resources,
  };
}

export function decodeStatus(s: z.output<typeof status>): TaskStatus {
  return {
    taskId: s.task_id.value,
    ...(s.agent_id?.value ? { agentId: s.agent_id.value } : {}),
    state: s.state,
    ...(s.source !== undefined ? { source: s.source } : {}),
    ...(s.reason !== undefined ? { reason: s.reason } : {}),
    ...(s.message !== undefined ? { message: s.message } : {}),
    ...(s.healthy !== undefined ? { healthy: s.healthy } : {}),
    ...(s.uuid ? { uuid: s.uuid } : {}),
    ...(s.timestamp !== undefined ? { timestamp: s.timestamp } : {}),
  };
}

/** Parses one event body read from the wire (a RecordIO record or a long-poll page entry). */
export function decodeEvent(value: unknown): WireEvent {
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  if (typeof type !== 'string') return { type: 'INVALID', problem: 'an event without a type' };
  if (!KNOWN_EVENTS.has(type)) return { type: 'UNKNOWN', rawType: type };
  const r = eventSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { type: 'INVALID', problem: `${type} event: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'malformed'}` };
  }
  const e = r.data;
  switch (e.type) {
    case 'SUBSCRIBED':
      return {
        type: 'SUBSCRIBED',
        frameworkId: e.subscribed.framework_id.value,
        heartbeatIntervalSeconds: e.subscribed.heartbeat_interval_seconds ?? MESOS_DEFAULT_HEARTBEAT_SECONDS,
      };
    case 'OFFERS':
      return { type: 'OFFERS', offers: (e.offers?.offers ?? []).map(decodeOffer) };
    case 'RESCIND':
      return { type: 'RESCIND', offerId: e.rescind.offer_id.value };
    case 'UPDATE':
      return { type: 'UPDATE', status: decodeStatus(e.update.status) };
    case 'MESSAGE':
      return { type: 'MESSAGE', message: { agentId: e.message.agent_id.value, executorId: e.message.executor_id.value, data: e.message.data } };
    case 'FAILURE':
      return {
        type: 'FAILURE',
        failure: {
          ...(e.failure?.agent_id ? { agentId: e.failure.agent_id.value } : {}),
          ...(e.failure?.executor_id ? { executorId: e.failure.executor_id.value } : {}),
          ...(e.failure?.status !== undefined ? { status: e.failure.status } : {}),
        },
      };
    case 'ERROR':
      return { type: 'ERROR', message: e.error.message };
    case 'HEARTBEAT':
      return { type: 'HEARTBEAT' };
  }
}

/** The immediate SUBSCRIBE answer in long-poll mode. */
export const pollSubscribeResponse = z.object({
  events: z.array(z.unknown()).min(1),
  cursor: z.number().int().min(0),
  framework_id: idValue.optional(),
});

/** One long-poll page. */
export const pollPage = z.object({ events: z.array(z.unknown()), cursor: z.number().int().min(0) });

