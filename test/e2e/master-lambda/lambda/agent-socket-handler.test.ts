import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../src/core/logger.js';
import { AgentSocketHandlers } from '../../../../src/master-lambda/agent-socket/socket-handlers.js';
import { agentSocketHandler } from '../../../../src/master-lambda/lambda/agent-socket-handler.js';
import { ApiGatewayAgentPush } from '../../../../src/master-lambda/lambda/api-gateway-push.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { MemoryItemStore } from '../../../../src/state/memory-item-store.js';
import { WebSocketApiStandIn } from '../../../support/api-gateway/websocket-api.js';
import { RawAgentSocket } from '../../../support/agent-socket-client.js';
import { waitUntil } from '../../../support/wait.js';
import { contractAuthenticator, FLEET } from '../../../contract/master-lambda/agent-socket.contract.js';

// The WebSocket Lambda's push path through the real Management API client and the stand-in:
// PostToConnection reaches the client, a gone connection answers 410 and is forgotten, the
// 2-hour limit (a close from API Gateway's side) runs $disconnect, and the stand-in counts.

describe('agent socket Lambda: Management API push and the connection lifecycle', () => {
  let api: WebSocketApiStandIn;
  let master: Master;
  let push: ApiGatewayAgentPush;

  beforeAll(async () => {
    master = new Master({ store: new MemoryItemStore(), log: silentLogger, authenticator: contractAuthenticator(), canStream: false });
    const lambda: { handler?: ReturnType<typeof agentSocketHandler> } = {};
    api = await WebSocketApiStandIn.start({ handler: (e) => lambda.handler!(e) });
    push = new ApiGatewayAgentPush(api.managementEndpoint, silentLogger);
    lambda.handler = agentSocketHandler({ master, push: () => push });
  });

  afterAll(async () => {
    await api?.close();
  });

  it('pushes through PostToConnection; an unknown connection is gone (410)', async () => {
    const c = await RawAgentSocket.connect(api.url, FLEET);
    const id = api.connectionIds().at(-1)!;
    expect(await push.send(id, JSON.stringify({ type: 'work', version: 7 }))).toBe('sent');
    expect(await c.waitFor((f) => f.type === 'work')).toEqual({ type: 'work', version: 7 });
    expect(await push.send('bm90LWEtY29ubmVjdGlvbg==', '{}')).toBe('gone');
    await c.close();
  });

  it('forgets the connection a nudge finds gone', async () => {
    const c = await RawAgentSocket.connect(api.url, FLEET);
    const reg = await c.call('register', { hostname: 'h', resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 128 } }] });
    const agentId = (reg.body as { agent_id: string }).agent_id;
    // A connection that vanished without its $disconnect (it can happen): the pointer is stale.
    await master.registry.putAgentConnection({ connectionId: 'c3RhbGUtY29ubmVjdGlvbg==', agentId, connectedAt: 0 });
    await new AgentSocketHandlers({ ctx: master.ctx, auth: master.api.auth, push }).nudge(agentId);
    expect(await master.registry.getAgentConnectionId(agentId)).toBeUndefined();
    expect(await master.registry.getAgentConnection('c3RhbGUtY29ubmVjdGlvbg==')).toBeUndefined();
    await c.close();
  });

  it('a close from API Gateway’s side (the 2-hour limit) runs $disconnect; stats count it all', async () => {
    const before = api.stats;
    const c = await RawAgentSocket.connect(api.url, FLEET);
    const reg = await c.call('register', { hostname: 'h2', resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 128 } }] });
    const agentId = (reg.body as { agent_id: string }).agent_id;
    const id = (await master.registry.getAgentConnectionId(agentId))!;
    api.forceClose(id);
    await waitUntil(() => c.closed, 10_000, 'the client to see the close');
    await api.settled();
    expect(await master.registry.getAgentConnection(id)).toBeUndefined();
    expect(await master.registry.getAgentConnectionId(agentId)).toBeUndefined();
    const after = api.stats;
    expect(after.connections - before.connections).toBe(1);
    expect(after.messagesIn - before.messagesIn).toBe(1);
    expect(after.messagesOut - before.messagesOut).toBe(1);
    expect(after.invocations - before.invocations).toBe(3); // $connect, $default, $disconnect
    expect(after.invocationMs).toBeGreaterThan(before.invocationMs);
    expect(after.connectionMs).toBeGreaterThan(before.connectionMs);
    expect(after.open).toBe(0);
  });

  it('a $connect refused leaves no connection and counts as refused', async () => {
    const before = api.stats;
    const r = await RawAgentSocket.open(api.url, { Authorization: 'Bearer wrong' });
    expect(!r.ok && r.status).toBe(401);
    expect(api.stats.refused - before.refused).toBe(1);
    expect(api.stats.connections).toBe(before.connections);
  });
});
