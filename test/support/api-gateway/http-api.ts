import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ApiGatewayV2Event, ApiGatewayV2Result } from '../../../src/master-lambda/lambda/api-handler.js';

// A local stand-in for an API Gateway HTTP API with a Lambda proxy integration (payload format
// 2.0): a 127.0.0.1 server that turns each request into the event API Gateway would send, calls
// the handler in-process as Lambda would, and turns its result into the response. As API
// Gateway: the integration times out after 29 s (the client gets 503 while the function runs
// on), a client hanging up does not stop the function, and every request is one invocation.

export type HttpApiHandler = (event: ApiGatewayV2Event) => Promise<ApiGatewayV2Result>;

export interface HttpApiStats {
  /** Requests API Gateway bills (every request that reached the API). */
  requests: number;
  invocations: number;
  /** Summed wall time of the invocations, ms (finished ones). */
  invocationMs: number;
  inFlight: number;
  maxInFlight: number;
  /** Requests answered 503 because the integration took longer than the timeout. */
  timeouts: number;
}

export interface HttpApiOptions {
  readonly handler: HttpApiHandler;
  /** API Gateway's HTTP API integration timeout (29 s, at most 30). */
  readonly integrationTimeoutMs?: number;
  readonly apiId?: string;
}

export interface HttpApi {
  readonly url: string;
  readonly stats: HttpApiStats;
  close(): Promise<void>;
}

export const HTTP_API_INTEGRATION_TIMEOUT_MS = 29_000;
const TEXTUAL = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript|recordio|x-protobuf-text))|\+json/i;

export function toEvent(req: http.IncomingMessage, body: Buffer, apiId: string): ApiGatewayV2Event {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  // API Gateway joins repeated headers with commas and lower-cases names.
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i]!.toLowerCase();
    const v = req.rawHeaders[i + 1]!;
    if (k === 'cookie') continue;
    headers[k] = headers[k] === undefined ? v : `${headers[k]},${v}`;
  }
  const cookies = req.headers.cookie?.split(';').map((c) => c.trim()).filter(Boolean);
  const text = body.length === 0 || TEXTUAL.test(req.headers['content-type'] ?? 'application/json');
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies && cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId,
      // The stand-in's host is not a domain API Gateway would give (and the handler records only real ones).
      domainName: 'localhost',
      domainPrefix: apiId,
      http: { method: req.method ?? 'GET', path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: req.headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !text,
  } as ApiGatewayV2Event;
}

export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const timeoutMs = options.integrationTimeoutMs ?? HTTP_API_INTEGRATION_TIMEOUT_MS;
  const apiId = options.apiId ?? randomUUID().replace(/-/g, '').slice(0, 10);
  const stats: HttpApiStats = { requests: 0, invocations: 0, invocationMs: 0, inFlight: 0, maxInFlight: 0, timeouts: 0 };
  const running = new Set<Promise<unknown>>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      stats.requests++;
      const event = toEvent(req, Buffer.concat(chunks), apiId);
      stats.invocations++;
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      const start = performance.now();
      const invocation = Promise.resolve()
        .then(() => options.handler(event))
        .finally(() => {
          stats.inFlight--;
          stats.invocationMs += performance.now() - start;
        });
      running.add(invocation);
      void invocation.catch(() => undefined).finally(() => running.delete(invocation));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((ok) => (timer = setTimeout(() => ok('timeout'), timeoutMs)));
      void Promise.race([invocation, timedOut])
        .then((out) => {
          if (out === 'timeout') {
            stats.timeouts++;
            res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Service Unavailable' }));
            return;
          }
          const headers: Record<string, string | string[]> = { ...out.headers };
          const cookies = (out as { cookies?: string[] }).cookies;
          if (cookies?.length) headers['set-cookie'] = cookies;
          res.writeHead(out.statusCode, headers).end(out.isBase64Encoded ? Buffer.from(out.body, 'base64') : out.body);
        })
        .catch(() => {
          // A function error: API Gateway answers 500 with its own body.
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Internal Server Error' }));
        })
        .finally(() => clearTimeout(timer));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    stats,
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      // Lambda would run them to the end; the stand-in waits for them, so nothing outlives it.
      await Promise.allSettled([...running]);
    },
  };
}

/** One HTTP API call straight into a handler (no server), as API Gateway would deliver it; the answer's JSON parsed. */
export async function invokeHttpApi(
  handler: HttpApiHandler,
  call: { method: string; path: string; body?: unknown; headers?: Record<string, string>; query?: string },
): Promise<{ status: number; json: Record<string, unknown> | undefined; headers: Record<string, string> }> {
  const host = 'abc.execute-api.us-east-1.amazonaws.com';
  const r = await handler({
    version: '2.0',
    rawPath: call.path,
    rawQueryString: call.query ?? '',
    headers: { 'content-type': 'application/json', host, ...call.headers },
    ...(call.body !== undefined && { body: JSON.stringify(call.body) }),
    isBase64Encoded: false,
    requestContext: { http: { method: call.method, path: call.path }, domainName: host, stage: '$default', requestId: randomUUID() },
  });
  return { status: r.statusCode, json: r.body ? (JSON.parse(r.body) as Record<string, unknown>) : undefined, headers: r.headers };
}
