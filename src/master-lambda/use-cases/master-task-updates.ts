import type { Agent } from '../../core/agent.js';
import { withStatus, type Task, type TaskStatus } from '../../core/task.js';
import { canTransition, isTerminal, type TaskState } from '../../core/task-state.js';
import type { Stored } from '../../state/registry.js';
import { failureEvent, updateEvent } from '../codec/scheduler-event.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';
import { addEvents, appendEvents } from './framework-events.js';
import { releaseOffers } from './release-offers.js';
import { afterTaskEnded } from './executors.js';

// State changes the master itself decides (an agent unreachable, gone, back): each task moves
// in one transaction with its UPDATE event and, when it ends, its resources' return.

/** Moves one task to `state` on the master's authority; false when it already changed or cannot. */
export async function moveTask(ctx: MasterContext, task: Stored<Task>, state: TaskState, reason: string, message: string): Promise<boolean> {
  return retryOnConflict(async (attempt) => {
    const t = attempt === 1 ? task : await ctx.registry.getTask(task.frameworkId, task.taskId);
    if (!t || t.state === state || !canTransition(t.state, state)) return false;
    const now = ctx.now();
    const status: TaskStatus = { state, source: 'SOURCE_MASTER', reason, message, timestamp: now / 1000 };
    const tx = ctx.registry.transaction().putTask(withStatus(t, status, now), { version: t.version });
    if (isTerminal(state)) {
      const agent = await ctx.registry.getAgent(t.agentId);
      if (agent) tx.putAgent({ ...agent, ...afterTaskEnded(agent, t) }, { version: agent.version });
    }
    await addEvents(ctx, tx, new Map([[t.frameworkId, [updateEvent(t, status)]]]));
    await tx.commit();
    ctx.metrics.taskStatus(status);
    ctx.notifier.notify(`framework:${t.frameworkId}`);
    return true;
  });
}

async function setAgent(ctx: MasterContext, agentId: string, change: (a: Stored<Agent>) => Agent | undefined): Promise<Stored<Agent> | undefined> {
  return retryOnConflict(async () => {
    const a = await ctx.registry.getAgent(agentId);
    if (!a) return undefined;
    const next = change(a);
    if (!next) return a;
    await ctx.registry.transaction().putAgent(next, { version: a.version }).commit();
    return { ...next, version: a.version + 1 };
  });
}

/** Missed heartbeats: the agent is UNREACHABLE, its tasks too, its offers are rescinded. */
export async function markAgentUnreachable(ctx: MasterContext, agentId: string): Promise<void> {
  const agent = await setAgent(ctx, agentId, (a) => (a.reachability === 'REACHABLE' ? { ...a, reachability: 'UNREACHABLE', unreachableAt: ctx.now() } : undefined));
  if (!agent) return;
  await releaseOffers(ctx, await ctx.registry.listOffersByAgent(agentId), { rescind: true });
  for (const t of await ctx.registry.listTasksByAgent(agentId)) {
    if (!isTerminal(t.state)) await moveTask(ctx, t, 'UNREACHABLE', 'AGENT_DISCONNECTED', `agent ${agentId} missed its heartbeats`);
  }
  ctx.log.warn('agent unreachable', { agentId, hostname: agent.hostname });
}

/**
 * The agent is removed: after the reregister timeout (AGENT_REMOVED), by MARK_AGENT_GONE or a
 * drain with mark_gone (GONE_BY_OPERATOR). Its tasks end as GONE; if it ever comes back, its
 * registration gets a new id and the order to kill what it still runs.
 */
export async function markAgentGone(ctx: MasterContext, agentId: string, byOperator: boolean): Promise<boolean> {
  let changed = false;
  const agent = await setAgent(ctx, agentId, (a) => {
    if (a.reachability === 'GONE') return undefined;
    changed = true;
    return { ...a, reachability: 'GONE' };
  });
  if (!agent) return false;
  await releaseOffers(ctx, await ctx.registry.listOffersByAgent(agentId), { rescind: true });
  const affected = new Set<string>();
  for (const t of await ctx.registry.listTasksByAgent(agentId)) {
    if (isTerminal(t.state)) continue;
    const state = byOperator ? 'GONE_BY_OPERATOR' : 'GONE';
    if (await moveTask(ctx, t, state, byOperator ? 'AGENT_REMOVED_BY_OPERATOR' : 'AGENT_REMOVED', `agent ${agentId} was removed`)) affected.add(t.frameworkId);
  }
  for (const fid of affected) await appendEvents(ctx, fid, [failureEvent(agentId)]);
  await ctx.registry.deleteLiveness('agent', agentId);
  if (changed) ctx.log.warn('agent gone', { agentId, byOperator });
  return changed;
}

/**
 * An agent (re)registered and said what it runs: tasks the master had as UNREACHABLE come
 * back in the state the agent reports; tasks the master believes run there but the agent
 * does not have are gone. Tasks still STAGING are left alone (the agent may not have them yet).
 */
export async function reconcileAgentTasks(
  ctx: MasterContext,
  agentId: string,
  reported: ReadonlyMap<string, TaskState>,
): Promise<void> {
  for (const t of await ctx.registry.listTasksByAgent(agentId)) {
    if (isTerminal(t.state)) continue;
    const there = reported.get(`${t.frameworkId}/${t.taskId}`);
    // An ending the agent saw while cut off arrives from its journal, with its uuid.
    if (there !== undefined && isTerminal(there)) continue;
    if (there === undefined) {
      if (t.state !== 'STAGING') await moveTask(ctx, t, 'GONE', 'AGENT_REREGISTERED', `task ${t.taskId} is no longer on agent ${agentId}`);
    } else if (t.state === 'UNREACHABLE' && there !== 'UNREACHABLE') {
      await moveTask(ctx, t, there, 'AGENT_REREGISTERED', `agent ${agentId} is reachable again`);
    }
  }
}
