import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Authenticator } from '../../http/auth.js';
import type { JsonResponse } from '../../http/types.js';
import { AGENT_SOCKET_PATH } from '../../wire/agent-socket.js';
import type { MasterContext } from '../master-context.js';
import { LocalAgentPush } from './local-push.js';
import { AgentSocketHandlers } from './socket-handlers.js';

// The agent channel on the local server: WebSocket upgrades at AGENT_SOCKET_PATH (`ws`, on the
// http server's 'upgrade' event) run the same handlers as the API Gateway WebSocket Lambda.
// Work nudges come from this process's notifier: every use case that changes an agent's work
// notifies `agent:<id>`, and the connection bound to that agent gets `{type:'work', version}`.

/** API Gateway's message limit: a larger message closes the connection (1009), there as here. */
const MAX_MESSAGE_BYTES = 128 * 1024;

export interface LocalAgentSocket {
  readonly handlers: AgentSocketHandlers;
  readonly push: LocalAgentPush;
  /** Closes every agent connection (before the http server closes). */
  close(): void;
}

export function attachAgentSocket(server: Server, ctx: MasterContext, auth: Authenticator): LocalAgentSocket {
  const push = new LocalAgentPush();
  const subscriptions = new Map<string, () => void>();
  const queued = new Set<string>();
  const handlers: AgentSocketHandlers = new AgentSocketHandlers({
    ctx,
    auth,
    push,
    cacheConnections: true,
    onBound: (connectionId, agentId) => {
      subscriptions.get(connectionId)?.();
      // A burst of changes makes one nudge: the agent asks for all its work anyway.
      const unsubscribe = ctx.notifier.subscribe(`agent:${agentId}`, () => {
        if (queued.has(connectionId)) return;
        queued.add(connectionId);
        setImmediate(() => {
          queued.delete(connectionId);
          handlers.nudgeConnection(connectionId, agentId).catch((e: unknown) => ctx.log.warn('work nudge failed', { agentId, error: e }));
        });
      });
      subscriptions.set(connectionId, unsubscribe);
    },
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  const closed = (connectionId: string): void => {
    push.remove(connectionId);
    subscriptions.get(connectionId)?.();
    subscriptions.delete(connectionId);
    handlers.disconnect(connectionId).catch((e: unknown) => ctx.log.warn('could not record an agent socket closed', { connectionId, error: e }));
  };

  const accept = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== AGENT_SOCKET_PATH) {
      return refuse(socket, { status: 404, body: { error: `no WebSocket endpoint at ${req.url?.split('?')[0] ?? '/'}: agents connect to ${AGENT_SOCKET_PATH}`, field: 'path' } });
    }
    const connectionId = randomBytes(12).toString('base64url');
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const admitted = await handlers.connect(connectionId, headers);
    if (admitted.status !== 200) return refuse(socket, admitted);
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      push.add(connectionId, ws);
      ws.on('message', (data: RawData) => {
        handlers.message(connectionId, text(data)).catch((e: unknown) => ctx.log.error('agent socket frame failed', { connectionId, error: e }));
      });
      ws.on('close', () => closed(connectionId));
      ws.on('error', (e) => ctx.log.debug('agent socket error', { connectionId, error: e.message }));
    });
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    accept(req, socket, head).catch((e: unknown) => {
      ctx.log.error('agent socket upgrade failed', { error: e });
      refuse(socket, { status: 500, body: { error: 'internal error; see the log' } });
    });
  });

  return {
    handlers,
    push,
    close: () => {
      push.closeAll();
      for (const ws of wss.clients) ws.terminate();
    },
  };
}

function refuse(socket: Duplex, res: JsonResponse): void {
  const body = JSON.stringify(res.body ?? {});
  const extra = Object.entries(res.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}

function text(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
