import type { JsonObject } from '../../core/json.js';

// The executor API's Events (Mesos's executor.proto, JSON), as the agent streams them.

export type ExecutorEvent = JsonObject & { readonly type: string };

export function subscribedEvent(input: {
  executorInfo: JsonObject;
  frameworkId: string;
  agentId: string;
  hostname: string;
  port: number | undefined;
  containerId: string | undefined;
}): ExecutorEvent {
  return {
    type: 'SUBSCRIBED',
    subscribed: {
      executor_info: input.executorInfo,
      // The agent knows the framework by id only; name and user are required fields of the message.
      framework_info: { id: { value: input.frameworkId }, name: '', user: '' },
      agent_info: { id: { value: input.agentId }, hostname: input.hostname, ...(input.port !== undefined ? { port: input.port } : {}) },
      ...(input.containerId !== undefined ? { container_id: { value: input.containerId } } : {}),
    },
  };
}

export const launchEvent = (task: JsonObject): ExecutorEvent => ({ type: 'LAUNCH', launch: { task } });

export function killEvent(taskId: string, gracePeriodMs: number | undefined): ExecutorEvent {
  return {
    type: 'KILL',
    kill: { task_id: { value: taskId }, ...(gracePeriodMs !== undefined ? { kill_policy: { grace_period: { nanoseconds: gracePeriodMs * 1e6 } } } : {}) },
  };
}

export const acknowledgedEvent = (taskId: string, uuid: string): ExecutorEvent => ({ type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: taskId }, uuid } });
export const messageEvent = (data: string): ExecutorEvent => ({ type: 'MESSAGE', message: { data } });
export const shutdownEvent = (): ExecutorEvent => ({ type: 'SHUTDOWN' });
export const errorEvent = (message: string): ExecutorEvent => ({ type: 'ERROR', error: { message } });
export const heartbeatEvent = (): ExecutorEvent => ({ type: 'HEARTBEAT' });
