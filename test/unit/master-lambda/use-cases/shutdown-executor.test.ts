import { beforeEach, expect, it } from 'vitest';
import type { Framework } from '../../../../src/core/framework.js';
import { NotFoundError } from '../../../../src/core/errors.js';
import type { FrameworkId, StreamId, TaskId } from '../../../../src/core/ids.js';
import { silentLogger } from '../../../../src/core/logger.js';
import { resources } from '../../../../src/core/resources.js';
import type { TaskSpec } from '../../../../src/core/task.js';
import { parseSchedulerCall, type SchedulerCall } from '../../../../src/master-lambda/codec/scheduler-call.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { computeWork, pollWork } from '../../../../src/master-lambda/use-cases/agent-work.js';
import { afterTaskEnded, ExecutorLedger } from '../../../../src/master-lambda/use-cases/executors.js';
import { shutdownExecutor } from '../../../../src/master-lambda/use-cases/shutdown-executor.js';
import { MemoryItemStore } from '../../../../src/state/memory-item-store.js';
import { agent } from '../../../contract/state/registry.contract.js';

// Scheduler SHUTDOWN: the master marks the caller's own executor on the agent item and the
// agent's work carries it until the executor is gone. Another framework's executor id, an
// unknown one or an unknown agent answers 404 naming the field and changes nothing.

let master: Master;
const executors = {
  'f1/e1': { frameworkId: 'f1', executorId: 'e1', resources: resources({ cpus: 0.1 }), fingerprint: '{"e":1}', tasks: ['t1'] },
  'f2/e2': { frameworkId: 'f2', executorId: 'e2', resources: resources({ cpus: 0.1 }), fingerprint: '{"e":2}', tasks: ['t2'] },
};

function framework(id: string): Framework {
  return {
    id: id as FrameworkId,
    info: { name: id, user: 'u', roles: ['*'], failoverTimeoutSeconds: 0, capabilities: [], checkpoint: false },
    streamId: `s-${id}` as StreamId,
    connected: true,
    lastSeenAt: 0,
    registeredAt: 0,
    suppressedRoles: [],
  };
}

const call = (fid: string, executorId: string, agentId = 'a1') =>
  parseSchedulerCall({ type: 'SHUTDOWN', framework_id: { value: fid }, shutdown: { executor_id: { value: executorId }, agent_id: { value: agentId } } }) as Extract<SchedulerCall, { type: 'SHUTDOWN' }>;

async function asFramework(id: string) {
  return (await master.registry.getFramework(id))!;
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; field: string | undefined; message: string }> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(NotFoundError);
  const n = e as NotFoundError;
  return { code: n.code, field: n.field, message: n.message };
}

beforeEach(async () => {
  master = new Master({ store: new MemoryItemStore(), log: silentLogger });
  await master.registry
    .transaction()
    .putAgent(agent('a1', { allocated: resources({ cpus: 0.2 }), executors }), 'absent')
    .putAgent(agent('a2'), 'absent')
    .putFramework(framework('f1'), 'absent')
    .putFramework(framework('f2'), 'absent')
    .commit();
});

it("marks the caller's executor on its agent; the agent's work carries it, once asked, until the executor is gone", async () => {
  const before = await master.registry.getAgentWorkVersion('a1');
  await shutdownExecutor(master.ctx, await asFramework('f1'), call('f1', 'e1'));
  const a1 = (await master.registry.getAgent('a1'))!;
  expect(a1.executors?.['f1/e1']?.shutdownRequestedAt).toBeTypeOf('number');
  expect(a1.executors?.['f2/e2']?.shutdownRequestedAt).toBeUndefined();
  const version = await master.registry.getAgentWorkVersion('a1');
  expect(version).toBeGreaterThan(before);
  expect((await computeWork(master.ctx, a1, version)).shutdown_executors).toEqual([{ framework_id: 'f1', executor_id: 'e1' }]);

  // Asked again: nothing changes (the agent already has it).
  await shutdownExecutor(master.ctx, await asFramework('f1'), call('f1', 'e1'));
  expect((await master.registry.getAgent('a1'))!.version).toBe(a1.version);

  // A task launched on it now is refused; the executor's last task ending clears the request with its resources.
  const spec = { name: 'x', executor: { executorId: 'e1', resources: resources({ cpus: 0.1 }), info: {} } } as unknown as TaskSpec;
  expect(new ExecutorLedger(a1, 'f1').invalid(spec, false)).toMatch(/shutting down/);
  const after = afterTaskEnded(a1, { frameworkId: 'f1' as FrameworkId, taskId: 't1' as TaskId, resources: resources({}), spec });
  expect(after.executors?.['f1/e1']).toBeUndefined();
  expect(after.allocated.cpus).toBe(100);
  expect((await computeWork(master.ctx, { ...a1, ...after }, version)).shutdown_executors).toEqual([]);
});

it("refuses another framework's executor id, an unknown one and an unknown agent (404 naming the field), changing nothing", async () => {
  const a1 = (await master.registry.getAgent('a1'))!;
  const work = await master.registry.getAgentWorkVersion('a1');
  // The attacker, f2, names f1's executor on the agent it runs on: answered as an id that does not exist.
  const stolen = await refusal(shutdownExecutor(master.ctx, await asFramework('f2'), call('f2', 'e1')));
  const unknown = await refusal(shutdownExecutor(master.ctx, await asFramework('f2'), call('f2', 'nope')));
  expect(stolen).toMatchObject({ code: 'NOT_FOUND', field: 'shutdown.executor_id' });
  expect(stolen.message.replace('e1', 'nope')).toBe(unknown.message);
  // Its own executor on another agent, or an agent that does not exist.
  expect(await refusal(shutdownExecutor(master.ctx, await asFramework('f1'), call('f1', 'e1', 'a2')))).toMatchObject({ field: 'shutdown.executor_id' });
  expect(await refusal(shutdownExecutor(master.ctx, await asFramework('f1'), call('f1', 'e1', 'a9')))).toMatchObject({ field: 'shutdown.agent_id' });
  const still = (await master.registry.getAgent('a1'))!;
  expect(still.version).toBe(a1.version);
  expect(still.executors).toEqual(executors);
  expect(await master.registry.getAgentWorkVersion('a1')).toBe(work);
  expect((await computeWork(master.ctx, still, work)).shutdown_executors).toEqual([]);
});

it("reaches an agent already waiting in its work long-poll (the agent item is read again)", async () => {
  const stale = (await master.registry.getAgent('a1'))!;
  const since = await master.registry.getAgentWorkVersion('a1');
  const poll = pollWork(master.ctx, stale, 5_000, since);
  await shutdownExecutor(master.ctx, await asFramework('f1'), call('f1', 'e1'));
  expect((await poll).shutdown_executors).toEqual([{ framework_id: 'f1', executor_id: 'e1' }]);
});
