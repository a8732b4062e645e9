import { FencedError, ForbiddenError, ValidationError } from '../../core/errors.js';
import type { Framework } from '../../core/framework.js';
import type { AgentId, TaskId } from '../../core/ids.js';
import type { Offer } from '../../core/offer.js';
import { add, contains, EMPTY, format, isEmpty, subtract, type Resources } from '../../core/resources.js';
import type { Task, TaskStatus } from '../../core/task.js';
import type { Stored } from '../../state/registry.js';
import type { SchedulerCall } from '../codec/scheduler-call.js';
import { updateEvent, type SchedulerEvent } from '../codec/scheduler-event.js';
import { decodeTaskInfo, type DecodedTask } from '../codec/task-info.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';
import { addEvents, appendEvents } from './framework-events.js';
import { releaseOffers } from './release-offers.js';
import { giveBack } from '../agent-counters.js';
import { ExecutorLedger } from './executors.js';

// ACCEPT with LAUNCH / LAUNCH_GROUP. Offers are checked (live, the caller's, one agent, the
// current epoch), tasks are checked (new ids, fit, role), and then ONE fenced transaction
// consumes the offers, moves the used resources to the agent's allocation, writes the tasks
// as STAGING, the TASK_ERROR answers and the refusal filter. Nothing is ever half-launched.

type AcceptCall = Extract<SchedulerCall, { type: 'ACCEPT' }>;

interface RequestedTask {
  readonly decoded: DecodedTask;
  readonly field: string;
  /** Tasks of one LAUNCH_GROUP launch together or not at all. */
  readonly group?: string;
}

export interface AcceptResult {
  readonly launched: string[];
  readonly errors: string[];
  readonly dropped: string[];
}

export function decodeOperations(call: AcceptCall, maxTasks: number): RequestedTask[] {
  const out: RequestedTask[] = [];
  call.accept.operations.forEach((op, i) => {
    const f = `accept.operations[${i}]`;
    if (op.type === 'LAUNCH') {
      if (!op.launch) throw new ValidationError(`${f}: a LAUNCH operation needs 'launch'`, `${f}.launch`);
      op.launch.task_infos.forEach((t, j) => out.push({ decoded: decodeTaskInfo(t, `${f}.launch.task_infos[${j}]`), field: `${f}.launch.task_infos[${j}]` }));
    } else if (op.type === 'LAUNCH_GROUP') {
      if (!op.launch_group) throw new ValidationError(`${f}: a LAUNCH_GROUP operation needs 'launch_group'`, `${f}.launch_group`);
      const group = op.launch_group.executor.executor_id.value;
      op.launch_group.task_group.tasks.forEach((t, j) => {
        const field = `${f}.launch_group.task_group.tasks[${j}]`;
        const d = decodeTaskInfo(t, field);
        out.push({ decoded: { ...d, spec: { ...d.spec, groupId: group, executorId: group as never } }, field, group });
      });
    } else {
      throw new ValidationError(`${f}.type ${op.type.slice(0, 64)} is not supported: Stratus accepts LAUNCH and LAUNCH_GROUP`, `${f}.type`);
    }
  });
  if (out.length > maxTasks) throw new ValidationError(`an ACCEPT may launch at most ${maxTasks} tasks (got ${out.length})`, 'accept.operations');
  const seen = new Set<string>();
  for (const t of out) {
    if (seen.has(t.decoded.taskId)) throw new ValidationError(`task id ${t.decoded.taskId} appears twice in this ACCEPT`, `${t.field}.task_id`);
    seen.add(t.decoded.taskId);
  }
  return out;
}

function masterStatus(state: TaskStatus['state'], reason: string, message: string, now: number): TaskStatus {
  return { state, source: 'SOURCE_MASTER', reason, message, timestamp: now / 1000 };
}

