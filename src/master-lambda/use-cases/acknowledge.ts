import { ValidationError } from '../../core/errors.js';
import type { Framework } from '../../core/framework.js';
import type { Stored } from '../../state/registry.js';
import type { SchedulerCall } from '../codec/scheduler-call.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';

// ACKNOWLEDGE: the framework confirms a status update. The master records the uuid on the
// task; the agent learns it with its next work poll and drops the update from its journal.

const UUID_PATTERN = /^[A-Za-z0-9+/=_-]{4,128}$/;

export async function acknowledge(ctx: MasterContext, framework: Stored<Framework>, call: Extract<SchedulerCall, { type: 'ACKNOWLEDGE' }>): Promise<void> {
  const { task_id, agent_id, uuid } = call.acknowledge;
  if (!UUID_PATTERN.test(uuid)) throw new ValidationError('acknowledge.uuid must be the base64 uuid of a status update', 'acknowledge.uuid');
  const agentId = await retryOnConflict(async () => {
    const task = await ctx.registry.getTask(framework.id, task_id.value);
    // Like Mesos, an acknowledgement for a task the master no longer has is dropped quietly.
    if (!task) return undefined;
    if (task.agentId !== agent_id.value) throw new ValidationError(`task ${task.taskId} is not on agent ${agent_id.value}`, 'acknowledge.agent_id');
    if (task.pendingAcks.includes(uuid)) return task.agentId;
    const pendingAcks = [...task.pendingAcks, uuid].slice(-32);
    await ctx.registry.transaction().putTask({ ...task, pendingAcks }, { version: task.version }).touchAgentWork(task.agentId).commit();
    return task.agentId;
  });
  if (agentId) ctx.notifier.notify(`agent:${agentId}`);
}
