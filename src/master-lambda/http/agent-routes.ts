import type { MasterContext } from '../master-context.js';
import { ForbiddenError, ValidationError } from '../../core/errors.js';
import { authorizeRequest, executorMessagesRequest, heartbeatRequest, registerRequest, statusRequest, workRequest } from '../../wire/agent-api.js';
import { relayExecutorMessages } from '../use-cases/executor-messages.js';
import { authorizeReader } from '../use-cases/reader-access.js';
import { parse } from '../../wire/validate.js';
import { agentHeartbeat, registerAgent, requireAgentSession } from '../use-cases/agent-register.js';
import { applyStatusUpdates } from '../use-cases/agent-status.js';
import { confirmAcks, pollWork } from '../use-cases/agent-work.js';
import type { JsonValue } from '../../core/json.js';
import { checkActsFor, type AgentCaller, type Authenticator } from '../../http/auth.js';
import { parseJsonBody } from '../../http/json-body.js';
import type { HttpRequest, HttpResponse, JsonResponse } from '../../http/types.js';
import type { AgentChannel } from '../../core/agent.js';

// The agent-facing API: register, heartbeat, long-poll for work, status updates, and who may
// read the agent's own endpoint (task logs, state). HTTP and the agent socket
// (../agent-socket/socket-handlers.ts) both call agentCall with an authenticated caller.

/** How the call arrived: the socket answers `work` at once (the master pushes a nudge instead of holding the call). */
export interface AgentCallOptions {
  readonly signal?: AbortSignal;
  readonly channel?: AgentChannel;
}

export async function agentRoute(ctx: MasterContext, auth: Authenticator, req: HttpRequest, agentId: string | undefined, action: string): Promise<HttpResponse> {
  const caller = await auth.agent(req, agentId);
  return agentCall(ctx, auth, caller, agentId, action, parseJsonBody(req), req.signal ? { signal: req.signal } : {});
}

/** One agent API call by an already authenticated caller; `agentId` is the agent it acts for (none for register). */
export async function agentCall(
  ctx: MasterContext,
  auth: Authenticator,
  caller: AgentCaller,
  agentId: string | undefined,
  action: string,
  body: unknown,
  options: AgentCallOptions = {},
): Promise<JsonResponse> {
  const channel = options.channel ?? 'http';
  if (agentId !== undefined) checkActsFor(caller, agentId);
  if (action === 'register') {
    const r = parse(registerRequest, body);
    if (r.agent_id !== undefined) checkActsFor(caller, r.agent_id);
    // A credential bound to agent ids registers those ids only, never a new agent.
    else if (caller.agentIds !== undefined) {
      throw new ForbiddenError(`this agent credential is bound to agent ids (${caller.agentIds.join(', ')}): register with one of them as agent_id`, 'agent_id');
    }
    return { status: 200, body: { ...(await registerAgent(ctx, r, channel)) } };
  }
  if (agentId === undefined) throw new ValidationError(`${action} needs the agent id it acts for`, 'agent_id');
  const id = agentId;
  if (action === 'authorize') {
    const r = parse(authorizeRequest, body);
    return { status: 200, body: { ...(await authorizeReader(ctx, auth, r.authorization, r.framework_ids)) } };
  }
  if (action === 'heartbeat') {
    const r = parse(heartbeatRequest, body);
    await agentHeartbeat(ctx, id, r.session, r.healthy ?? true, r.message);
    return { status: 200, body: { ok: true } };
  }
  if (action === 'work') {
    const r = parse(workRequest, body);
    const agent = await requireAgentSession(ctx, id, r.session);
    if (r.confirmed_acks?.length) await confirmAcks(ctx, id, r.confirmed_acks);
    const max = channel === 'socket' ? 0 : ctx.config.longPollMaxWaitMs;
    const wait = Math.min((r.wait_seconds ?? ctx.config.longPollMaxWaitMs / 1000) * 1000, max);
    // Resources and TaskSpec are plain JSON data; the type system just cannot see it.
    return { status: 200, body: (await pollWork(ctx, agent, wait, r.since_version, options.signal)) as unknown as JsonValue };
  }
  if (action === 'messages') {
    const r = parse(executorMessagesRequest, body);
    const agent = await requireAgentSession(ctx, id, r.session);
    return { status: 200, body: { ...(await relayExecutorMessages(ctx, agent, r.messages)) } };
  }
  if (action !== 'status') throw new ValidationError(`unknown agent call '${action.slice(0, 64)}'`, 'action');
  const r = parse(statusRequest, body);
  const agent = await requireAgentSession(ctx, id, r.session);
  return { status: 200, body: { ...(await applyStatusUpdates(ctx, agent, r.updates)) } };
}
