import { checkActsFor, type AgentCaller, type Authenticator } from '../../http/auth.js';
import { errorResponse } from '../../http/error-response.js';
import type { HttpRequest, JsonResponse } from '../../http/types.js';
import type { AgentConnection } from '../../state/registry.js';
import { ForbiddenError, StratusError, UnauthenticatedError, ValidationError } from '../../core/errors.js';
import { AGENT_SOCKET_PATH, agentFrame, MAX_AGENT_FRAME_BYTES, replyTexts, type ErrorFrame, type WorkNudgeFrame } from '../../wire/agent-socket.js';
import { parse } from '../../wire/validate.js';
import { agentCall } from '../http/agent-routes.js';
import type { MasterContext } from '../master-context.js';
import type { AgentPush } from './agent-push.js';

// The agent channel's three events, transport-neutral: the local server (local-socket-server.ts)
// and the API Gateway WebSocket Lambda (../lambda/agent-socket-handler.ts) call these.
//   connect     authenticates the upgrade's Authorization header (the same Authenticator as
//               HTTP) and records the connection in the Registry; refused -> no connection
//   message     one frame: an agent API call (agentCall, as over HTTP), answered by a reply frame
//   disconnect  forgets the connection
// A connection acts only as the agent it registered as. Work nudges (nudge) go to the
// connection the agent is bound to.

export interface AgentSocketHandlersOptions {
  readonly ctx: MasterContext;
  readonly auth: Authenticator;
  readonly push: AgentPush;
  /**
   * Keep connections in memory (the local server: every frame of a connection reaches this
   * process). A Lambda container reads the Registry each time: another container may have
   * bound the connection meanwhile.
   */
  readonly cacheConnections?: boolean;
  /** Told when a connection registered as an agent (the local server subscribes to its work). */
  readonly onBound?: (connectionId: string, agentId: string) => void;
}

export class AgentSocketHandlers {
  private readonly cache = new Map<string, AgentConnection>();

  constructor(private readonly o: AgentSocketHandlersOptions) {}

  private get ctx(): MasterContext {
    return this.o.ctx;
  }

  /** 200 admits the connection; anything else refuses it, with the HTTP error body. */
  async connect(connectionId: string, headers: Readonly<Record<string, string | undefined>>): Promise<JsonResponse> {
    const req: HttpRequest = { method: 'GET', path: AGENT_SOCKET_PATH, query: new URLSearchParams(), headers: lower(headers), body: '' };
    let caller: AgentCaller;
    try {
      caller = await this.o.auth.agent(req);
    } catch (e) {
      return errorResponse(e, this.ctx.log);
    }
    const c: AgentConnection = { connectionId, connectedAt: this.ctx.now(), ...(caller.agentIds !== undefined && { agentIds: [...caller.agentIds] }) };
    await this.ctx.registry.putAgentConnection(c);
    if (this.o.cacheConnections) this.cache.set(connectionId, c);
    return { status: 200, body: { ok: true } };
  }

  async disconnect(connectionId: string): Promise<void> {
    const c = this.cache.get(connectionId) ?? (await this.ctx.registry.getAgentConnection(connectionId));
    this.cache.delete(connectionId);
    await this.ctx.registry.deleteAgentConnection(connectionId, c?.agentId);
    if (c?.agentId !== undefined) this.ctx.log.info('agent socket closed', { agentId: c.agentId, connectionId });
  }

  /** One frame from the agent; every answer goes out through the push port. */
  async message(connectionId: string, text: string): Promise<void> {
    if (Buffer.byteLength(text) > MAX_AGENT_FRAME_BYTES) {
      return this.sendError(connectionId, { type: 'error', field: 'frame', message: `a frame may hold at most ${MAX_AGENT_FRAME_BYTES} bytes (API Gateway's frame limit)` });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      return this.sendError(connectionId, { type: 'error', field: 'frame', message: `malformed JSON: ${(e as Error).message}` });
    }
    let frame;
    try {
      frame = parse(agentFrame, raw);
    } catch (e) {
      const id = typeof (raw as { id?: unknown } | null)?.id === 'string' ? ((raw as { id: string }).id.slice(0, 64) as string) : undefined;
      const err = e as ValidationError;
      // parse names the whole value 'body'; here the whole value is the frame.
      const field = err.field === undefined || err.field === 'body' ? 'frame' : err.field;
      return this.sendError(connectionId, { type: 'error', ...(id !== undefined && { id }), field, message: err.message });
    }
    const res = await this.call(connectionId, frame.action, frame.agent_id, frame.body);
    for (const t of replyTexts({ type: 'reply', id: frame.id, status: res.status, body: res.body ?? null })) await this.o.push.send(connectionId, t);
  }

