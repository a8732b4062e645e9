import { createLogger, type Logger } from '../../core/logger.js';
import type { AgentPush } from '../agent-socket/agent-push.js';
import { AgentSocketHandlers } from '../agent-socket/socket-handlers.js';
import type { Master } from '../master.js';
import type { AgentPushNotifier } from './agent-push-notifier.js';
import { containerMaster } from './api-handler.js';
import { ApiGatewayAgentPush } from './api-gateway-push.js';
import { domainTotals, LambdaMetrics, withMetrics } from './emf.js';
import type { TickTriggerNotifier } from './tick-trigger.js';

// API Gateway WebSocket API -> the agent channel (src/master-lambda/agent-socket/). Routes:
//   $connect     headers (Authorization) only here: authenticated and recorded, or refused (401)
//   $default     one frame: answered (reply frames) through PostToConnection
//   $disconnect  the connection is forgotten
// No policy here: the same handlers run on the local server. Nothing waits: every invocation
// answers what it was given and ends.

export interface ApiGatewayWebSocketEvent {
  readonly requestContext: {
    readonly routeKey: string;
    readonly connectionId: string;
    readonly eventType?: string;
    readonly domainName?: string;
    readonly stage?: string;
    readonly [key: string]: unknown;
  };
  readonly headers?: Record<string, string | undefined>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}

export interface ApiGatewayWebSocketResult {
  statusCode: number;
  body?: string;
}

export interface AgentSocketLambdaOptions {
  readonly master: Master;
  /** The push port for an event's API (one per Management API endpoint). */
  readonly push: (event: ApiGatewayWebSocketEvent) => AgentPush;
  /** Work nudges collected during the invocation, sent at its end. */
  readonly notifier?: AgentPushNotifier;
  readonly trigger?: TickTriggerNotifier;
}

/** The Management API endpoint of the API an event came from: STRATUS_AGENT_SOCKET_ENDPOINT, or the event's domain and stage. */
export function managementEndpoint(event: ApiGatewayWebSocketEvent, env: NodeJS.ProcessEnv = process.env): string {
  if (env.STRATUS_AGENT_SOCKET_ENDPOINT) return env.STRATUS_AGENT_SOCKET_ENDPOINT;
  const { domainName, stage } = event.requestContext;
  if (!domainName || !stage) throw new Error('the WebSocket event has no domainName/stage: set STRATUS_AGENT_SOCKET_ENDPOINT');
  return `https://${domainName}/${stage}`;
}

/** The handler over a given master (tests and the API Gateway stand-in use it in-process). */
export function agentSocketHandler(o: AgentSocketLambdaOptions): (event: ApiGatewayWebSocketEvent) => Promise<ApiGatewayWebSocketResult> {
  const byPush = new Map<AgentPush, AgentSocketHandlers>();
  const handlersFor = (event: ApiGatewayWebSocketEvent): AgentSocketHandlers => {
    const push = o.push(event);
    let h = byPush.get(push);
    if (h === undefined) byPush.set(push, (h = new AgentSocketHandlers({ ctx: o.master.ctx, auth: o.master.api.auth, push })));
    return h;
  };
  return async (event) => {
    const { routeKey, connectionId } = event.requestContext;
    const h = handlersFor(event);
    try {
      if (routeKey === '$connect') {
        const r = await h.connect(connectionId, event.headers ?? {});
        return { statusCode: r.status, body: JSON.stringify(r.body ?? {}) };
      }
      if (routeKey === '$disconnect') {
        await h.disconnect(connectionId);
        return { statusCode: 200 };
      }
      const body = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
      await h.message(connectionId, body);
      return { statusCode: 200 };
    } finally {
      await o.trigger?.flush();
      await o.notifier?.flush();
    }
  };
}

let container: Promise<(event: ApiGatewayWebSocketEvent) => Promise<ApiGatewayWebSocketResult>> | undefined;
let emf: LambdaMetrics | undefined;
let master: Master | undefined;

function fromEnv(log: Logger): Promise<(event: ApiGatewayWebSocketEvent) => Promise<ApiGatewayWebSocketResult>> {
  container ??= (async () => {
    const c = await containerMaster();
    master = c.master;
    const pushes = new Map<string, AgentPush>();
    return agentSocketHandler({
      master: c.master,
      push: (event) => {
        const endpoint = managementEndpoint(event);
        let p = pushes.get(endpoint);
        if (p === undefined) pushes.set(endpoint, (p = new ApiGatewayAgentPush(endpoint, log)));
        return p;
      },
      ...(c.push ? { notifier: c.push } : {}),
      ...(c.trigger ? { trigger: c.trigger } : {}),
    });
  })();
  container.catch(() => (container = undefined));
  return container;
}

export async function handler(event: ApiGatewayWebSocketEvent): Promise<ApiGatewayWebSocketResult> {
  const h = await fromEnv(createLogger('stratus-agent-socket'));
  emf ??= new LambdaMetrics('agent-socket');
  return withMetrics(
    emf,
    () => h(event),
    () => domainTotals(master!.ctx.metrics),
  );
}
