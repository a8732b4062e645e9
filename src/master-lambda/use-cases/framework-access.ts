import { ForbiddenError, NotFoundError, ValidationError } from '../../core/errors.js';
import type { Framework, FrameworkInfo } from '../../core/framework.js';
import type { FrameworkCaller } from '../../http/auth.js';
import type { Stored } from '../../state/registry.js';
import type { MasterContext } from '../master-context.js';

// Every scheduler call but SUBSCRIBE must come on the framework's current stream: a missing
// Mesos-Stream-Id is a 400, another stream's (an old subscription, another framework) a 403.
// Every call that sets a FrameworkInfo (SUBSCRIBE, UPDATE_FRAMEWORK) is authorized against the
// caller: its roles must be ones the principal may use, and its principal the caller's own.

/** The FrameworkInfo as the caller may have it: throws ForbiddenError naming the field otherwise. */
export function authorizeFrameworkInfo(caller: FrameworkCaller, info: FrameworkInfo, field: string): FrameworkInfo {
  info.roles.forEach((r, i) => {
    if (caller.roles && !caller.roles.includes(r)) {
      throw new ForbiddenError(`principal '${caller.principal}' may not use role '${r}'`, `${field}.roles[${i}]`);
    }
  });
  if (caller.principal !== undefined && info.principal !== undefined && info.principal !== caller.principal) {
    throw new ForbiddenError(`framework_info.principal '${info.principal}' is not the authenticated principal`, `${field}.principal`);
  }
  return caller.principal !== undefined ? { ...info, principal: caller.principal } : info;
}

export interface CallIdentity {
  readonly streamId: string | undefined;
  /** The authenticated principal, when authentication is on. */
  readonly principal?: string;
}

export async function requireFramework(ctx: MasterContext, frameworkId: string, who: CallIdentity): Promise<Stored<Framework>> {
  if (who.streamId === undefined || who.streamId === '') {
    throw new ValidationError('the Mesos-Stream-Id header from SUBSCRIBE is required', 'Mesos-Stream-Id');
  }
  const fw = await ctx.registry.getFramework(frameworkId);
  if (!fw) throw new NotFoundError(`framework ${frameworkId} is not subscribed`, 'framework_id');
  if (fw.info.principal !== undefined && who.principal !== undefined && fw.info.principal !== who.principal) {
    throw new ForbiddenError(`principal '${who.principal}' may not act for framework ${frameworkId}`, 'framework_id');
  }
  if (fw.removedAt !== undefined) throw new ForbiddenError(`framework ${frameworkId} has been removed`, 'framework_id');
  if (fw.streamId !== who.streamId) {
    throw new ForbiddenError('Mesos-Stream-Id does not match the framework\'s current subscription', 'Mesos-Stream-Id');
  }
  return fw;
}