export async function accept(ctx: MasterContext, framework: Stored<Framework>, call: AcceptCall): Promise<AcceptResult> {
  const requested = decodeOperations(call, ctx.config.maxTasksPerAccept);
  const offerIds = call.accept.offer_ids.map((o) => o.value);
  if (new Set(offerIds).size !== offerIds.length) throw new ValidationError('accept.offer_ids has duplicates', 'accept.offer_ids');
  const refuseSeconds = call.accept.filters?.refuse_seconds ?? ctx.config.defaultRefuseSeconds;

  return retryOnConflict(async () => {
    const now = ctx.now();
    const offers = await Promise.all(offerIds.map((id) => ctx.registry.getOffer(id)));
    offers.forEach((o, i) => {
      if (o && o.frameworkId !== framework.id) throw new ForbiddenError(`offer ${offerIds[i]} was not made to this framework`, `accept.offer_ids[${i}]`);
    });
    const live = offers.filter((o): o is Stored<Offer> => o !== undefined);
    const agentId = live[0]?.agentId;
    const invalid =
      live.length !== offers.length
        ? 'an offer is no longer valid (consumed, declined, rescinded or unknown)'
        : live.some((o) => o.agentId !== agentId)
          ? 'offers from several agents cannot be accepted together'
          : live.some((o) => o.role !== live[0]!.role)
            ? 'offers of several roles cannot be accepted together'
            : live.some((o) => o.epoch !== live[0]!.epoch)
              ? 'offers from several leader epochs cannot be accepted together'
              : undefined;
    if (invalid) return dropAll(ctx, framework, requested, live, invalid, now);

    // The agent is read last: its counters change with every task that ends on it, so the
    // shorter the time from this read to the commit, the fewer races the ACCEPT loses.
    const existing = await Promise.all(requested.map((r) => ctx.registry.getTask(framework.id, r.decoded.taskId)));
    const agent = await ctx.registry.getAgent(agentId!);
    if (!agent || agent.reachability !== 'REACHABLE') return dropAll(ctx, framework, requested, live, `agent ${agentId} is not reachable`, now);
    const offered = live.reduce<Resources>((sum, o) => add(sum, o.resources), EMPTY);
    const role = live[0]!.role;
    const epoch = live[0]!.epoch;

    const errors = new Map<string, string>(); // task id -> why
    let used = EMPTY;
    const executors = new ExecutorLedger(agent, framework.id);
    requested.forEach((r, i) => {
      const d = r.decoded;
      // A task on a custom executor not yet on the agent also needs the executor's resources.
      const need = add(d.resources, executors.extra(d.spec));
      const badExecutor = executors.invalid(d.spec, r.group !== undefined);
      if (existing[i]) errors.set(d.taskId, `task id ${d.taskId} is already in use by this framework`);
      else if (d.agentId !== agent.id) errors.set(d.taskId, `task agent_id ${d.agentId} is not the offers' agent ${agent.id}`);
      else if (badExecutor !== undefined) errors.set(d.taskId, badExecutor);
      else if (!contains(subtract(offered, used), need)) {
        errors.set(d.taskId, `task needs ${format(need)} but only ${format(subtract(offered, used))} is left in the offers`);
      } else {
        used = add(used, need);
        executors.charge(d.spec, d.taskId);
      }
    });
    // A LAUNCH_GROUP is all or nothing: one bad task fails the group, and its resources return.
    const failedGroups = new Set(requested.filter((r) => r.group !== undefined && errors.has(r.decoded.taskId)).map((r) => r.group!));
    for (const r of requested) {
      if (r.group !== undefined && failedGroups.has(r.group) && !errors.has(r.decoded.taskId)) {
        errors.set(r.decoded.taskId, `another task of task group ${r.group} is invalid`);
        used = subtract(used, r.decoded.resources);
      }
    }
    const launching = requested.filter((r) => !errors.has(r.decoded.taskId));
    const afterOffered = giveBack(agent.offered, offered, 'agent.offered');
    const afterAllocated = add(agent.allocated, used);
    // Offered + allocated never exceed the agent's total, also when it re-registered smaller
    // than what these offers were made of (their rescinds may still be on their way).
    if (!contains(agent.total, add(afterOffered, afterAllocated))) {
      return dropAll(ctx, framework, requested, live, `agent ${agent.id} no longer has the resources these offers were made of (now ${format(agent.total)})`, now);
    }

    const tx = ctx.registry.transaction().fence(epoch);
    for (const o of live) tx.deleteOffer(o.id, { version: o.version });
    tx.putAgent({ ...agent, offered: afterOffered, allocated: afterAllocated, ...executors.agentFields() }, { version: agent.version });
    for (const r of launching) {
      const task: Task = {
        frameworkId: framework.id,
        taskId: r.decoded.taskId,
        agentId: agent.id,
        role,
        resources: r.decoded.resources,
        spec: r.decoded.spec,
        state: 'STAGING',
        status: { state: 'STAGING', source: 'SOURCE_MASTER', timestamp: now / 1000 },
        pendingAcks: [],
        offerIds: live.map((o) => o.id),
        epoch,
        createdAt: now,
        updatedAt: now,
      };
      tx.putTask(task, 'absent');
    }
    if (launching.length) tx.touchAgentWork(agent.id);
    const events: SchedulerEvent[] = [...errors].map(([tid, why]) =>
      updateEvent({ taskId: tid as TaskId, agentId: agent.id }, masterStatus('ERROR', 'TASK_INVALID', why, now)),
    );
    await addEvents(ctx, tx, new Map([[framework.id, events]]));
    if (!isEmpty(subtract(offered, used)) && refuseSeconds > 0) {
      tx.putDeclineFilter({ frameworkId: framework.id, agentId: agent.id, until: now + refuseSeconds * 1000 });
    }
    try {
      await tx.commit();
    } catch (e) {
      // The offers came from an earlier leader epoch: they are void, and the new leader rescinds them.
      if (e instanceof FencedError) return dropAll(ctx, framework, requested, [], 'the offers were made by a previous leader and are no longer valid', now);
      throw e;
    }
    ctx.notifier.notify(`agent:${agent.id}`);
    ctx.notifier.notify(`framework:${framework.id}`);
    ctx.notifier.notify('allocation');
    ctx.log.info('tasks launched', { frameworkId: framework.id, agentId: agent.id, tasks: launching.map((r) => r.decoded.taskId), errors: errors.size });
    return { launched: launching.map((r) => r.decoded.taskId), errors: [...errors.keys()], dropped: [] };
  });
}

