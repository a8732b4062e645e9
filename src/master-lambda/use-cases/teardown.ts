import type { Framework } from '../../core/framework.js';
import { isTerminal } from '../../core/task-state.js';
import type { Stored } from '../../state/registry.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';
import { requestKill } from './kill.js';
import { releaseOffers } from './release-offers.js';

// TEARDOWN (by the framework or an operator), and failover-timeout expiry: the framework is
// removed, its offers withdrawn and every task it has killed at once.

export async function removeFramework(ctx: MasterContext, framework: Stored<Framework>, why: string): Promise<void> {
  const now = ctx.now();
  await retryOnConflict(async (attempt) => {
    const fw = attempt === 1 ? framework : await ctx.registry.getFramework(framework.id);
    if (!fw || fw.removedAt !== undefined) return;
    await ctx.registry.transaction().putFramework({ ...fw, connected: false, removedAt: now }, { version: fw.version }).commit();
  });
  await releaseOffers(ctx, await ctx.registry.listOffersByFramework(framework.id), { rescind: false });
  const tasks = (await ctx.registry.listTasksByFramework(framework.id)).filter((t) => !isTerminal(t.state));
  for (const t of tasks) await requestKill(ctx, t.frameworkId, t.taskId, undefined);
  await ctx.registry.deleteLiveness('framework', framework.id);
  ctx.notifier.notify(`framework:${framework.id}`);
  ctx.log.info('framework removed', { frameworkId: framework.id, why, tasksKilled: tasks.length });
}
