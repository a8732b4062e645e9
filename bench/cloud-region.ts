import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { hashToken } from '../src/http/credentials.js';
import type { ApiGatewayV2Event, ApiGatewayV2Result } from '../src/master-lambda/lambda/api-handler.js';
import { DynamoDbItemStore } from '../src/state/dynamodb-item-store.js';
import { startHttpApi, type HttpApi } from '../test/support/api-gateway/http-api.js';
import { RestStreamingApi } from '../test/support/api-gateway/rest-streaming.js';
import type { StreamingHandler } from '../src/master-lambda/lambda/scheduler-stream-handler.js';
import type { ApiGatewayWebSocketEvent } from '../src/master-lambda/lambda/agent-socket-handler.js';
import { WebSocketApiStandIn } from '../test/support/api-gateway/websocket-api.js';
import { AwsMeter, withMeterTag } from './aws-meter.js';
import { gbSeconds, LAMBDA_MEMORY_MB, UnitLedger, webSocketMessageUnits, type Units } from './cloud-units.js';

// A region run the cloud way for the cost meter: the Lambda entry points the CDK bundles,
// called in-process with the events AWS would send (API Gateway HTTP API payload 2.0 through
// the stand-in, the leader tick as EventBridge and the API handler's trigger invoke it), their
// AWS clients pointed at moto through the meter proxy. Every invocation runs under a meter tag
// "function:action", so the ledger holds each action's Lambda time, requests and table units.
// Agents on the WebSocket API reach the agent socket function through the WebSocket stand-in
// (test/support/api-gateway/websocket-api.ts); every function that changes an agent's work
// pushes through the Management API (STRATUS_AGENT_SOCKET_ENDPOINT), which the meter proxy
// passes on to the stand-in, booking the message to the sender's action.

export type LambdaFunction = keyof typeof LAMBDA_MEMORY_MB;

export const TICK_FUNCTION_NAME = 'stratus-bench-tick';
/** The tick's schedule (cdk config tickSchedule default rate(1 minute)) and timeout (tickTimeoutSeconds 60). */
export const TICK_PERIOD_MS = 60_000;
export const TICK_TIMEOUT_MS = 60_000;

interface Running {
  readonly tag: string;
  readonly memoryMb: number;
  accruedTo: number;
}

export interface RegionTokens {
  readonly agent: string;
  readonly framework: string;
  readonly operator: string;
}

/** The action an API request is, for the books: agent calls, scheduler calls by type, the rest by route. */
export function apiAction(event: ApiGatewayV2Event): string {
  const method = event.requestContext.http.method.toUpperCase();
  const path = event.rawPath;
  const agent = /^\/api\/v1\/agents\/[^/]+\/(work|heartbeat|status)$/.exec(path);
  if (agent) return `agent ${agent[1] === 'work' ? 'work poll' : agent[1]}`;
  if (path === '/api/v1/agents/register') return 'agent register';
  if (path === '/api/v1/scheduler/events') return 'framework event poll';
  if (path === '/api/v1/scheduler' && method === 'POST') {
    try {
      const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
      const type = (JSON.parse(body) as { type?: unknown }).type;
      return `scheduler ${typeof type === 'string' ? type : 'call'}`;
    } catch {
      return 'scheduler call';
    }
  }
  return `${method} ${path.replace(/\/[0-9a-f-]{16,}(?=\/|$)/gi, '/{id}')}`;
}

/** The action a REST (payload 1.0) request to the streaming function is: a SUBSCRIBE holds a stream, the rest as apiAction. */
export function restAction(event: unknown): string {
  const e = event as { httpMethod?: string; path?: string; body?: string | null; isBase64Encoded?: boolean | null };
  const action = apiAction({ rawPath: e.path ?? '/', ...(e.body ? { body: e.body } : {}), isBase64Encoded: e.isBase64Encoded ?? false, requestContext: { http: { method: e.httpMethod ?? 'GET' } } });
  return action === 'scheduler SUBSCRIBE' ? 'framework event stream (SUBSCRIBE)' : action;
}

/** The action an agent WebSocket event is: $connect, $disconnect, or the frame's call ("agent heartbeat", ...). */
export function socketAction(event: ApiGatewayWebSocketEvent): string {
  const route = event.requestContext.routeKey;
  if (route !== '$default') return `agent ${route}`;
  try {
    const action = (JSON.parse(event.body ?? '') as { action?: unknown }).action;
    return typeof action === 'string' && /^[a-z]{1,16}$/.test(action) ? `agent ${action}` : 'agent frame';
  } catch {
    return 'agent frame';
  }
}

/** The ledger tag connection-minutes are booked to. */
export const CONNECTION_TAG = 'agent-socket:agent connection';

