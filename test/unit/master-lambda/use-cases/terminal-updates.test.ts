import { beforeEach, expect, it } from 'vitest';
import type { FrameworkId } from '../../../../src/core/ids.js';
import { silentLogger } from '../../../../src/core/logger.js';
import { resources } from '../../../../src/core/resources.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { applyStatusUpdates } from '../../../../src/master-lambda/use-cases/agent-status.js';
import { reconcile } from '../../../../src/master-lambda/use-cases/reconcile.js';
import type { StatusUpdate } from '../../../../src/wire/agent-api.js';
import { agent, framework, task } from '../../../contract/state/registry.contract.js';
import { RacingStore } from '../../../support/racing-store.js';

// Once a task's terminal update is delivered, no earlier state is ever delivered for it: not an
// agent's resend of an older update, not a reconciliation answer read before the task ended.

let store: RacingStore;
let master: Master;
const fid = 'f1' as FrameworkId;

const update = (state: string, uuid: string): StatusUpdate => ({ framework_id: fid, task_id: 't1', state, uuid, source: 'SOURCE_EXECUTOR', timestamp: 1 });

async function states(): Promise<string[]> {
  const events = await master.registry.readEvents(fid, 0, 1000);
  return events.filter((e) => e.type === 'UPDATE').map((e) => {
    const s = (e.body as { update: { status: { state: string; reason?: string } } }).update.status;
    return s.reason === 'REASON_RECONCILIATION' ? `${s.state}(reconciled)` : s.state;
  });
}

beforeEach(async () => {
  store = new RacingStore();
  master = new Master({ store, log: silentLogger });
  await master.registry
    .transaction()
    .putAgent(agent('a1', { allocated: resources({ cpus: 0.5, mem: 64 }) }), 'absent')
    .putFramework(framework(fid), 'absent')
    .putTask(task(fid, 't1', 'a1'), 'absent')
    .commit();
});

it("answers an agent's resend of an earlier update after the terminal one as superseded, and delivers nothing", async () => {
  const a1 = (await master.registry.getAgent('a1'))!;
  const first = await applyStatusUpdates(master.ctx, a1, [update('TASK_STARTING', 'u-start'), update('TASK_RUNNING', 'u-run'), update('TASK_FINISHED', 'u-fin')]);
  expect(first.results.map((r) => r.result)).toEqual(['applied', 'applied', 'applied']);
  // None acknowledged yet: the agent resends all three, in order, as Mesos agents do.
  const again = await applyStatusUpdates(master.ctx, (await master.registry.getAgent('a1'))!, [update('TASK_STARTING', 'u-start'), update('TASK_RUNNING', 'u-run'), update('TASK_FINISHED', 'u-fin')]);
  expect(again.results.map((r) => r.result)).toEqual(['rejected', 'rejected', 'duplicate']);
  expect(again.results[0]!.message).toMatch(/superseded/);
  // The framework hears STARTING, RUNNING, FINISHED and FINISHED again, never STARTING after FINISHED.
  expect(await states()).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED', 'TASK_FINISHED']);
});

it('answers a reconciliation with the latest state when the task ends between its read and its answer', async () => {
  const a1 = (await master.registry.getAgent('a1'))!;
  await applyStatusUpdates(master.ctx, a1, [update('TASK_RUNNING', 'u-run')]);
  // The task finishes after RECONCILE has read it as RUNNING, before RECONCILE writes its answer.
  store.beforeCommit = async () => {
    await applyStatusUpdates(master.ctx, (await master.registry.getAgent('a1'))!, [update('TASK_FINISHED', 'u-fin')]);
  };
  const fw = (await master.registry.getFramework(fid))!;
  await reconcile(master.ctx, fw, { type: 'RECONCILE', framework_id: { value: fid }, reconcile: { tasks: [] } });
  expect(store.beforeCommit).toBeUndefined(); // the race did happen
  // Implicit reconciliation speaks of live tasks only: the finished task gets no answer at all.
  expect(await states()).toEqual(['TASK_RUNNING', 'TASK_FINISHED']);
  // Asked explicitly, it is answered with its latest state.
  await reconcile(master.ctx, fw, { type: 'RECONCILE', framework_id: { value: fid }, reconcile: { tasks: [{ task_id: { value: 't1' } }] } });
  expect(await states()).toEqual(['TASK_RUNNING', 'TASK_FINISHED', 'TASK_FINISHED(reconciled)']);
  expect((await master.registry.getTask(fid, 't1'))?.state).toBe('FINISHED');
});
