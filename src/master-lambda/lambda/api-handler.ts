import { AutoscalerController } from '../../autoscaler/controller.js';
// Specific modules, not the autoscaler's index: the Lambda bundle must not pull in the local provider (agents, Docker).
import { ec2ProviderFromEnv } from '../../autoscaler/ec2-provider.js';
import { autoscalerRoutes } from '../../autoscaler/routes.js';
import { createLogger } from '../../core/logger.js';
import { attachFederationFromEnv } from '../../federation/env.js';
import { isRaw, isStream, type HttpRequest } from '../../http/types.js';
import { storeFromEnv } from '../../state/store-from-env.js';
import { Master } from '../master.js';
import { authenticatorForRegion } from './credentials-secret.js';
import { domainTotals, LambdaMetrics, withMetrics } from './emf.js';
import { recordRegionApiUrl } from './region-api-url.js';
import type { TickTriggerNotifier } from './tick-trigger.js';
import type { AgentPushNotifier } from './agent-push-notifier.js';
import { invocationNotices } from './invocation-notices.js';

// API Gateway HTTP API (payload format 2.0) -> the master's API. No policy here: the event
// becomes an HttpRequest, the answer an API Gateway response. Responses cannot stream, so
// SUBSCRIBE answers at once and events are delivered by GET /api/v1/scheduler/events.

export interface ApiGatewayV2Event {
  readonly version?: string;
  readonly rawPath: string;
  readonly rawQueryString?: string;
  readonly headers?: Record<string, string | undefined>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext: {
    readonly http: { readonly method: string; readonly path?: string; readonly protocol?: string; readonly sourceIp?: string; readonly userAgent?: string };
    readonly [key: string]: unknown;
  };
}

export interface ApiGatewayV2Result {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

export interface ContainerMaster {
  master: Master;
  trigger?: TickTriggerNotifier;
  /** With STRATUS_AGENT_SOCKET_ENDPOINT: agents' work nudges, sent at the end of each invocation. */
  push?: AgentPushNotifier;
}

let master: Promise<ContainerMaster> | undefined;

/**
 * The master of this Lambda container, built once from the environment. A deployed region
 * always authenticates; with STRATUS_TICK_FUNCTION, changes that need an allocation round
 * invoke the tick Lambda.
 */
export function containerMaster(env: NodeJS.ProcessEnv = process.env): Promise<ContainerMaster> {
  master ??= (async () => {
    const log = createLogger('stratus-api');
    const { notifier, trigger, push, attach } = invocationNotices(env, log);
    const m = new Master({ store: storeFromEnv(env), canStream: false, authenticator: await authenticatorForRegion(env), log, ...(notifier ? { notifier } : {}) });
    attach(m);
    // Peers, cross-region services and federated jobs are served from this region's table; the
    // tick sends gossip and decides, the receiver Lambda receives.
    attachFederationFromEnv(m, { run: 'routes' }, env);
    // The autoscaler's rules and activity are read and written through this API; the tick runs it.
    if (env.STRATUS_AGENT_GROUPS) autoscalerRoutes(m.api, new AutoscalerController({ provider: ec2ProviderFromEnv(env) }), m.registry);
    return { master: m, ...(trigger ? { trigger } : {}), ...(push ? { push } : {}) };
  })();
  master.catch(() => (master = undefined)); // a failed start (e.g. the secret unreadable) is retried next time
  return master;
}

export function toHttpRequest(event: ApiGatewayV2Event): HttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  const body = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers,
    body,
  };
}

export async function handleApiGatewayEvent(m: Master, event: ApiGatewayV2Event): Promise<ApiGatewayV2Result> {
  const response = await m.api.handle(toHttpRequest(event));
  if (isStream(response)) throw new Error('a streaming response reached the API Gateway handler'); // canStream is false
  if (isRaw(response)) return { statusCode: response.status, headers: response.headers, body: response.raw.toString('base64'), isBase64Encoded: true };
  const body = response.body === undefined ? '' : JSON.stringify(response.body);
  return {
    statusCode: response.status,
    headers: { ...(body ? { 'Content-Type': 'application/json' } : {}), ...response.headers },
    body,
    isBase64Encoded: false,
  };
}

let emf: LambdaMetrics | undefined;

export async function handler(event: ApiGatewayV2Event): Promise<ApiGatewayV2Result> {
  const { master: m, trigger, push } = await containerMaster();
  emf ??= new LambdaMetrics('api');
  return withMetrics(
    emf,
    async () => {
      await recordRegionApiUrl(m.registry, event.requestContext);
      try {
        return await handleApiGatewayEvent(m, event);
      } finally {
        await trigger?.flush();
        await push?.flush();
      }
    },
    () => domainTotals(m.ctx.metrics),
  );
}
