import { randomUUID } from 'node:crypto';
import type { Agent } from '../../core/agent.js';
import { ConflictError, FencedError } from '../../core/errors.js';
import type { AgentId, FrameworkId, OfferId } from '../../core/ids.js';
import type { Offer } from '../../core/offer.js';
import { add, EMPTY, subtractSaturating, type Resources } from '../../core/resources.js';
import { isTerminal } from '../../core/task-state.js';
import type { Stored } from '../../state/registry.js';
import { quotaLimitResources } from '../../core/role.js';
import { allocate } from '../allocator/allocate.js';
import type { AllocationInput, OfferDecision } from '../allocator/types.js';
import { offersEvent } from '../codec/scheduler-event.js';
import type { MasterContext } from '../master-context.js';
import { addEvents } from './framework-events.js';

// One allocation round on the lease holder: read the region's state, let the pure DRF engine
// decide, write the offers. Every write is fenced by the leader's epoch and conditional on
// the agent's version, so an offer never exceeds what the agent has free.

export interface RoundStats {
  /** The earliest expiry among outstanding offers (Infinity when none), so expiry runs only when due. */
  readonly nextOfferExpiry: number;
  /** The earliest end of a decline filter (Infinity when none): its agent may be offered again then. */
  readonly nextFilterExpiry: number;
  /** Agent id -> the version this round wrote it at (its offers' counters). */
  readonly agentWrites: ReadonlyMap<string, number>;
  readonly offers: number;
  readonly skipped: number;
  readonly agents: number;
  readonly frameworks: number;
}

/**
 * Offers this leader made lately. Role allocations are read from two collections (offers,
 * tasks) that an ACCEPT changes together; a read between the two, or a GSI that lags, could
 * miss a launch in both and let a role pass its quota. Counting the leader's own recent
 * offers as well can only over-count, for a few seconds, which is the safe side. Only
 * stores whose indexes lag (DynamoDB) need it; in memory the sequential reads are exact.
 */
export class RecentOffers {
  private readonly offers = new Map<string, Offer>();
  constructor(private readonly keepMs = 5_000) {}

  add(offers: readonly Offer[]): void {
    for (const o of offers) this.offers.set(o.id, o);
  }

  live(now: number): Offer[] {
    for (const [id, o] of this.offers) if (now - o.createdAt > this.keepMs) this.offers.delete(id);
    return [...this.offers.values()];
  }
}

export function availableOn(agent: Agent): Resources {
  return subtractSaturating(agent.total, add(agent.allocated, agent.offered));
}

export async function buildAllocationInput(
  ctx: MasterContext,
  seed?: number,
  recent?: RecentOffers,
): Promise<{ input: AllocationInput; agents: Map<string, Stored<Agent>>; nextOfferExpiry: number; nextFilterExpiry: number }> {
  const [agents, frameworks, roles, filters] = await Promise.all([
    ctx.registry.listAgents(),
    ctx.registry.listFrameworks(),
    ctx.registry.listRoles(),
    ctx.registry.listDeclineFilters(),
  ]);
  // Offers before tasks: a launch in between is then counted twice (as offer and task), never missed.
  const offers: Offer[] = await ctx.registry.listOffers();
  const tasks = await ctx.registry.listTasks();
  // Recent offers the reads show neither as offers nor as launched tasks may be in flight.
  const seen = new Set([...offers.map((o) => o.id), ...tasks.flatMap((t) => t.offerIds ?? [])]);
  for (const o of recent?.live(ctx.now()) ?? []) if (!seen.has(o.id)) offers.push(o);
  const held = new Map<string, Record<string, Resources>>();
  const hold = (fid: string, role: string, r: Resources): void => {
    const m = held.get(fid) ?? {};
    m[role] = add(m[role] ?? EMPTY, r);
    held.set(fid, m);
  };
  for (const t of tasks) if (!isTerminal(t.state)) hold(t.frameworkId, t.role, t.resources);
  for (const o of offers) hold(o.frameworkId, o.role, o.resources);
  const input: AllocationInput = {
    agents: agents
      .filter((a) => a.reachability !== 'GONE')
      .map((a) => ({
        id: a.id,
        total: a.total,
        available: availableOn(a),
        allocatable: a.reachability === 'REACHABLE' && !a.deactivated && a.drain === undefined && a.health?.healthy !== false,
      })),
    frameworks: frameworks
      .filter((f) => f.removedAt === undefined)
      .map((f) => ({ id: f.id, roles: f.info.roles, suppressedRoles: f.suppressedRoles, active: f.connected, allocated: held.get(f.id) ?? {} })),
    roles: roles.map((r) => ({ name: r.name, weight: r.weight, ...(r.quotaLimit ? { quotaLimit: quotaLimitResources(r.quotaLimit) } : {}) })),
    filters: new Set(filters.map((f) => `${f.frameworkId}#${f.agentId}`)),
    minAllocatable: ctx.config.minAllocatable,
    ...(seed !== undefined ? { seed } : {}),
  };
  const nextOfferExpiry = offers.reduce((m, o) => Math.min(m, o.expiresAt), Infinity);
  const nextFilterExpiry = filters.reduce((m, f) => Math.min(m, f.until), Infinity);
  return { input, agents: new Map(agents.map((a) => [a.id, a])), nextOfferExpiry, nextFilterExpiry };
}