/**
 * Invalid offers: every task is TASK_DROPPED (REASON_INVALID_OFFERS) and any offer still live
 * returns to the pool. A retried ACCEPT whose tasks all exist already is a no-op, so a retry
 * never reports a launched task as dropped.
 */
async function dropAll(
  ctx: MasterContext,
  framework: Stored<Framework>,
  requested: readonly RequestedTask[],
  live: readonly Offer[],
  why: string,
  now: number,
): Promise<AcceptResult> {
  const existing = await Promise.all(requested.map((r) => ctx.registry.getTask(framework.id, r.decoded.taskId)));
  if (requested.length > 0 && existing.every((t) => t !== undefined)) return { launched: [], errors: [], dropped: [] };
  const dropped = requested.filter((_, i) => existing[i] === undefined);
  await appendEvents(
    ctx,
    framework.id,
    dropped.map((r) => updateEvent({ taskId: r.decoded.taskId, agentId: r.decoded.agentId as AgentId }, masterStatus('DROPPED', 'INVALID_OFFERS', why, now))),
  );
  if (live.length) await releaseOffers(ctx, live, { rescind: false });
  ctx.log.info('accept dropped', { frameworkId: framework.id, why, tasks: dropped.length });
  return { launched: [], errors: [], dropped: dropped.map((r) => r.decoded.taskId) };
}
