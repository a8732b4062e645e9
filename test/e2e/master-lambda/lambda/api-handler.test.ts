import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleApiGatewayEvent, type ApiGatewayV2Event } from '../../../../src/master-lambda/lambda/api-handler.js';
import { silentLogger } from '../../../../src/core/logger.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { MemoryItemStore } from '../../../../src/state/memory-item-store.js';
import type { Json, OfferJson, SchedulerEventJson } from '../../../support/scheduler-client.js';

// Every scheduler, agent and operator call through the API Gateway (HTTP API, payload 2.0)
// entry point, with the event shape API Gateway really sends. Streams are impossible there,
// so events come by long-poll.

function apigw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, query = ''): ApiGatewayV2Event & Record<string, unknown> {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const b64 = text !== undefined && text.length % 2 === 0; // exercise both encodings
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    headers: { 'content-type': 'application/json', host: 'abc123.execute-api.eu-west-1.amazonaws.com', 'x-forwarded-proto': 'https', ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'stratus-test' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(text !== undefined ? { body: b64 ? Buffer.from(text).toString('base64') : text, isBase64Encoded: b64 } : { isBase64Encoded: false }),
  };
}

describe('handler.ts (API Gateway v2) serves every call', () => {
  let master: Master;
  let fid = '';
  let stream = '';
  let cursor = 0;
  let agentId = '';
  let session = '';
  const events: SchedulerEventJson[] = [];

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, query = ''): Promise<{ status: number; json: Json | undefined; headers: Record<string, string> }> {
    const r = await handleApiGatewayEvent(master, apigw(method, path, body, headers, query));
    expect(r.isBase64Encoded).toBe(false);
    return { status: r.statusCode, json: r.body ? (JSON.parse(r.body) as Json) : undefined, headers: r.headers };
  }
  const scheduler = (body: Json) => call('POST', '/api/v1/scheduler', { framework_id: { value: fid }, ...body }, { 'Mesos-Stream-Id': stream });
  const operator = (body: Json) => call('POST', '/api/v1', body);
  async function poll(until: (e: SchedulerEventJson) => boolean): Promise<SchedulerEventJson> {
    for (let i = 0; i < 50; i++) {
      const found = events.find(until);
      if (found) return found;
      const r = await call('GET', '/api/v1/scheduler/events', undefined, { 'Mesos-Stream-Id': stream }, `framework_id=${fid}&cursor=${cursor}&wait_seconds=1`);
      expect(r.status).toBe(200);
      events.push(...(r.json!.events as SchedulerEventJson[]));
      cursor = r.json!.cursor as number;
    }
    throw new Error(`event not seen; saw ${events.map((e) => e.type).join(',')}`);
  }
  async function agentWork(): Promise<Json> {
    const r = await call('POST', `/api/v1/agents/${agentId}/work`, { session, wait_seconds: 1 });
    expect(r.status).toBe(200);
    return r.json!;
  }
  async function agentStatus(taskId: string, state: string): Promise<string> {
    const uuid = randomBytes(16).toString('base64');
    const r = await call('POST', `/api/v1/agents/${agentId}/status`, { session, updates: [{ framework_id: fid, task_id: taskId, state, uuid, timestamp: Date.now() / 1000 }] });
    expect(r.status).toBe(200);
    expect((r.json!.results as { result: string }[])[0]!.result).toBe('applied');
    return uuid;
  }

  beforeAll(async () => {
    master = new Master({ store: new MemoryItemStore(), log: silentLogger, canStream: false, config: { allocationIntervalMs: 100, pollIntervalMs: 50 } });
    master.start();
  });
  afterAll(() => master.stop());

  it('registers an agent and heartbeats', async () => {
    const r = await call('POST', '/api/v1/agents/register', {
      hostname: 'lambda-host',
      resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 2 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 1024 } }],
      attributes: { zone: 'eu-west-1a' },
    });
    expect(r.status).toBe(200);
    agentId = r.json!.agent_id as string;
    session = r.json!.session as string;
    expect((await call('POST', `/api/v1/agents/${agentId}/heartbeat`, { session })).status).toBe(200);
  });

  it('subscribes without a stream: SUBSCRIBED and a cursor at once', async () => {
    const r = await call('POST', '/api/v1/scheduler', { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'lambda-fw', roles: ['*'], capabilities: [{ type: 'MULTI_ROLE' }] } } });
    expect(r.status).toBe(200);
    stream = r.headers['Mesos-Stream-Id']!;
    expect(stream).toBeTruthy();
    const first = (r.json!.events as SchedulerEventJson[])[0]!;
    expect(first.type).toBe('SUBSCRIBED');
    fid = first.subscribed!.framework_id.value;
    cursor = r.json!.cursor as number;
  });

  it('runs a task: OFFERS, ACCEPT, agent work, UPDATE, ACKNOWLEDGE, acks reach the agent', async () => {
    const offers = await poll((e) => e.type === 'OFFERS');
    const offer = offers.offers!.offers[0] as OfferJson;
    const accept = await scheduler({
      type: 'ACCEPT',
      accept: {
        offer_ids: [offer.id],
        operations: [{ type: 'LAUNCH', launch: { task_infos: [{ name: 't', task_id: { value: 't1' }, agent_id: offer.agent_id, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }], command: { value: 'sleep 1' } }] } }],
        filters: { refuse_seconds: 0 },
      },
    });
    expect(accept.status).toBe(202);
    const work = await agentWork();
    expect((work.launch as { task_id: string }[]).map((l) => l.task_id)).toEqual(['t1']);
    const uuid = await agentStatus('t1', 'TASK_RUNNING');
    const update = await poll((e) => e.type === 'UPDATE' && e.update!.status.state === 'TASK_RUNNING');
    expect(update.update!.status.uuid).toBe(uuid);
    expect((await scheduler({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: agentId }, task_id: { value: 't1' }, uuid } })).status).toBe(202);
    const acks = (await agentWork()).acks as { uuid: string }[];
    expect(acks.map((a) => a.uuid)).toEqual([uuid]);
  });

  it('serves DECLINE, REVIVE, SUPPRESS, RECONCILE, MESSAGE, REQUEST, UPDATE_FRAMEWORK and KILL', async () => {
    const o = await poll((e) => e.type === 'OFFERS' && events.indexOf(e) > 0 && e !== events.find((x) => x.type === 'OFFERS'));
    expect((await scheduler({ type: 'DECLINE', decline: { offer_ids: [o.offers!.offers[0]!.id], filters: { refuse_seconds: 30 } } })).status).toBe(202);
    expect((await scheduler({ type: 'SUPPRESS', suppress: { roles: ['*'] } })).status).toBe(202);
    expect((await master.registry.getFramework(fid))?.suppressedRoles).toEqual(['*']);
    expect((await scheduler({ type: 'REVIVE' })).status).toBe(202);
    expect((await master.registry.getFramework(fid))?.suppressedRoles).toEqual([]);
    expect((await scheduler({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 't1' } }] } })).status).toBe(202);
    await poll((e) => e.type === 'UPDATE' && e.update!.status.reason === 'REASON_RECONCILIATION');
    expect((await scheduler({ type: 'MESSAGE', message: { agent_id: { value: agentId }, executor_id: { value: 'e1' }, data: Buffer.from('hello').toString('base64') } })).status).toBe(202);
    expect(((await agentWork()).messages as { data: string }[]).map((m) => Buffer.from(m.data, 'base64').toString())).toEqual(['hello']);
    expect((await scheduler({ type: 'REQUEST', request: { requests: [] } })).status).toBe(202);
    const upd = await scheduler({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: { id: { value: fid }, user: 'u', name: 'renamed', roles: ['*'] } } });
    expect(upd.status).toBe(202);
    expect((await master.registry.getFramework(fid))?.info.name).toBe('renamed');
    expect((await scheduler({ type: 'KILL', kill: { task_id: { value: 't1' }, agent_id: { value: agentId } } })).status).toBe(202);
    expect(((await agentWork()).kill as { task_id: string }[]).map((k) => k.task_id)).toEqual(['t1']);
    await agentStatus('t1', 'TASK_KILLED');
    await poll((e) => e.type === 'UPDATE' && e.update!.status.state === 'TASK_KILLED');
  });

  it('serves the operator API and the state endpoint', async () => {
    expect((await operator({ type: 'GET_HEALTH' })).json).toMatchObject({ get_health: { healthy: true } });
    expect(((await operator({ type: 'GET_AGENTS' })).json as { get_agents: { agents: unknown[] } }).get_agents.agents).toHaveLength(1);
    expect((await operator({ type: 'GET_TASKS' })).status).toBe(200);
    expect((await call('GET', '/master/state')).json).toMatchObject({ activated_slaves: 1 });
  });

  it('answers bad input with 4xx JSON through the handler too', async () => {
    const r = await call('POST', '/api/v1/scheduler', '{"type":', {});
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ field: 'body' });
    expect((await call('POST', '/api/v1/scheduler', { type: 'SUBSCRIBE' }, { 'Content-Type': 'application/x-protobuf' })).status).toBe(415);
    expect((await call('GET', '/nope')).status).toBe(404);
    expect((await call('POST', '/api/v1/scheduler', 'x'.repeat(1024 * 1024 + 10))).status).toBe(413);
  });

  it('tears the framework down', async () => {
    expect((await scheduler({ type: 'TEARDOWN' })).status).toBe(202);
    expect((await master.registry.getFramework(fid))?.removedAt).toBeDefined();
    expect((await scheduler({ type: 'REVIVE' })).status).toBe(403);
  });
});

describe('router edge cases', () => {
  it('answers a malformed percent-escape in a path with 400, not 500', async () => {
    const master = new Master({ store: new MemoryItemStore(), log: silentLogger, canStream: false });
    const r = await handleApiGatewayEvent(master, apigw('POST', '/api/v1/agents/%E0%A4%A/heartbeat', { session: 'x' }));
    expect(r.statusCode).toBe(400);
    expect(JSON.parse(r.body)).toMatchObject({ field: 'path' });
  });
});

describe('region API URL', () => {
  it('records the URL API Gateway serves the region on, for the tick to advertise to peers', async () => {
    const { recordRegionApiUrl, regionApiUrl } = await import('../../../../src/master-lambda/lambda/region-api-url.js');
    const master = new Master({ store: new MemoryItemStore(), log: silentLogger, canStream: false });
    expect(await regionApiUrl(master.registry)).toBeUndefined();
    await recordRegionApiUrl(master.registry, apigw('GET', '/health').requestContext);
    expect(await regionApiUrl(master.registry)).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com');
  });
});
