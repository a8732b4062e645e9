import type { MasterContext } from '../master-context.js';
import { ForbiddenError } from '../../core/errors.js';
import { authorizeRequest, executorMessagesRequest, heartbeatRequest, registerRequest, statusRequest, workRequest } from '../../wire/agent-api.js';
import { relayExecutorMessages } from '../use-cases/executor-messages.js';
import { authorizeReader } from '../use-cases/reader-access.js';
import { parse } from '../../wire/validate.js';
import { agentHeartbeat, registerAgent, requireAgentSession } from '../use-cases/agent-register.js';
import { applyStatusUpdates } from '../use-cases/agent-status.js';
import { confirmAcks, pollWork } from '../use-cases/agent-work.js';
import type { JsonValue } from '../../core/json.js';
import type { Authenticator } from '../../http/auth.js';
import { parseJsonBody } from '../../http/json-body.js';
import type { HttpRequest, HttpResponse } from '../../http/types.js';

// The agent-facing API: register, heartbeat, long-poll for work, status updates, and who may
// read the agent's own endpoint (task logs, state).

export async function agentRoute(ctx: MasterContext, auth: Authenticator, req: HttpRequest, agentId: string | undefined, action: string): Promise<HttpResponse> {
  const caller = await auth.agent(req, agentId);
  const body = parseJsonBody(req);
  if (action === 'register') {
    const r = parse(registerRequest, body);
    if (r.agent_id !== undefined) await auth.agent(req, r.agent_id);
    // A credential bound to agent ids registers those ids only, never a new agent.
    else if (caller.agentIds !== undefined) {
      throw new ForbiddenError(`this agent credential is bound to agent ids (${caller.agentIds.join(', ')}): register with one of them as agent_id`, 'agent_id');
    }
    return { status: 200, body: { ...(await registerAgent(ctx, r)) } };
  }
  const id = agentId!;
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
    const wait = Math.min((r.wait_seconds ?? ctx.config.longPollMaxWaitMs / 1000) * 1000, ctx.config.longPollMaxWaitMs);
    // Resources and TaskSpec are plain JSON data; the type system just cannot see it.
    return { status: 200, body: (await pollWork(ctx, agent, wait, r.since_version, req.signal)) as unknown as JsonValue };
  }
  if (action === 'messages') {
    const r = parse(executorMessagesRequest, body);
    const agent = await requireAgentSession(ctx, id, r.session);
    return { status: 200, body: { ...(await relayExecutorMessages(ctx, agent, r.messages)) } };
  }
  const r = parse(statusRequest, body);
  const agent = await requireAgentSession(ctx, id, r.session);
  return { status: 200, body: { ...(await applyStatusUpdates(ctx, agent, r.updates)) } };
}