export class CloudRegion {
  readonly ledger = new UnitLedger();
  readonly tokens: RegionTokens = { agent: randomBytes(16).toString('hex'), framework: randomBytes(16).toString('hex'), operator: randomBytes(16).toString('hex') };
  readonly tableName = `bench-cloud-cost-${randomUUID().slice(0, 8)}`;
  private readonly running = new Set<Running>();
  private meter!: AwsMeter;
  http!: HttpApi;
  /** The scheduler routes on a REST API with response streaming (Mesos clients follow SUBSCRIBE's RecordIO stream). */
  rest!: RestStreamingApi;
  /** The agents' WebSocket API (stage `agents`) in front of the agent socket function. */
  ws!: WebSocketApiStandIn;
  private bookedConnectionMs = 0;
  private store!: DynamoDbItemStore;
  private tickRunning: Promise<unknown> | undefined;
  private schedule: NodeJS.Timeout | undefined;
  private readonly savedEnv = { ...process.env };
  tickThrottled = 0;
  /** Tick invocations that ended in an error (their message), e.g. the table busy under load. */
  readonly tickErrors: string[] = [];
  tickInvocations = 0;
  private apiHandler!: (e: ApiGatewayV2Event) => Promise<ApiGatewayV2Result>;
  private socketHandler!: (e: ApiGatewayWebSocketEvent) => Promise<{ statusCode: number }>;
  private tickHandler!: (e: unknown, c?: { getRemainingTimeInMillis(): number }) => Promise<{ rounds: number; leader: boolean }>;

  /**
   * `tickLeadMs`/`tickPeriodMs`: how long each scheduled tick leads and how often one starts
   * (deployed: 55 s of every minute; a smoke run shortens both so it can stop sooner).
   */
  constructor(
    private readonly tickLeadMs = TICK_TIMEOUT_MS - 5_000,
    private readonly tickPeriodMs = TICK_PERIOD_MS,
    private readonly upstream = process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566',
  ) {}