  private async call(connectionId: string, action: string, frameAgentId: string | undefined, body: unknown): Promise<JsonResponse> {
    try {
      const c = await this.connection(connectionId);
      if (c === undefined) throw new UnauthenticatedError('this connection is not (or no longer) authenticated: connect again');
      const caller: AgentCaller = c.agentIds !== undefined ? { agentIds: c.agentIds } : {};
      let agentId: string | undefined;
      if (action === 'register') {
        // A connection is one agent: once bound it registers again only under its own id.
        const requested = (body as { agent_id?: unknown } | null)?.agent_id;
        if (c.agentId !== undefined && requested !== c.agentId) {
          throw new ForbiddenError(`this connection acts for agent ${c.agentId}: it cannot register as ${typeof requested === 'string' ? requested.slice(0, 64) : 'a new agent'}`, 'agent_id');
        }
      } else {
        if (c.agentId === undefined) {
          if (frameAgentId !== undefined) checkActsFor(caller, frameAgentId);
          // 409 (as a superseded session over HTTP): the agent registers, on this connection.
          throw new ReregisterOnConnection();
        }
        if (frameAgentId !== undefined && frameAgentId !== c.agentId) {
          throw new ForbiddenError(`this connection acts for agent ${c.agentId}, not ${frameAgentId.slice(0, 64)}`, 'agent_id');
        }
        agentId = c.agentId;
      }
      const res = await agentCall(this.ctx, this.o.auth, caller, agentId, action, body, { channel: 'socket' });
      if (action === 'register' && res.status === 200) await this.bind(c, String((res.body as { agent_id: string }).agent_id));
      return res;
    } catch (e) {
      return errorResponse(e, this.ctx.log);
    }
  }

  private async connection(connectionId: string): Promise<AgentConnection | undefined> {
    const hit = this.cache.get(connectionId);
    if (hit !== undefined) return hit;
    if (this.o.cacheConnections) return undefined; // every connection of this process is in the cache
    return this.ctx.registry.getAgentConnection(connectionId);
  }

  private async bind(c: AgentConnection, agentId: string): Promise<void> {
    const bound: AgentConnection = { ...c, agentId };
    await this.ctx.registry.putAgentConnection(bound);
    if (this.o.cacheConnections) this.cache.set(c.connectionId, bound);
    this.o.onBound?.(c.connectionId, agentId);
  }

  /** Tells the agent's connection (if it has one) that its work changed. */
  async nudge(agentId: string): Promise<void> {
    const connectionId = await this.ctx.registry.getAgentConnectionId(agentId);
    if (connectionId !== undefined) await this.nudgeConnection(connectionId, agentId);
  }

  /** Sends the work nudge to a connection known to be the agent's; a connection gone is forgotten. */
  async nudgeConnection(connectionId: string, agentId: string): Promise<void> {
    const frame: WorkNudgeFrame = { type: 'work', version: await this.ctx.registry.getAgentWorkVersion(agentId) };
    const r = await this.o.push.send(connectionId, JSON.stringify(frame));
    if (r === 'gone') await this.ctx.registry.deleteAgentConnection(connectionId, agentId);
  }

  private async sendError(connectionId: string, frame: ErrorFrame): Promise<void> {
    await this.o.push.send(connectionId, JSON.stringify(frame));
  }
}

class ReregisterOnConnection extends StratusError {
  constructor() {
    super('CONFLICT', 'this connection has not registered: register (with your agent id and secret) first', 'session');
  }
}

function lower(headers: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}
