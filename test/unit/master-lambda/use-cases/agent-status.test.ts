import { beforeEach, expect, it } from 'vitest';
import type { FrameworkId } from '../../../../src/core/ids.js';
import { silentLogger } from '../../../../src/core/logger.js';
import { resources } from '../../../../src/core/resources.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { applyStatusUpdates } from '../../../../src/master-lambda/use-cases/agent-status.js';
import type { StatusUpdate } from '../../../../src/wire/agent-api.js';
import { agent, framework, task } from '../../../contract/state/registry.contract.js';
import { RacingStore } from '../../../support/racing-store.js';

// A status request's updates for one framework commit in one transaction (in pieces under
// DynamoDB's 100-item limit), so the framework's log head is written once per request, not once
// per task; a conflict on any of its items retries the whole piece.

let store: RacingStore;
let master: Master;
const fid = 'f1' as FrameworkId;
const TASKS = 40;
const update = (tid: string, state: string): StatusUpdate => ({ framework_id: fid, task_id: tid, state, uuid: `${tid}-${state}`, source: 'SOURCE_EXECUTOR', timestamp: 1 });
const ids = Array.from({ length: TASKS }, (_, i) => `t${i}`);

beforeEach(async () => {
  store = new RacingStore();
  master = new Master({ store, log: silentLogger });
  const tx = master.registry.transaction();
  tx.putAgent(agent('a1', { total: resources({ cpus: 40, mem: 4096 }), allocated: resources({ cpus: 0.5 * TASKS, mem: 64 * TASKS }) }), 'absent').putFramework(framework(fid), 'absent');
  await tx.commit();
  for (const id of ids) await master.registry.transaction().putTask(task(fid, id, 'a1'), 'absent').commit();
  store.transactions = [];
});

it("commits one request's updates for a framework in as few transactions as fit, each task's updates in order", async () => {
  const a1 = (await master.registry.getAgent('a1'))!;
  const updates = ids.flatMap((id) => [update(id, 'TASK_STARTING'), update(id, 'TASK_RUNNING')]);
  const answer = await applyStatusUpdates(master.ctx, a1, updates);
  expect(answer.results.map((r) => r.uuid)).toEqual(updates.map((u) => u.uuid));
  expect(answer.results.every((r) => r.result === 'applied')).toBe(true);
  // 40 tasks + 80 events + the log head: two transactions under 100 items, not forty.
  expect(store.transactions).toHaveLength(2);
  expect(Math.max(...store.transactions)).toBeLessThanOrEqual(100);
  for (const id of ids) expect((await master.registry.getTask(fid, id))?.state).toBe('RUNNING');
  const events = await master.registry.readEvents(fid, 0, 1000);
  const t7 = events.filter((e) => (e.body as { update?: { status: { task_id: { value: string } } } }).update?.status.task_id.value === 't7');
  expect(t7.map((e) => (e.body as { update: { status: { state: string } } }).update.status.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
});

it('returns every ended task\'s resources to the agent in the same transaction', async () => {
  const a1 = (await master.registry.getAgent('a1'))!;
  await applyStatusUpdates(master.ctx, a1, ids.slice(0, 10).map((id) => update(id, 'TASK_FINISHED')));
  expect(store.transactions).toHaveLength(1);
  expect((await master.registry.getAgent('a1'))!.allocated).toEqual(resources({ cpus: 0.5 * (TASKS - 10), mem: 64 * (TASKS - 10) }));
});

it('retries the whole piece when another writer changes the log head first, and applies each update once', async () => {
  const a1 = (await master.registry.getAgent('a1'))!;
  // Another request (the same agent's resend path, or another agent's) wins the race on the head.
  store.beforeCommit = async () => {
    await applyStatusUpdates(master.ctx, (await master.registry.getAgent('a1'))!, [update('t0', 'TASK_RUNNING')]);
  };
  const answer = await applyStatusUpdates(master.ctx, a1, ids.slice(0, 5).map((id) => update(id, 'TASK_RUNNING')));
  expect(store.beforeCommit).toBeUndefined(); // the race did happen
  // t0's update was applied by the winner: the retry reads it back and answers it as a resend.
  expect(answer.results.map((r) => r.result)).toEqual(['duplicate', 'applied', 'applied', 'applied', 'applied']);
  const running = (await master.registry.readEvents(fid, 0, 1000)).filter((e) => (e.body as { update: { status: { state: string } } }).update.status.state === 'TASK_RUNNING');
  expect(running).toHaveLength(6); // t0 twice (at-least-once: the resend is delivered again), t1..t4 once
});
