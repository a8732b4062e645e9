import { ValidationError } from '../../core/errors.js';
import type { Framework } from '../../core/framework.js';
import type { Stored } from '../../state/registry.js';
import type { SchedulerCall } from '../codec/scheduler-call.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';
import type { FrameworkCaller } from '../../http/auth.js';
import { authorizeFrameworkInfo } from './framework-access.js';
import { releaseOffers } from './release-offers.js';
import { decodeFrameworkInfo } from './subscribe.js';

// UPDATE_FRAMEWORK: new FrameworkInfo (roles, name, failover timeout...) without resubscribing.
// Offers for roles the framework left are rescinded. The caller is authorized for the new info
// exactly as for SUBSCRIBE.

export async function updateFramework(
  ctx: MasterContext,
  framework: Stored<Framework>,
  call: Extract<SchedulerCall, { type: 'UPDATE_FRAMEWORK' }>,
  caller: FrameworkCaller,
): Promise<void> {
  const field = 'update_framework.framework_info';
  const id = call.update_framework.framework_info.id?.value;
  if (id !== framework.id) throw new ValidationError(`${field}.id must be the framework's id`, `${field}.id`);
  const decoded = decodeFrameworkInfo(call.update_framework.framework_info, field);
  if (framework.info.principal !== undefined && decoded.principal !== undefined && decoded.principal !== framework.info.principal) {
    throw new ValidationError(`${field}.principal cannot change`, `${field}.principal`);
  }
  // Authorized as SUBSCRIBE is: an update may not take roles the caller's principal may not use.
  const info = authorizeFrameworkInfo(caller, decoded, field);
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
