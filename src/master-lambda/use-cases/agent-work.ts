import type { Agent } from '../../core/agent.js';
import { isTerminal } from '../../core/task-state.js';
import type { Stored } from '../../state/registry.js';
import type { WorkResponse } from '../../wire/agent-api.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';

// An agent's work, derived from the task table rather than queued: tasks to launch (STAGING),
// tasks to kill, acknowledgements to apply, messages. Nothing can be lost between master and
// agent because nothing is removed until the agent says it applied it.

export async function computeWork(ctx: MasterContext, agent: Stored<Agent>, version: number): Promise<WorkResponse> {
  // One query: the agent's tasks and the messages waiting for it.
  const { tasks, messages } = await ctx.registry.listAgentItems(agent.id);
  const work: WorkResponse = { version, launch: [], kill: [], acks: [], messages: [], shutdown_executors: [] };
  for (const t of tasks) {
    if (t.state === 'STAGING' && t.killRequestedAt === undefined) {
      work.launch.push({
        framework_id: t.frameworkId,
        task_id: t.taskId,
        role: t.role,
        resources: t.resources,
        spec: t.spec,
        ...(t.spec.killGracePeriodMs !== undefined ? { kill_grace_period_ms: t.spec.killGracePeriodMs } : {}),
      });
    }
    if (t.killRequestedAt !== undefined && !isTerminal(t.state)) {
      const grace = t.killGracePeriodMs ?? agent.drain?.maxGracePeriodMs ?? t.spec.killGracePeriodMs;
      work.kill.push({ framework_id: t.frameworkId, task_id: t.taskId, ...(grace !== undefined ? { grace_period_ms: grace } : {}) });
    }
    for (const uuid of t.pendingAcks) work.acks.push({ framework_id: t.frameworkId, task_id: t.taskId, uuid });
  }
  for (const e of Object.values(agent.executors ?? {})) {
    if (e.shutdownRequestedAt !== undefined) work.shutdown_executors.push({ framework_id: e.frameworkId, executor_id: e.executorId });
  }
  for (const { message: m } of messages) work.messages.push({ framework_id: m.frameworkId, executor_id: m.executorId, data: m.data });
  if (messages.length) {
    // Messages are best effort (as in Mesos): handed out once.
    const tx = ctx.registry.transaction();
    for (const m of messages.slice(0, 90)) tx.deleteAgentMessage(agent.id, m.id);
    await tx.commit();
  }
  return work;
}

export function hasWork(w: WorkResponse): boolean {
  return w.launch.length + w.kill.length + w.acks.length + w.messages.length + w.shutdown_executors.length > 0;
}

/** Clears acknowledgements the agent has applied, so they are not handed out again. */
export async function confirmAcks(ctx: MasterContext, agentId: string, acks: readonly { framework_id: string; task_id: string; uuid: string }[]): Promise<void> {
  const byTask = new Map<string, { fid: string; tid: string; uuids: Set<string> }>();
  for (const a of acks) {
    const k = `${a.framework_id}/${a.task_id}`;
    const e = byTask.get(k) ?? { fid: a.framework_id, tid: a.task_id, uuids: new Set<string>() };
    e.uuids.add(a.uuid);
    byTask.set(k, e);
  }
  for (const { fid, tid, uuids } of byTask.values()) {
    await retryOnConflict(async () => {
      const task = await ctx.registry.getTask(fid, tid).catch(() => undefined);
      if (!task || task.agentId !== agentId) return;
      const pendingAcks = task.pendingAcks.filter((u) => !uuids.has(u));
      if (pendingAcks.length === task.pendingAcks.length) return;
      await ctx.registry.transaction().putTask({ ...task, pendingAcks }, { version: task.version }).commit();
    });
  }
}

/**
 * Long-poll for work. Without `since` (the agent's first poll) it answers at once with all its
 * work. With it, it waits until the agent's work marker moves past `since` (one item read by key
 * per look), so work the agent already has (a kill in its grace period) is not repeated in a
 * busy loop. When the wait ends the full work is computed anyway: work hidden by a lagging
 * index reaches the agent one poll later at worst.
 */
export async function pollWork(ctx: MasterContext, agent: Stored<Agent>, waitMs: number, since?: number, signal?: AbortSignal): Promise<WorkResponse> {
  const deadline = Date.now() + waitMs;
  let notified = false;
  let waited = false;
  const unsubscribe = ctx.notifier.subscribe(`agent:${agent.id}`, () => (notified = true));
  try {
    for (;;) {
      const version = await ctx.registry.getAgentWorkVersion(agent.id);
      const left = deadline - Date.now();
      if (since === undefined || version > since || notified || left <= 0 || signal?.aborted) {
        notified = false;
        // After a wait the agent item may have changed (an executor SHUTDOWN is kept on it): read it again.
        if (waited) agent = (await ctx.registry.getAgent(agent.id)) ?? agent;
        const work = await computeWork(ctx, agent, version);
        if (since === undefined || hasWork(work) || left <= 0 || signal?.aborted) return work;
        since = version; // moved, but nothing to hand out (e.g. an acknowledgement already confirmed)
      }
      await ctx.notifier.wait(`agent:${agent.id}`, Math.min(Math.max(1, left), ctx.config.pollIntervalMs), signal);
      waited = true;
    }
  } finally {
    unsubscribe();
  }
}
