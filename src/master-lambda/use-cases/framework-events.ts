import type { RegistryTransaction } from '../../state/registry.js';
import type { SchedulerEvent } from '../codec/scheduler-event.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';

// Appends events to frameworks' logs, alone or inside a larger transaction.

/** Adds the events to `tx` after reading each framework's log head; returns the frameworks touched. */
export async function addEvents(
  ctx: MasterContext,
  tx: RegistryTransaction,
  events: ReadonlyMap<string, readonly SchedulerEvent[]>,
): Promise<string[]> {
  const ids = [...events.keys()].filter((id) => (events.get(id)?.length ?? 0) > 0);
  const heads = await Promise.all(ids.map((id) => ctx.registry.getEventLog(id)));
  ids.forEach((id, i) => tx.appendEvents(id, heads[i], events.get(id)!));
  return ids;
}

export async function appendEvents(ctx: MasterContext, frameworkId: string, events: readonly SchedulerEvent[]): Promise<void> {
  if (events.length === 0) return;
  // Big batches (an implicit reconcile of many tasks) go in chunks under the transaction limit.
  for (let i = 0; i < events.length; i += 90) {
    const chunk = events.slice(i, i + 90);
    await retryOnConflict(async () => {
      const tx = ctx.registry.transaction();
      await addEvents(ctx, tx, new Map([[frameworkId, chunk]]));
      await tx.commit();
    });
  }
  ctx.notifier.notify(`framework:${frameworkId}`);
}

export function notifyFrameworks(ctx: MasterContext, ids: Iterable<string>): void {
  for (const id of ids) ctx.notifier.notify(`framework:${id}`);
}
