import { NotFoundError } from '../../core/errors.js';
import type { Framework } from '../../core/framework.js';
import type { Stored } from '../../state/registry.js';
import type { SchedulerCall } from '../codec/scheduler-call.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';
import { executorKey } from './executors.js';

// SHUTDOWN (Mesos v1 scheduler API): the framework asks for one of its custom executors on one
// agent to be shut down. The master marks the executor on the agent item (the agent's work is
// derived from it, so the request cannot be lost); the agent sends SHUTDOWN to the executor and
// kills it after its grace period. The executor's tasks end through the normal status path,
// which returns their resources and, with the last one, the executor's and clears the mark.
// Only the caller's own executors are found: another framework's executor id answers exactly
// as an id that does not exist, and nothing changes.

export async function shutdownExecutor(ctx: MasterContext, framework: Stored<Framework>, call: Extract<SchedulerCall, { type: 'SHUTDOWN' }>): Promise<void> {
  const { executor_id, agent_id } = call.shutdown;
  const key = executorKey(framework.id, executor_id.value);
  const notify = await retryOnConflict(async () => {
    const agent = await ctx.registry.getAgent(agent_id.value);
    if (!agent || agent.reachability === 'GONE') throw new NotFoundError(`agent ${agent_id.value} is not registered`, 'shutdown.agent_id');
    const entry = agent.executors?.[key];
    if (entry === undefined) {
      throw new NotFoundError(`executor ${executor_id.value} of framework ${framework.id} does not run on agent ${agent.id}`, 'shutdown.executor_id');
    }
    if (entry.shutdownRequestedAt !== undefined) return false; // asked already: the agent has it
    const executors = { ...agent.executors, [key]: { ...entry, shutdownRequestedAt: ctx.now() } };
    await ctx.registry.transaction().putAgent({ ...agent, executors }, { version: agent.version }).touchAgentWork(agent.id).commit();
    return true;
  });
  if (notify) ctx.notifier.notify(`agent:${agent_id.value}`);
  ctx.log.info('executor shutdown requested', { frameworkId: framework.id, executorId: executor_id.value, agentId: agent_id.value });
}