  async start(): Promise<this> {
    this.store = new DynamoDbItemStore({ tableName: this.tableName }); // straight to moto: creating the table is not the region's bill
    await this.store.ensureTable();
    this.meter = await new AwsMeter(this.ledger, this.upstream, (fn, payload, type) => this.invoke(fn, payload, type)).start();
    this.ws = await WebSocketApiStandIn.start({
      handler: (event) => {
        // A message in is billed per 32 KB; $connect and $disconnect are not messages.
        const inUnits = event.requestContext.routeKey === '$default' ? webSocketMessageUnits(Buffer.byteLength(event.body ?? '')) : 0;
        return this.metered('agent-socket', socketAction(event), () => this.socketHandler(event), { webSocketMessages: inUnits });
      },
    });
    const management = new URL(this.ws.managementEndpoint);
    this.meter.managementUpstream = management.origin;
    // The environment the stack gives the functions (cdk/lib/region-stack.ts), credentials inline instead of the secret.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: this.meter.url,
      STRATUS_TABLE: this.tableName,
      STRATUS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      STRATUS_TICK_FUNCTION: TICK_FUNCTION_NAME,
      // Management API calls through the meter (the path keeps the stage), on to the stand-in.
      STRATUS_AGENT_SOCKET_ENDPOINT: `${this.meter.url}${management.pathname}`,
      STRATUS_CREDENTIALS: JSON.stringify({
        principals: [
          { name: 'bench-agent', kind: 'agent', token_hash: hashToken(this.tokens.agent) },
          { name: 'bench-framework', kind: 'framework', token_hash: hashToken(this.tokens.framework) },
          { name: 'bench-operator', kind: 'operator', token_hash: hashToken(this.tokens.operator) },
        ],
      }),
      POWERTOOLS_METRICS_DISABLED: 'true', // EMF lines on stdout would land in the tables; CloudWatch is not on the bill here
    });
    delete process.env.STRATUS_CREDENTIALS_SECRET_ARN;
    delete process.env.STRATUS_PEERS;
    delete process.env.STRATUS_AGENT_GROUPS;
    // The entry points each bundle exports (cdk/lib paths.ts names them); one container each, built at first call.
    const api = await import('../src/master-lambda/lambda/api-handler.js');
    const tick = await import('../src/master-lambda/lambda/leader-tick.js');
    const stream = await import('../src/master-lambda/lambda/scheduler-stream-handler.js');
    this.socketHandler = (await import('../src/master-lambda/lambda/agent-socket-handler.js')).handler;
    this.apiHandler = api.handler;
    this.tickHandler = tick.handler;
    const streamHandler: StreamingHandler = stream.schedulerStreamHandler;
    this.http = await startHttpApi({ handler: (event) => this.metered('api', apiAction(event), () => this.apiHandler(event), { httpApiRequests: 1 }) });
    this.rest = await new RestStreamingApi({
      handler: (event, out, context) => this.metered('scheduler-stream', restAction(event), () => streamHandler(event, out, context), { restApiRequests: 1 }),
    }).start();
    return this;
  }

  get url(): string {
    return this.http.url;
  }

  get proxyStats(): AwsMeter['stats'] {
    return this.meter.stats;
  }

  /** Runs one invocation of a function on the books of `function:action`. */
  async metered<T>(fn: LambdaFunction, action: string, run: () => Promise<T>, extra: Partial<Units> = {}): Promise<T> {
    const tag = `${fn}:${action}`;
    this.ledger.add(tag, { lambdaInvocations: 1, ...extra });
    const r: Running = { tag, memoryMb: LAMBDA_MEMORY_MB[fn], accruedTo: performance.now() };
    this.running.add(r);
    try {
      return await withMeterTag(tag, run);
    } finally {
      this.running.delete(r);
      this.accrueOne(r, performance.now());
    }
  }

  private accrueOne(r: Running, now: number): void {
    const ms = now - r.accruedTo;
    r.accruedTo = now;
    this.ledger.add(r.tag, { lambdaSeconds: ms / 1000, lambdaGbSeconds: gbSeconds(ms, r.memoryMb) });
  }

  /** Books the running invocations' time so far, so a snapshot's Lambda time is exact at its edges. */
  accrue(): void {
    const now = performance.now();
    for (const r of this.running) this.accrueOne(r, now);
  }

  /** The ledger now, running invocations' time and open connections' minutes included. */
  snapshot(): Map<string, Units> {
    this.accrue();
    const ms = this.ws.stats.connectionMs;
    this.ledger.add(CONNECTION_TAG, { webSocketConnectionMinutes: (ms - this.bookedConnectionMs) / 60_000 });
    this.bookedConnectionMs = ms;
    return this.ledger.snapshot();
  }

  /** Invocations running now, per tag (concurrent executions). */
  concurrency(): Map<string, number> {
    const m = new Map<string, number>();
    for (const r of this.running) m.set(r.tag, (m.get(r.tag) ?? 0) + 1);
    return m;
  }

  /**
   * One tick invocation leading for `leadMs` (Lambda's remaining time is the lead + the 5 s it
   * keeps to hand over). Reserved concurrency 1: while one runs, another is throttled.
   */
  invokeTick(leadMs = this.tickLeadMs, action = 'lead'): Promise<unknown> {
    if (this.tickRunning) {
      this.tickThrottled++;
      return this.tickRunning;
    }
    this.tickInvocations++;
    const remaining = leadMs + 5_000;
    const started = Date.now();
    const run = this.metered('tick', action, () => this.tickHandler({ source: 'aws.events' }, { getRemainingTimeInMillis: () => remaining - (Date.now() - started) }));
    this.tickRunning = run.catch((e: unknown) => void this.tickErrors.push((e as Error).message)).finally(() => (this.tickRunning = undefined));
    return this.tickRunning;
  }

  /** The API handler's trigger (Lambda Invoke, asynchronous) reaches the tick through the meter proxy. */
  private async invoke(functionName: string, _payload: string, type: string): Promise<{ status: number; body: string }> {
    if (functionName !== TICK_FUNCTION_NAME) return { status: 404, body: JSON.stringify({ Message: `Function not found: ${functionName}` }) };
    void this.invokeTick(undefined, 'lead (triggered)').catch(() => undefined);
    return type === 'Event' ? { status: 202, body: '' } : { status: 200, body: 'null' };
  }

  /** EventBridge: the tick every minute (and one now). */
  startSchedule(periodMs = this.tickPeriodMs): void {
    void this.invokeTick().catch(() => undefined);
    this.schedule = setInterval(() => void this.invokeTick().catch(() => undefined), periodMs);
  }

  stopSchedule(): void {
    clearInterval(this.schedule);
    this.schedule = undefined;
  }

  /** Waits for the running tick to hand over. */
  async tickIdle(): Promise<void> {
    await this.tickRunning?.catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopSchedule();
    // A running tick is not waited for (it may lead for most of a minute): with the proxy gone its next request fails and it ends.
    await this.http?.close();
    await this.rest?.close();
    await this.ws?.close();
    await this.meter?.stop();
    await this.store?.client.send(new DeleteTableCommand({ TableName: this.tableName })).catch(() => undefined);
    for (const k of Object.keys(process.env)) if (!(k in this.savedEnv)) delete process.env[k];
    Object.assign(process.env, this.savedEnv);
  }
}
