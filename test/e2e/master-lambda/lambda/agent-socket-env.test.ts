import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashSecret, hashToken } from '../../../../src/http/credentials.js';
import { handler as socketHandler } from '../../../../src/master-lambda/lambda/agent-socket-handler.js';
import { containerMaster, handler as apiHandler } from '../../../../src/master-lambda/lambda/api-handler.js';
import { invokeHttpApi } from '../../../support/api-gateway/http-api.js';
import { WebSocketApiStandIn } from '../../../support/api-gateway/websocket-api.js';
import { RawAgentSocket } from '../../../support/agent-socket-client.js';
import { launchCall, type OfferJson, type SchedulerEventJson } from '../../../support/scheduler-client.js';

// The deployed entry points as the environment configures them (STRATUS_CREDENTIALS,
// STRATUS_AGENT_SOCKET_ENDPOINT): the WebSocket Lambda's `handler` behind the stand-in, and
// the HTTP API Lambda's `handler`, whose ACCEPT pushes the agent's work nudge through the
// Management API when its invocation ends. One Lambda container (one master) serves both here.

const saved = { ...process.env };
let api: WebSocketApiStandIn;

beforeAll(async () => {
  api = await WebSocketApiStandIn.start({ handler: (e) => socketHandler(e) });
  process.env.STRATUS_STORE = 'memory';
  process.env.STRATUS_AGENT_SOCKET_ENDPOINT = api.managementEndpoint;
  process.env.STRATUS_CREDENTIALS = JSON.stringify({
    principals: [
      { name: 'fw', kind: 'framework', secret_hash: hashSecret('fw-secret') },
      { name: 'fleet', kind: 'agent', token_hash: hashToken('fleet-token-env-0123') },
    ],
  });
  delete process.env.STRATUS_TICK_FUNCTION;
  delete process.env.STRATUS_CREDENTIALS_SECRET_ARN;
});

afterAll(async () => {
  await api?.close();
  process.env = saved;
});

const fw = { authorization: `Basic ${Buffer.from('fw:fw-secret').toString('base64')}` };

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, query = ''): ReturnType<typeof invokeHttpApi> =>
  invokeHttpApi(apiHandler, { method, path, ...(body !== undefined && { body }), headers: { ...fw, ...headers }, query });

it('an ACCEPT on the API Lambda pushes a work nudge to the agent’s WebSocket', async () => {
  const agent = await RawAgentSocket.connect(api.url, { Authorization: 'Bearer fleet-token-env-0123' });
  const reg = await agent.call('register', { hostname: 'env-host', resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 256 } }] });
  expect(reg.status).toBe(200);
  const { agent_id: agentId, session } = reg.body as { agent_id: string; session: string };
  const w0 = (await agent.call('work', { session })).body as { version: number };

  const sub = await call('POST', '/api/v1/scheduler', { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'env-fw', roles: ['*'], capabilities: [{ type: 'MULTI_ROLE' }] } } });
  expect(sub.status).toBe(200);
  const events = sub.json!.events as SchedulerEventJson[];
  const fid = events[0]!.subscribed!.framework_id.value;
  const stream = { 'Mesos-Stream-Id': sub.headers['Mesos-Stream-Id']! };
  // No tick Lambda here: run the leader's allocation round in this container.
  const { master } = await containerMaster();
  expect(await master.lease.acquire()).toBe(true);
  await master.leader.runOnce();
  const polled = await call('GET', '/api/v1/scheduler/events', undefined, stream, `framework_id=${fid}&cursor=${String(sub.json!.cursor)}&wait_seconds=0`);
  const offer = (polled.json!.events as SchedulerEventJson[]).flatMap((e) => e.offers?.offers ?? []).find((o: OfferJson) => o.agent_id.value === agentId)!;
  expect(offer).toBeDefined();
  const from = agent.frames.length;
  const accepted = await call('POST', '/api/v1/scheduler', { framework_id: { value: fid }, ...launchCall(offer, [{ id: 'env-task', cpus: 0.1, mem: 32, command: 'true' }]) }, stream);
  expect(accepted.status).toBe(202);
  // The nudge was sent before the API invocation returned.
  const nudge = agent.frames.slice(from).find((f) => f.type === 'work') ?? (await agent.waitFor((f) => f.type === 'work', 10_000, 'the nudge', from));
  expect(nudge.type === 'work' && nudge.version).toBeGreaterThan(w0.version);
  const work = await agent.call('work', { session, since_version: w0.version });
  expect((work.body as { launch: { task_id: string }[] }).launch.map((l) => l.task_id)).toEqual(['env-task']);
  await agent.close();
  await master.lease.release();
});
