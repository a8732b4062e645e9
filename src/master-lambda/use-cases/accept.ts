import { FencedError, ForbiddenError, ValidationError } from '../../core/errors.js';
import type { Framework } from '../../core/framework.js';
import type { AgentId, TaskId } from '../../core/ids.js';
import type { Offer } from '../../core/offer.js';
import { add, contains, EMPTY, format, isEmpty, subtract, type Resources } from '../../core/resources.js';
import type { Task, TaskStatus } from '../../core/task.js';
import type { Stored } from '../../state/registry.js';
import type { SchedulerCall } from '../codec/scheduler-call.js';
import { updateEvent, type SchedulerEvent } from '../codec/scheduler-event.js';
import { decodeTaskInfo, decodeTaskRef, type DecodedTask } from '../codec/task-info.js';
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
  readonly taskId: TaskId;
  readonly agentId: AgentId;
  /** Absent when the TaskInfo is invalid or asks for what Stratus does not support: `invalid` says why. */
  readonly decoded?: DecodedTask;
  readonly invalid?: string;
  readonly field: string;
  /** Tasks of one LAUNCH_GROUP launch together or not at all. */
  readonly group?: string;
}

export interface AcceptResult {
  readonly launched: string[];
  readonly errors: string[];
  readonly dropped: string[];
}

// Offer.Operation.Type values Stratus does not carry out. As Mesos does with an operation it
// cannot apply, such an operation is dropped (and logged) and the rest of the ACCEPT goes on;
// a type Mesos does not know either is malformed input (400).
const UNSUPPORTED_OPERATIONS = new Set([
  'RESERVE', 'UNRESERVE', 'CREATE', 'DESTROY', 'GROW_VOLUME', 'SHRINK_VOLUME',
  'CREATE_DISK', 'DESTROY_DISK', 'CREATE_VOLUME', 'DESTROY_VOLUME', 'CREATE_BLOCK', 'DESTROY_BLOCK',
]);

/**
 * One TaskInfo: decoded, or (ids readable, the rest invalid) marked invalid with the reason, to
 * be answered TASK_ERROR (REASON_TASK_INVALID) while the other tasks launch, as in Mesos.
 */
function requestTask(value: unknown, field: string, group?: string): RequestedTask {
  const ref = decodeTaskRef(value, field);
  const base = { ...ref, field, ...(group !== undefined ? { group } : {}) };
  try {
    const d = decodeTaskInfo(value, field);
    return { ...base, decoded: group === undefined ? d : { ...d, spec: { ...d.spec, groupId: group, executorId: group as never } } };
  } catch (e) {
    if (e instanceof ValidationError) return { ...base, invalid: e.message };
    throw e;
  }
}

export function decodeOperations(call: AcceptCall, maxTasks: number): { tasks: RequestedTask[]; skipped: string[] } {
  const out: RequestedTask[] = [];
  const skipped: string[] = [];
  call.accept.operations.forEach((op, i) => {
    const f = `accept.operations[${i}]`;
    if (op.type === 'LAUNCH') {
      if (!op.launch) throw new ValidationError(`${f}: a LAUNCH operation needs 'launch'`, `${f}.launch`);
      op.launch.task_infos.forEach((t, j) => out.push(requestTask(t, `${f}.launch.task_infos[${j}]`)));
    } else if (op.type === 'LAUNCH_GROUP') {
      if (!op.launch_group) throw new ValidationError(`${f}: a LAUNCH_GROUP operation needs 'launch_group'`, `${f}.launch_group`);
      const group = op.launch_group.executor.executor_id.value;
      op.launch_group.task_group.tasks.forEach((t, j) => out.push(requestTask(t, `${f}.launch_group.task_group.tasks[${j}]`, group)));
    } else if (UNSUPPORTED_OPERATIONS.has(op.type)) {
      skipped.push(`${f}: ${op.type}`);
    } else {
      throw new ValidationError(`${f}.type ${op.type.slice(0, 64)} is not an offer operation: Stratus accepts LAUNCH and LAUNCH_GROUP`, `${f}.type`);
    }
  });
  if (out.length > maxTasks) throw new ValidationError(`an ACCEPT may launch at most ${maxTasks} tasks (got ${out.length})`, 'accept.operations');
  // Twice the same id in one ACCEPT is refused whole: a TASK_ERROR for the second would reach
  // the framework under the id of the first, which launches.
  const seen = new Set<string>();
  for (const t of out) {
    if (seen.has(t.taskId)) throw new ValidationError(`task id ${t.taskId} appears twice in this ACCEPT`, `${t.field}.task_id`);
    seen.add(t.taskId);
  }
  return { tasks: out, skipped };
}

function masterStatus(state: TaskStatus['state'], reason: string, message: string, now: number): TaskStatus {
  return { state, source: 'SOURCE_MASTER', reason, message, timestamp: now / 1000 };
}

export async function accept(ctx: MasterContext, framework: Stored<Framework>, call: AcceptCall): Promise<AcceptResult> {
  const { tasks: requested, skipped } = decodeOperations(call, ctx.config.maxTasksPerAccept);
  if (skipped.length) ctx.log.warn('offer operations not supported by Stratus were dropped', { frameworkId: framework.id, operations: skipped });
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
    const existing = await Promise.all(requested.map((r) => ctx.registry.getTask(framework.id, r.taskId)));
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
      const need = d ? add(d.resources, executors.extra(d.spec)) : EMPTY;
      const badExecutor = d ? executors.invalid(d.spec, r.group !== undefined) : undefined;
      if (existing[i]) errors.set(r.taskId, `task id ${r.taskId} is already in use by this framework`);
      else if (!d) errors.set(r.taskId, r.invalid ?? 'invalid task');
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
    const failedGroups = new Set(requested.filter((r) => r.group !== undefined && errors.has(r.taskId)).map((r) => r.group!));
    for (const r of requested) {
      if (r.group !== undefined && failedGroups.has(r.group) && !errors.has(r.taskId)) {
        errors.set(r.taskId, `another task of task group ${r.group} is invalid`);
        used = subtract(used, r.decoded!.resources);
      }
    }
    const launching = requested.filter((r): r is RequestedTask & { decoded: DecodedTask } => !errors.has(r.taskId) && r.decoded !== undefined);
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
    ctx.metrics.offer('accepted', framework.id, live.length);
    for (const _ of launching) ctx.metrics.taskStatus({ state: 'STAGING', source: 'SOURCE_MASTER' });
    for (const _ of errors) ctx.metrics.taskStatus({ state: 'ERROR', source: 'SOURCE_MASTER', reason: 'TASK_INVALID' });
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
  const existing = await Promise.all(requested.map((r) => ctx.registry.getTask(framework.id, r.taskId)));
  if (requested.length > 0 && existing.every((t) => t !== undefined)) return { launched: [], errors: [], dropped: [] };
  const dropped = requested.filter((_, i) => existing[i] === undefined);
  await appendEvents(
    ctx,
    framework.id,
    dropped.map((r) => updateEvent({ taskId: r.taskId, agentId: r.agentId }, masterStatus('DROPPED', 'INVALID_OFFERS', why, now))),
  );
  for (const _ of dropped) ctx.metrics.taskStatus({ state: 'DROPPED', source: 'SOURCE_MASTER', reason: 'INVALID_OFFERS' });
  if (live.length) await releaseOffers(ctx, live, { rescind: false });
  ctx.log.info('accept dropped', { frameworkId: framework.id, why, tasks: dropped.length });
  return { launched: [], errors: [], dropped: dropped.map((r) => r.taskId) };
}
