import { ForbiddenError, ValidationError } from '../../core/errors.js';
import type { Framework } from '../../core/framework.js';
import type { Offer } from '../../core/offer.js';
import type { Stored } from '../../state/registry.js';
import type { SchedulerCall } from '../codec/scheduler-call.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';
import { releaseOffers } from './release-offers.js';

// DECLINE, REVIVE and SUPPRESS: what a framework says about the offers it wants.

export async function decline(ctx: MasterContext, framework: Stored<Framework>, call: Extract<SchedulerCall, { type: 'DECLINE' }>): Promise<number> {
  const ids = call.decline.offer_ids.map((o) => o.value);
  const refuseSeconds = call.decline.filters?.refuse_seconds ?? ctx.config.defaultRefuseSeconds;
  const offers = await Promise.all(ids.map((id) => ctx.registry.getOffer(id)));
  offers.forEach((o, i) => {
    if (o && o.frameworkId !== framework.id) throw new ForbiddenError(`offer ${ids[i]} was not made to this framework`, `decline.offer_ids[${i}]`);
  });
  // Unknown offers (already rescinded or accepted) are ignored, as Mesos does.
  const live = offers.filter((o): o is Stored<Offer> => o !== undefined);
  const declined = await releaseOffers(ctx, live, { rescind: false, ...(refuseSeconds > 0 ? { filterUntil: ctx.now() + refuseSeconds * 1000 } : {}) });
  ctx.metrics.offer('declined', framework.id, declined);
  return declined;
}

function checkRoles(framework: Framework, roles: readonly string[] | undefined, field: string): readonly string[] {
  if (roles === undefined || roles.length === 0) return framework.info.roles;
  roles.forEach((r, i) => {
    if (!framework.info.roles.includes(r)) throw new ValidationError(`${field}[${i}] '${r}' is not one of the framework's roles`, `${field}[${i}]`);
  });
  return roles;
}

async function setSuppressed(ctx: MasterContext, framework: Stored<Framework>, next: (current: readonly string[]) => string[]): Promise<void> {
  await retryOnConflict(async (attempt) => {
    const fw = attempt === 1 ? framework : await ctx.registry.getFramework(framework.id);
    if (!fw) return;
    await ctx.registry.transaction().putFramework({ ...fw, suppressedRoles: next(fw.suppressedRoles) }, { version: fw.version }).commit();
  });
}

/** REVIVE: removes the framework's refusal filters and un-suppresses the roles (all when none given). */
export async function revive(ctx: MasterContext, framework: Stored<Framework>, call: Extract<SchedulerCall, { type: 'REVIVE' }>): Promise<void> {
  const roles = checkRoles(framework, call.revive?.roles, 'revive.roles');
  await setSuppressed(ctx, framework, (cur) => cur.filter((r) => !roles.includes(r)));
  const filters = await ctx.registry.listDeclineFiltersByFramework(framework.id);
  for (let i = 0; i < filters.length; i += 50) {
    const tx = ctx.registry.transaction();
    for (const f of filters.slice(i, i + 50)) tx.deleteDeclineFilter(f.frameworkId, f.agentId);
    await tx.commit();
  }
  ctx.notifier.notify('allocation');
}

/** SUPPRESS: no more offers for the roles (all when none given) until REVIVE. */
export async function suppress(ctx: MasterContext, framework: Stored<Framework>, call: Extract<SchedulerCall, { type: 'SUPPRESS' }>): Promise<void> {
  const roles = checkRoles(framework, call.suppress?.roles, 'suppress.roles');
  await setSuppressed(ctx, framework, (cur) => [...new Set([...cur, ...roles])]);
}
