import type { JsonObject } from '../../state/item-store.js';
import type { Offer } from '../../core/offer.js';
import type { Task, TaskStatus } from '../../core/task.js';
import { encodeAttributes } from '../../wire/mesos-attributes.js';
import { encodeResources } from '../../wire/mesos-resources.js';

// Mesos v1 scheduler Events (JSON). The event log stores these bodies as they go on the wire.

export type SchedulerEventType = 'SUBSCRIBED' | 'OFFERS' | 'RESCIND' | 'UPDATE' | 'MESSAGE' | 'FAILURE' | 'ERROR' | 'HEARTBEAT';

export interface SchedulerEvent {
  readonly type: SchedulerEventType;
  readonly body: JsonObject;
}

export function subscribedEvent(frameworkId: string, heartbeatIntervalSeconds: number, masterInfo: JsonObject): SchedulerEvent {
  return {
    type: 'SUBSCRIBED',
    body: {
      type: 'SUBSCRIBED',
      subscribed: { framework_id: { value: frameworkId }, heartbeat_interval_seconds: heartbeatIntervalSeconds, master_info: masterInfo },
    },
  };
}

export function encodeOffer(o: Offer): JsonObject {
  return {
    id: { value: o.id },
    framework_id: { value: o.frameworkId },
    agent_id: { value: o.agentId },
    hostname: o.hostname,
    resources: encodeResources(o.resources, o.role) as unknown as JsonObject[],
    attributes: encodeAttributes(o.attributes),
    allocation_info: { role: o.role },
  };
}

export function offersEvent(offers: readonly Offer[]): SchedulerEvent {
  return { type: 'OFFERS', body: { type: 'OFFERS', offers: { offers: offers.map(encodeOffer) } } };
}

export function rescindEvent(offerId: string): SchedulerEvent {
  return { type: 'RESCIND', body: { type: 'RESCIND', rescind: { offer_id: { value: offerId } } } };
}

export function encodeStatus(task: Pick<Task, 'taskId' | 'agentId'>, s: TaskStatus): JsonObject {
  return {
    task_id: { value: task.taskId },
    agent_id: { value: task.agentId },
    state: `TASK_${s.state}`,
    source: s.source,
    ...(s.reason ? { reason: `REASON_${s.reason}` } : {}),
    ...(s.message ? { message: s.message } : {}),
    ...(s.healthy !== undefined ? { healthy: s.healthy } : {}),
    ...(s.uuid ? { uuid: s.uuid } : {}),
    timestamp: s.timestamp,
  };
}

export function updateEvent(task: Pick<Task, 'taskId' | 'agentId'>, status: TaskStatus): SchedulerEvent {
  return { type: 'UPDATE', body: { type: 'UPDATE', update: { status: encodeStatus(task, status) } } };
}

export function messageEvent(agentId: string, executorId: string, data: string): SchedulerEvent {
  return { type: 'MESSAGE', body: { type: 'MESSAGE', message: { agent_id: { value: agentId }, executor_id: { value: executorId }, data } } };
}

export function failureEvent(agentId: string): SchedulerEvent {
  return { type: 'FAILURE', body: { type: 'FAILURE', failure: { agent_id: { value: agentId } } } };
}

export function errorEvent(message: string): SchedulerEvent {
  return { type: 'ERROR', body: { type: 'ERROR', error: { message } } };
}

export const HEARTBEAT_EVENT: SchedulerEvent = { type: 'HEARTBEAT', body: { type: 'HEARTBEAT' } };
