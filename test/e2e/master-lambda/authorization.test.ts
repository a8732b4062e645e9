import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialAuthenticator, hashSecret, hashToken } from '../../../src/http/credentials.js';
import { silentLogger } from '../../../src/core/logger.js';
import { Master } from '../../../src/master-lambda/master.js';
import { startLocalServer, type RunningServer } from '../../../src/master-lambda/local-server.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { frameworkInfo, launchCall, schedulerPost, StreamingFramework } from '../../support/scheduler-client.js';
import { TestAgent } from '../../support/test-agent.js';

// Authentication (HTTP Basic or bearer, as Mesos's HTTP authenticator) and authorization:
// frameworks act only on their own offers and tasks, in their allowed roles; an agent only as
// itself; operator calls need the operator credential. Each refusal changes nothing.

const basic = (user: string, secret: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}` });
const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

describe('authentication and authorization', () => {
  let master: Master;
  let server: RunningServer;
  let a: StreamingFramework;
  let b: StreamingFramework;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    const auth = new CredentialAuthenticator({
      principals: [
        { name: 'team-a', kind: 'framework', secret_hash: hashSecret('secret-a'), roles: ['a'] },
        { name: 'team-b', kind: 'framework', secret_hash: hashSecret('secret-b'), roles: ['b'] },
        { name: 'ci', kind: 'framework', token_hash: hashToken('fw-token-123') },
        { name: 'admin', kind: 'operator', secret_hash: hashSecret('ops') },
        { name: 'agent-one', kind: 'agent', token_hash: hashToken('agent-token-1'), agent_ids: ['agent-one'] },
        { name: 'agent-two', kind: 'agent', token_hash: hashToken('agent-token-2'), agent_ids: ['agent-two'] },
      ],
    });
    master = new Master({ store: new MemoryItemStore(), log: silentLogger, authenticator: auth, config: { allocationIntervalMs: 100, pollIntervalMs: 50 } });
    server = await startLocalServer(master, { port: 0 });
    master.start();
    for (const [id, token] of [['agent-one', 'agent-token-1'], ['agent-two', 'agent-token-2']] as const) {
      const agent = new TestAgent({ master: server.url, hostname: id, headers: bearer(token) });
      agent.agentId = id; // agents may choose their id on first registration
      agents.push(await agent.start());
    }
    a = await new StreamingFramework(server.url, basic('team-a', 'secret-a')).subscribe(frameworkInfo('A', { roles: ['a'] }));
    b = await new StreamingFramework(server.url, basic('team-b', 'secret-b')).subscribe(frameworkInfo('B', { roles: ['b'] }));
  });

  afterAll(async () => {
    a?.close();
    b?.close();
    for (const x of agents) await x.stop();
    await master.stop();
    await server.close();
  });

  async function frameworkCount(): Promise<number> {
    return (await master.registry.listFrameworks()).length;
  }

  it('refuses unauthenticated and wrongly authenticated scheduler calls with 401', async () => {
    const before = await frameworkCount();
    const none = await schedulerPost(server.url, { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo('x') } }, { 'Stratus-Event-Mode': 'poll' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/Basic/);
    const wrong = await schedulerPost(server.url, { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo('x') } }, { 'Stratus-Event-Mode': 'poll', ...basic('team-a', 'nope') });
    expect(wrong.status).toBe(401);
    const unknown = await schedulerPost(server.url, { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo('x') } }, { 'Stratus-Event-Mode': 'poll', ...basic('mallory', 'secret-a') });
    expect(unknown.status).toBe(401);
    expect(unknown.json).toEqual(wrong.json); // the same answer: nothing learnt about which principals exist
    expect(await frameworkCount()).toBe(before);
  });

  it('accepts a bearer token for a framework', async () => {
    const r = await schedulerPost(server.url, { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo('ci') } }, { 'Stratus-Event-Mode': 'poll', ...bearer('fw-token-123') });
    expect(r.status).toBe(200);
    const fid = (r.json!.framework_id as { value: string }).value;
    expect((await master.registry.getFramework(fid))?.info.principal).toBe('ci');
  });

  it('refuses a subscription into a role the principal may not use (403)', async () => {
    const before = await frameworkCount();
    const r = await schedulerPost(server.url, { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo('sneaky', { roles: ['b'] }) } }, { 'Stratus-Event-Mode': 'poll', ...basic('team-a', 'secret-a') });
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ field: 'subscribe.framework_info.roles[0]' });
    expect(await frameworkCount()).toBe(before);
  });

  it('does not let framework A accept B\'s offers, kill B\'s tasks or read B\'s events', async () => {
    // A subscribed first and may hold every offer: it declines them for a long while, so B gets some.
    const aOffers = a.events.filter((e) => e.type === 'OFFERS').flatMap((e) => e.offers!.offers.map((o) => o.id));
    if (aOffers.length) await a.call({ type: 'DECLINE', decline: { offer_ids: aOffers, filters: { refuse_seconds: 300 } } });
    const offerB = await b.nextOffer();
    // A accepts B's offer on A's own subscription: 403, and the offer is still B's.
    const acc = await a.call(launchCall(offerB, [{ id: 'stolen', cpus: 1, mem: 64, command: 'run forever' }]));
    expect(acc.status).toBe(403);
    expect((await master.registry.getOffer(offerB.id.value))?.frameworkId).toBe(b.frameworkId);
    expect(await master.registry.getTask(a.frameworkId, 'stolen')).toBeUndefined();

    await b.call(launchCall(offerB, [{ id: 'precious', cpus: 1, mem: 64, command: 'run forever' }]));
    await b.waitForState('precious', 'TASK_RUNNING');
    // A calls as B (B's framework id with A's credentials and stream): 403.
    const kill = await schedulerPost(server.url, { type: 'KILL', framework_id: { value: b.frameworkId }, kill: { task_id: { value: 'precious' } } }, { 'Mesos-Stream-Id': a.streamId, ...basic('team-a', 'secret-a') });
    expect(kill.status).toBe(403);
    const killWithBStream = await schedulerPost(server.url, { type: 'KILL', framework_id: { value: b.frameworkId }, kill: { task_id: { value: 'precious' } } }, { 'Mesos-Stream-Id': b.streamId, ...basic('team-a', 'secret-a') });
    expect(killWithBStream.status).toBe(403);
    expect((await master.registry.getTask(b.frameworkId, 'precious'))?.killRequestedAt).toBeUndefined();
    // A reads B's events: 403.
    const events = await fetch(`${server.url}/api/v1/scheduler/events?framework_id=${b.frameworkId}&cursor=0&wait_seconds=0`, { headers: { 'Mesos-Stream-Id': b.streamId, ...basic('team-a', 'secret-a') } });
    expect(events.status).toBe(403);
    // A resubscribing with B's framework id: 403.
    const takeover = await schedulerPost(server.url, { type: 'SUBSCRIBE', framework_id: { value: b.frameworkId }, subscribe: { framework_info: { ...frameworkInfo('B', { roles: ['a'] }), id: { value: b.frameworkId } } } }, { 'Stratus-Event-Mode': 'poll', ...basic('team-a', 'secret-a') });
    expect(takeover.status).toBe(403);
    expect((await master.registry.getFramework(b.frameworkId))?.streamId).toBe(b.streamId);
  });

  it('does not let one agent\'s token act for another agent', async () => {
    const session = agents[0]!.session;
    const asOther = await fetch(`${server.url}/api/v1/agents/agent-one/status`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...bearer('agent-token-2') },
      body: JSON.stringify({ session, updates: [{ framework_id: b.frameworkId, task_id: 'precious', state: 'TASK_FAILED', uuid: 'AAAAAAAAAAAAAAAAAAAAAA==', timestamp: 1 }] }),
    });
    expect(asOther.status).toBe(403);
    const anonymous = await fetch(`${server.url}/api/v1/agents/agent-one/heartbeat`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ session }) });
    expect(anonymous.status).toBe(401);
    const reRegisterAsOther = await fetch(`${server.url}/api/v1/agents/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...bearer('agent-token-2') },
      body: JSON.stringify({ agent_id: 'agent-one', hostname: 'evil', resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] }),
    });
    expect(reRegisterAsOther.status).toBe(403);
    expect((await master.registry.getAgent('agent-one'))?.hostname).toBe('agent-one');
  });

  it('requires the operator credential for operator calls and the state endpoint', async () => {
    const call = (headers: Record<string, string>) =>
      fetch(`${server.url}/api/v1`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'a', weight: 5 }] } }) });
    expect((await call({})).status).toBe(401);
    expect((await call(basic('team-a', 'secret-a'))).status).toBe(401); // a framework is no operator
    expect(await master.registry.getRole('a')).toBeUndefined();
    expect((await call(basic('admin', 'ops'))).status).toBe(200);
    expect((await master.registry.getRole('a'))?.weight).toBe(5);
    expect((await fetch(`${server.url}/master/state`)).status).toBe(401);
    expect((await fetch(`${server.url}/master/state`, { headers: basic('admin', 'ops') })).status).toBe(200);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
