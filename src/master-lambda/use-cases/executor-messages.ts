import type { Agent } from '../../core/agent.js';
import { ValidationError } from '../../core/errors.js';
import type { ExecutorMessagesRequest, ExecutorMessagesResponse } from '../../wire/agent-api.js';
import { messageEvent, type SchedulerEvent } from '../codec/scheduler-event.js';
import type { MasterContext } from '../master-context.js';
import { appendEvents } from './framework-events.js';
import { hasExecutor } from './executors.js';

// Executor -> framework messages, relayed by the agent that runs the executor: each becomes a
// MESSAGE event in the framework's log. Only an executor the master placed on this agent for
// that framework may speak for it (the agent authenticated the executor; the master checks the
// agent's claim against its own record).

export async function relayExecutorMessages(ctx: MasterContext, agent: Agent, messages: ExecutorMessagesRequest['messages']): Promise<ExecutorMessagesResponse> {
  const byFramework = new Map<string, SchedulerEvent[]>();
  const results = messages.map((m, i) => {
    if (!/^[A-Za-z0-9+/=]*$/.test(m.data)) throw new ValidationError(`messages[${i}].data must be base64`, `messages[${i}].data`);
    if (!hasExecutor(agent, m.framework_id, m.executor_id)) return 'unknown_executor' as const;
    byFramework.set(m.framework_id, [...(byFramework.get(m.framework_id) ?? []), messageEvent(agent.id, m.executor_id, m.data)]);
    return 'delivered' as const;
  });
  for (const [fid, events] of byFramework) await appendEvents(ctx, fid, events);
  return { results };
}