export async function runAllocationRound(
  ctx: MasterContext,
  epoch: number,
  recent?: RecentOffers,
  seed = Math.floor(Math.random() * 2 ** 31),
): Promise<RoundStats> {
  const { input, agents, nextOfferExpiry: earliest, nextFilterExpiry } = await buildAllocationInput(ctx, seed, recent);
  const agentWrites = new Map<string, number>();
  let nextOfferExpiry = earliest;
  const { offers: decisions } = allocate(input);
  const byFramework = new Map<string, OfferDecision[]>();
  for (const d of decisions) byFramework.set(d.frameworkId, [...(byFramework.get(d.frameworkId) ?? []), d]);

  let made = 0;
  let skipped = 0;
  const now = ctx.now();
  for (const [frameworkId, list] of byFramework) {
    for (let i = 0; i < list.length; i += ctx.config.offersPerTransaction) {
      const batch = list.slice(i, i + ctx.config.offersPerTransaction);
      const offers: Offer[] = batch.map((d) => {
        const agent = agents.get(d.agentId)!;
        return {
          id: `${randomUUID()}-O` as OfferId,
          frameworkId: d.frameworkId as FrameworkId,
          agentId: d.agentId as AgentId,
          hostname: agent.hostname,
          role: d.role,
          resources: d.resources,
          attributes: agent.attributes,
          epoch,
          createdAt: now,
          expiresAt: now + ctx.config.offerTimeoutMs,
        };
      });
      const perAgent = new Map<string, Resources>();
      for (const o of offers) perAgent.set(o.agentId, add(perAgent.get(o.agentId) ?? EMPTY, o.resources));
      const tx = ctx.registry.transaction().fence(epoch);
      for (const [agentId, sum] of perAgent) {
        const a = agents.get(agentId)!;
        tx.putAgent({ ...a, offered: add(a.offered, sum) }, { version: a.version });
      }
      for (const o of offers) tx.putOffer(o);
      await addEvents(ctx, tx, new Map([[frameworkId, [offersEvent(offers)]]]));
      try {
        await tx.commit();
      } catch (e) {
        if (e instanceof FencedError) throw e; // no longer leader: the round ends here
        if (!(e instanceof ConflictError)) throw e;
        // An agent or the framework's log changed since the read: those offers wait for the next round.
        skipped += offers.length;
        continue;
      }
      for (const [agentId, sum] of perAgent) {
        const a = agents.get(agentId)!;
        agents.set(agentId, { ...a, offered: add(a.offered, sum), version: a.version + 1 });
        agentWrites.set(agentId, a.version + 1);
      }
      recent?.add(offers);
      made += offers.length;
      ctx.metrics.offer('sent', frameworkId, offers.length);
      for (const o of offers) nextOfferExpiry = Math.min(nextOfferExpiry, o.expiresAt);
    }
    ctx.notifier.notify(`framework:${frameworkId}`);
  }
  if (made || skipped) ctx.log.debug('allocation round', { epoch, offers: made, skipped });
  return { offers: made, skipped, agents: input.agents.length, frameworks: input.frameworks.length, nextOfferExpiry, nextFilterExpiry, agentWrites };
}
