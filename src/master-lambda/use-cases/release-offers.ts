import type { Offer } from '../../core/offer.js';
import { add, EMPTY } from '../../core/resources.js';
import type { Stored } from '../../state/registry.js';
import { rescindEvent, type SchedulerEvent } from '../codec/scheduler-event.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';
import { addEvents, notifyFrameworks } from './framework-events.js';
import { giveBack } from '../agent-counters.js';

// Returns offers' resources to their agents: for DECLINE (with a refusal filter), for offer
// timeouts, failover and agent loss (with a RESCIND event). One transaction per agent, so
// the agent's `offered` and the offers' existence change together.

export interface ReleaseOptions {
  /** Send RESCIND events to the frameworks. */
  readonly rescind: boolean;
  /** A DECLINE filter on (framework, agent) until then. */
  readonly filterUntil?: number;
}

export async function releaseOffers(ctx: MasterContext, offers: readonly Offer[], options: ReleaseOptions): Promise<number> {
  const byAgent = new Map<string, Offer[]>();
  for (const o of offers) {
    const list = byAgent.get(o.agentId) ?? [];
    list.push(o);
    byAgent.set(o.agentId, list);
  }
  let released = 0;
  const touched = new Set<string>();
  for (const [agentId, agentOffers] of byAgent) {
    released += await retryOnConflict(async () => {
      // Re-read: an offer may have been accepted or released by someone else meanwhile.
      const live = (await Promise.all(agentOffers.map((o) => ctx.registry.getOffer(o.id)))).filter((o): o is Stored<Offer> => o !== undefined);
      if (live.length === 0) return 0;
      const agent = await ctx.registry.getAgent(agentId);
      const tx = ctx.registry.transaction();
      let returned = EMPTY;
      const events = new Map<string, SchedulerEvent[]>();
      const filtered = new Set<string>();
      for (const o of live) {
        tx.deleteOffer(o.id, { version: o.version });
        returned = add(returned, o.resources);
        if (options.rescind) events.set(o.frameworkId, [...(events.get(o.frameworkId) ?? []), rescindEvent(o.id)]);
        if (options.filterUntil !== undefined && !filtered.has(o.frameworkId)) {
          filtered.add(o.frameworkId);
          tx.putDeclineFilter({ frameworkId: o.frameworkId, agentId: o.agentId, until: options.filterUntil });
        }
      }
      if (agent) tx.putAgent({ ...agent, offered: giveBack(agent.offered, returned, 'agent.offered') }, { version: agent.version });
      for (const id of await addEvents(ctx, tx, events)) touched.add(id);
      await tx.commit();
      if (options.rescind) for (const o of live) ctx.metrics.offer('rescinded', o.frameworkId);
      return live.length;
    });
  }
  notifyFrameworks(ctx, touched);
  if (released > 0) ctx.notifier.notify('allocation');
  return released;
}
