import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashSecret, hashToken } from '../../../../src/http/credentials.js';
import { handler as socketHandler } from '../../../../src/master-lambda/lambda/agent-socket-handler.js';
import { containerMaster, handler as apiHandler } from '../../../../src/master-lambda/lambda/api-handler.js';
import { schedulerStreamHandler } from '../../../../src/master-lambda/lambda/scheduler-stream-handler.js';
import { RestStreamingApi } from '../../../support/api-gateway/rest-streaming.js';
import { invokeHttpApi } from '../../../support/api-gateway/http-api.js';
import { WebSocketApiStandIn } from '../../../support/api-gateway/websocket-api.js';
import { RawAgentSocket } from '../../../support/agent-socket-client.js';
import { describeWith } from '../../../support/components.js';
import { freshDynamoStore } from '../../../support/dynamodb.js';
import { launchCall, type OfferJson, type SchedulerEventJson } from '../../../support/scheduler-client.js';
import { waitUntil } from '../../../support/wait.js';

// A Mesos framework that talks to the streaming scheduler API (pymesos, mesos-go) ACCEPTs
// there too: that Lambda's invocation must nudge the agent's WebSocket like the HTTP API's, or
// a socket agent would hear of the launch only at its 10-minute safety poll. Three Lambda
// containers as the environment configures them (each its own master), one table on moto.

const saved = { ...process.env };

await describeWith(['aws'], 'the streaming scheduler API pushes work nudges', () => {
  let sockets: WebSocketApiStandIn;
  let rest: RestStreamingApi;

  beforeAll(async () => {
    const store = await freshDynamoStore('stream-push');
    sockets = await WebSocketApiStandIn.start({ handler: (e) => socketHandler(e) });
    rest = await new RestStreamingApi({ handler: schedulerStreamHandler }).start();
    process.env.STRATUS_TABLE = store.tableName;
    process.env.STRATUS_AGENT_SOCKET_ENDPOINT = sockets.managementEndpoint;
    process.env.STRATUS_CREDENTIALS = JSON.stringify({
      principals: [
        { name: 'fw', kind: 'framework', secret_hash: hashSecret('fw-secret') },
        { name: 'fleet', kind: 'agent', token_hash: hashToken('fleet-token-push-0123') },
      ],
    });
    delete process.env.STRATUS_STORE;
    delete process.env.STRATUS_TICK_FUNCTION;
    delete process.env.STRATUS_CREDENTIALS_SECRET_ARN;
  });

  afterAll(async () => {
    await rest?.close();
    await sockets?.close();
    process.env = saved;
  });

  const fw = { authorization: `Basic ${Buffer.from('fw:fw-secret').toString('base64')}` };

  const httpApi = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, query = ''): ReturnType<typeof invokeHttpApi> =>
    invokeHttpApi(apiHandler, { method, path, ...(body !== undefined && { body }), headers: { ...fw, ...headers }, query });

  it('an ACCEPT through the streaming API nudges the agent when its invocation ends', async () => {
    // No leader Lambda here: the HTTP API's container leads (first, so the agent registers in its term).
    const { master } = await containerMaster();
    master.start();
    await waitUntil(() => master.lease.isLeader(), 30_000, 'the leader');
    const agent = await RawAgentSocket.connect(sockets.url, { Authorization: 'Bearer fleet-token-push-0123' });
    const reg = await agent.call('register', { hostname: 'push-host', resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 256 } }] });
    expect(reg.status).toBe(200);
    const { agent_id: agentId, session } = reg.body as { agent_id: string; session: string };
    const w0 = (await agent.call('work', { session })).body as { version: number };

    const sub = await httpApi('POST', '/api/v1/scheduler', { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'push-fw', roles: ['*'], capabilities: [{ type: 'MULTI_ROLE' }] } } });
    expect(sub.status).toBe(200);
    const fid = (sub.json!.events as SchedulerEventJson[])[0]!.subscribed!.framework_id.value;
    const streamId = sub.headers['Mesos-Stream-Id']!;
    const offer = await waitUntil(
      async () => {
        const polled = await httpApi('GET', '/api/v1/scheduler/events', undefined, { 'Mesos-Stream-Id': streamId }, `framework_id=${fid}&cursor=${String(sub.json!.cursor)}&wait_seconds=0`);
        return (polled.json!.events as SchedulerEventJson[]).flatMap((e) => e.offers?.offers ?? []).find((o: OfferJson) => o.agent_id.value === agentId);
      },
      60_000,
      "an offer of the agent's resources",
    );

    const from = agent.frames.length;
    const accepted = await fetch(`${rest.url}/api/v1/scheduler`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Mesos-Stream-Id': streamId, ...fw },
      body: JSON.stringify({ framework_id: { value: fid }, ...launchCall(offer, [{ id: 'push-task', cpus: 0.1, mem: 32, command: 'true' }]) }),
    });
    expect(accepted.status).toBe(202);
    await accepted.arrayBuffer();
    const nudge = agent.frames.slice(from).find((f) => f.type === 'work') ?? (await agent.waitFor((f) => f.type === 'work', 30_000, 'the nudge', from));
    expect(nudge.type === 'work' && nudge.version).toBeGreaterThan(w0.version);
    const work = await agent.call('work', { session, since_version: w0.version });
    expect(work.status).toBe(200);
    expect((work.body as { launch: { task_id: string }[] }).launch.map((l) => l.task_id)).toEqual(['push-task']);
    await agent.close();
    await master.stop();
  });
});
