import { beforeEach, expect, it } from 'vitest';
import type { Framework } from '../../../../src/core/framework.js';
import { ValidationError } from '../../../../src/core/errors.js';
import type { FrameworkId, StreamId } from '../../../../src/core/ids.js';
import { silentLogger } from '../../../../src/core/logger.js';
import { resources } from '../../../../src/core/resources.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { relayExecutorMessages } from '../../../../src/master-lambda/use-cases/executor-messages.js';
import { MemoryItemStore } from '../../../../src/state/memory-item-store.js';
import { agent } from '../../../contract/state/registry.contract.js';

// Executor -> framework messages relayed by agents: only an executor the master placed on that
// agent for that framework reaches the framework, as a MESSAGE event.

let master: Master;
const fid = 'f1' as FrameworkId;
const executors = { 'f1/e1': { frameworkId: 'f1', executorId: 'e1', resources: resources({ cpus: 0.1 }), fingerprint: '{}', tasks: ['t1'] } };

async function messages(framework: string): Promise<unknown[]> {
  return (await master.registry.readEvents(framework, 0, 100)).filter((e) => e.type === 'MESSAGE').map((e) => e.body);
}

beforeEach(async () => {
  master = new Master({ store: new MemoryItemStore(), log: silentLogger });
  const framework = (id: string): Framework => ({
    id: id as FrameworkId,
    info: { name: id, user: 'u', roles: ['*'], failoverTimeoutSeconds: 0, capabilities: [], checkpoint: false },
    streamId: `s-${id}` as StreamId,
    connected: true,
    lastSeenAt: 0,
    registeredAt: 0,
    suppressedRoles: [],
  });
  await master.registry
    .transaction()
    .putAgent(agent('a1', { allocated: resources({ cpus: 0.1 }), executors }), 'absent')
    .putAgent(agent('a2'), 'absent')
    .putFramework(framework('f1'), 'absent')
    .putFramework(framework('f2'), 'absent')
    .commit();
});

it("delivers an executor's message to its framework as a MESSAGE event", async () => {
  const a1 = (await master.registry.getAgent('a1'))!;
  expect(await relayExecutorMessages(master.ctx, a1, [{ framework_id: fid, executor_id: 'e1', data: 'aGk=' }])).toEqual({ results: ['delivered'] });
  expect(await messages('f1')).toEqual([{ type: 'MESSAGE', message: { agent_id: { value: 'a1' }, executor_id: { value: 'e1' }, data: 'aGk=' } }]);
});

it('refuses an agent speaking for an executor it does not run, for another framework, or another executor', async () => {
  const a1 = (await master.registry.getAgent('a1'))!;
  const a2 = (await master.registry.getAgent('a2'))!;
  expect((await relayExecutorMessages(master.ctx, a2, [{ framework_id: fid, executor_id: 'e1', data: 'aGk=' }])).results).toEqual(['unknown_executor']);
  expect((await relayExecutorMessages(master.ctx, a1, [{ framework_id: 'f2', executor_id: 'e1', data: 'aGk=' }])).results).toEqual(['unknown_executor']);
  expect((await relayExecutorMessages(master.ctx, a1, [{ framework_id: fid, executor_id: 'e2', data: 'aGk=' }])).results).toEqual(['unknown_executor']);
  await expect(relayExecutorMessages(master.ctx, a1, [{ framework_id: fid, executor_id: 'e1', data: 'not base64!' }])).rejects.toBeInstanceOf(ValidationError);
  expect(await messages('f1')).toEqual([]);
  expect(await messages('f2')).toEqual([]);
});
