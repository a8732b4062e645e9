import { StratusError } from '../../core/errors.js';
import type { Authenticator } from '../../http/auth.js';
import type { HttpRequest } from '../../http/types.js';
import type { AuthorizeResponse } from '../../wire/agent-api.js';
import type { MasterContext } from '../master-context.js';

// Who may read an agent's own endpoint (a task's logs, the agent's state): the agent asks the
// master, which checks the caller's credential as it checks its own callers. An operator reads
// everything; a framework principal the tasks of its own frameworks only. With open access
// (`stratus dev` without --authenticate) everyone is an operator, as on the master.

export async function authorizeReader(ctx: MasterContext, auth: Authenticator, authorization: string | undefined, frameworkIds: readonly string[]): Promise<AuthorizeResponse> {
  const req: HttpRequest = { method: 'GET', path: '/', query: new URLSearchParams(), headers: authorization !== undefined ? { authorization } : {}, body: '' };
  try {
    await auth.operator(req);
    return { operator: true, frameworks: [...frameworkIds] };
  } catch (e) {
    if (!(e instanceof StratusError && e.code === 'UNAUTHENTICATED')) throw e;
  }
  // Not an operator: a framework principal, or a 401 (with the framework's own message).
  const caller = await auth.framework(req);
  const frameworks = await Promise.all(frameworkIds.map((id) => ctx.registry.getFramework(id).catch(() => undefined)));
  return {
    operator: false,
    ...(caller.principal !== undefined ? { principal: caller.principal } : {}),
    frameworks: frameworkIds.filter((_, i) => {
      const fw = frameworks[i];
      return fw !== undefined && (fw.info.principal === undefined || fw.info.principal === caller.principal);
    }),
  };
}
