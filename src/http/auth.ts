import { ForbiddenError } from '../core/errors.js';
import type { HttpRequest } from './types.js';

// Who is calling. Every route asks this port: `stratus dev` runs with open access (like a fresh
// Mesos master), a deployed region with credentials (src/http/credentials.ts).

export interface FrameworkCaller {
  /** The authenticated principal; undefined when authentication is off. */
  readonly principal?: string;
  /** Roles the principal may subscribe to; undefined = any. */
  readonly roles?: readonly string[];
}

export interface AgentCaller {
  /** The agent ids a bound agent credential may act for; undefined = any. */
  readonly agentIds?: readonly string[];
}

export interface Authenticator {
  /** Throws UnauthenticatedError (401) when credentials are missing or wrong. */
  framework(req: HttpRequest): Promise<FrameworkCaller>;
  /**
   * Checks the agent credential; with `agentId` (the agent the call acts for) a bound credential
   * must be bound to it (ForbiddenError otherwise).
   */
  agent(req: HttpRequest, agentId?: string): Promise<AgentCaller>;
  operator(req: HttpRequest): Promise<void>;
}

/** A bound agent credential acts only for its agent ids (ForbiddenError otherwise), whichever transport carried the call. */
export function checkActsFor(caller: AgentCaller, agentId: string): void {
  if (caller.agentIds !== undefined && !caller.agentIds.includes(agentId)) {
    throw new ForbiddenError(`this agent credential may not act for agent ${agentId}`, 'agent_id');
  }
}

export const openAccess: Authenticator = {
  framework: async () => ({}),
  agent: async () => ({}),
  operator: async () => {},
};

/**
 * Who may call a route, checked by the router before the handler runs. Routes whose handler
 * needs the caller's identity (the scheduler and agent APIs) take `open` and ask the
 * Authenticator themselves.
 */
export type Access = 'open' | 'operator' | 'framework-or-operator';

export async function authorize(auth: Authenticator, access: Access, req: HttpRequest): Promise<void> {
  if (access === 'operator') return auth.operator(req);
  if (access === 'framework-or-operator') {
    try {
      await auth.operator(req);
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'UNAUTHENTICATED') throw e;
      await auth.framework(req);
    }
  }
}
