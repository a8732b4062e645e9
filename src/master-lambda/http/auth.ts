import type { HttpRequest } from './types.js';

// Who is calling. The master asks this port at every route; `stratus dev` runs with open
// access (like a fresh Mesos master), a deployed region with credentials.

export interface FrameworkCaller {
  /** The authenticated principal; undefined when authentication is off. */
  readonly principal?: string;
  /** Roles the principal may subscribe to; undefined = any. */
  readonly roles?: readonly string[];
}

export interface Authenticator {
  /** Throws UnauthenticatedError (401) when credentials are missing or wrong. */
  framework(req: HttpRequest): Promise<FrameworkCaller>;
  /** Checks the agent credential; `agentId` is the agent the call acts for, when there is one. */
  agent(req: HttpRequest, agentId?: string): Promise<void>;
  operator(req: HttpRequest): Promise<void>;
}

export const openAccess: Authenticator = {
  framework: async () => ({}),
  agent: async () => {},
  operator: async () => {},
};
