import { randomUUID } from 'node:crypto';
import { NotFoundError, ValidationError } from '../../core/errors.js';
import type { Framework } from '../../core/framework.js';
import type { Stored } from '../../state/registry.js';
import type { SchedulerCall } from '../codec/scheduler-call.js';
import type { MasterContext } from '../master-context.js';

// MESSAGE: framework-to-executor data. The agent receives the message in its work and hands it
// to the custom executor of that id (a MESSAGE event on its stream), or drops it (logged) when no
// such executor is subscribed there; delivery is best effort, as in Mesos.

export const MESSAGE_TTL_SECONDS = 600;

export async function sendMessage(ctx: MasterContext, framework: Stored<Framework>, call: Extract<SchedulerCall, { type: 'MESSAGE' }>): Promise<void> {
  const { agent_id, executor_id, data } = call.message;
  if (!/^[A-Za-z0-9+/=]*$/.test(data)) throw new ValidationError('message.data must be base64', 'message.data');
  const agent = await ctx.registry.getAgent(agent_id.value);
  if (!agent || agent.reachability === 'GONE') throw new NotFoundError(`agent ${agent_id.value} is not registered`, 'message.agent_id');
  await ctx.registry
    .transaction()
    .putAgentMessage(agent.id, randomUUID(), { frameworkId: framework.id, executorId: executor_id.value, data, at: ctx.now() }, Math.floor(ctx.now() / 1000) + MESSAGE_TTL_SECONDS)
    .touchAgentWork(agent.id)
    .commit();
  ctx.notifier.notify(`agent:${agent.id}`);
}
