import { ValidationError } from '../../core/errors.js';
import type { Framework } from '../../core/framework.js';
import type { Stored } from '../../state/registry.js';
import type { SchedulerCall } from '../codec/scheduler-call.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';
import { releaseOffers } from './release-offers.js';
import { decodeFrameworkInfo } from './subscribe.js';

// UPDATE_FRAMEWORK: new FrameworkInfo (roles, name, failover timeout...) without resubscribing.
// Offers for roles the framework left are rescinded.

export async function updateFramework(
  ctx: MasterContext,
  framework: Stored<Framework>,
  call: Extract<SchedulerCall, { type: 'UPDATE_FRAMEWORK' }>,
): Promise<void> {
  const field = 'update_framework.framework_info';
  const info = decodeFrameworkInfo(call.update_framework.framework_info, field);
  const id = call.update_framework.framework_info.id?.value;
  if (id !== framework.id) throw new ValidationError(`${field}.id must be the framework's id`, `${field}.id`);
  if (framework.info.principal !== undefined && info.principal !== undefined && info.principal !== framework.info.principal) {
    throw new ValidationError(`${field}.principal cannot change`, `${field}.principal`);
  }
  const suppressed = call.update_framework.suppressed_roles ?? [];
  await retryOnConflict(async (attempt) => {
    const fw = attempt === 1 ? framework : await ctx.registry.getFramework(framework.id);
    if (!fw) return;
    const next: Framework = {
      ...fw,
      info: { ...info, ...(fw.info.principal !== undefined ? { principal: fw.info.principal } : {}) },
      suppressedRoles: suppressed.filter((r) => info.roles.includes(r)),
    };
    await ctx.registry.transaction().putFramework(next, { version: fw.version }).commit();
  });
  const dropped = (await ctx.registry.listOffersByFramework(framework.id)).filter((o) => !info.roles.includes(o.role));
  await releaseOffers(ctx, dropped, { rescind: true });
  ctx.notifier.notify('allocation');
}
