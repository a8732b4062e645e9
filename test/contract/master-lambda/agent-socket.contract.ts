import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialAuthenticator, hashSecret, hashToken } from '../../../src/http/credentials.js';
import type { Registry } from '../../../src/state/registry.js';
import { MAX_AGENT_FRAME_BYTES } from '../../../src/wire/agent-socket.js';
import { RawAgentSocket } from '../../support/agent-socket-client.js';
import { frameworkInfo, launchCall, StreamingFramework } from '../../support/scheduler-client.js';
import { waitUntil } from '../../support/wait.js';

// The agent channel's protocol, one suite for every server of it: the local server (`ws` on the
// master's node server) and the API Gateway WebSocket Lambda behind the local stand-in. The
// same frames must get the same answers from both.

export interface AgentSocketFixture {
  /** ws://... of the agent socket. */
  readonly socketUrl: string;
  /** Where the framework calls the scheduler API (the launch that must push a nudge). */
  readonly schedulerUrl: string;
  readonly registry: Registry;
  close(): Promise<void>;
}

export const FRAMEWORK_HEADERS = { Authorization: `Basic ${Buffer.from('fw:fw-secret').toString('base64')}` };
export const FLEET = { Authorization: 'Bearer fleet-token-0123456789' };
export const AGENT_ONE = { Authorization: 'Bearer agent-one-token-0123456789' };

/** Who may connect: a fleet token (any agent id), a token bound to agent-one, a framework. */
export function contractAuthenticator(): CredentialAuthenticator {
  return new CredentialAuthenticator({
    principals: [
      { name: 'fw', kind: 'framework', secret_hash: hashSecret('fw-secret') },
      { name: 'fleet', kind: 'agent', token_hash: hashToken('fleet-token-0123456789') },
      { name: 'agent-one', kind: 'agent', token_hash: hashToken('agent-one-token-0123456789'), agent_ids: ['agent-one'] },
    ],
  });
}

/** Master settings both fixtures use: fast rounds, and a long-poll far longer than any wait here. */
export const CONTRACT_MASTER = { allocationIntervalMs: 100, pollIntervalMs: 50, longPollMaxWaitMs: 60_000 };

const resources = (cpus: number, mem: number): unknown[] => [
  { name: 'cpus', type: 'SCALAR', scalar: { value: cpus } },
  { name: 'mem', type: 'SCALAR', scalar: { value: mem } },
];

interface Registered {
  readonly agent_id: string;
  readonly session: string;
  readonly heartbeat_interval_seconds: number;
  readonly agent_secret: string;
}

export function agentSocketContract(name: string, setup: () => Promise<AgentSocketFixture>): void {
  describe(`agent socket protocol: ${name}`, () => {
    let fx: AgentSocketFixture;
    const open: RawAgentSocket[] = [];
    const frameworks: StreamingFramework[] = [];
    /** One framework for the launches: it is offered every agent, so a second one would see none. */
    async function framework(): Promise<StreamingFramework> {
      if (frameworks[0] === undefined) frameworks.push(await new StreamingFramework(fx.schedulerUrl, FRAMEWORK_HEADERS).subscribe(frameworkInfo('socket-contract')));
      return frameworks[0]!;
    }

    beforeAll(async () => {
      fx = await setup();
    }, 60_000);

    afterAll(async () => {
      for (const f of frameworks) f.close();
      for (const c of open) await c.close();
      await fx?.close();
    });

    async function connect(headers: Record<string, string> = FLEET): Promise<RawAgentSocket> {
      const c = await RawAgentSocket.connect(fx.socketUrl, headers);
      open.push(c);
      return c;
    }

    async function register(c: RawAgentSocket, hostname: string, extra: Record<string, unknown> = {}): Promise<Registered> {
      const r = await c.call('register', { hostname, resources: resources(2, 1024), ...extra });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body as Registered;
    }

    /** The agent as the agent's calls could change it (the allocator's offers may change the rest meanwhile). */
    async function agentState(agentId: string): Promise<unknown> {
      const a = await fx.registry.getAgent(agentId);
      if (a === undefined) return undefined;
      const { version: _v, offered: _o, allocated: _a, ...rest } = a;
      return rest;
    }

    function beatsOf(agentId: string): Promise<number | undefined> {
      return fx.registry.listLiveness('agent').then((ls) => ls.find((l) => l.id === agentId)?.beats);
    }

    it('refuses a connection without a credential or with a wrong one, and admits a valid one', async () => {
      const none = await RawAgentSocket.open(fx.socketUrl);
      expect(none.ok).toBe(false);
      expect(!none.ok && none.status).toBe(401);
      const wrong = await RawAgentSocket.open(fx.socketUrl, { Authorization: 'Bearer not-a-token' });
      expect(!wrong.ok && wrong.status).toBe(401);
      // A framework's credential is not an agent's.
      const framework = await RawAgentSocket.open(fx.socketUrl, FRAMEWORK_HEADERS);
      expect(!framework.ok && framework.status).toBe(401);
      const ok = await RawAgentSocket.open(fx.socketUrl, FLEET);
      expect(ok.ok).toBe(true);
      if (ok.ok) open.push(ok.client);
    });

    it('registers, binds the connection to the agent and tells it the socket ping interval', async () => {
      const c = await connect();
      const reg = await register(c, 'reg-host');
      expect(reg.heartbeat_interval_seconds).toBe(240);
      const agent = await fx.registry.getAgent(reg.agent_id);
      expect(agent?.channel).toBe('socket');
      const connectionId = await fx.registry.getAgentConnectionId(reg.agent_id);
      expect(connectionId).toBeDefined();
      expect((await fx.registry.getAgentConnection(connectionId!))?.agentId).toBe(reg.agent_id);
    });

    it('heartbeats over the socket record liveness', async () => {
      const c = await connect();
      const reg = await register(c, 'beat-host');
      const before = (await beatsOf(reg.agent_id)) ?? 0;
      const r = await c.call('heartbeat', { session: reg.session });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ ok: true });
      expect(await beatsOf(reg.agent_id)).toBeGreaterThan(before);
    });

    it('answers work at once, even when the agent is up to date and asks to wait', async () => {
      const c = await connect();
      const reg = await register(c, 'work-host');
      const first = await c.call('work', { session: reg.session });
      expect(first.status).toBe(200);
      const version = (first.body as { version: number }).version;
      // Over HTTP this would wait up to wait_seconds (the master allows 60 s here): the socket never holds a call.
      const again = await c.call('work', { session: reg.session, since_version: version, wait_seconds: 60 }, undefined, 30_000);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ version, launch: [], kill: [] });
    });

    it('pushes a work nudge when a framework launches on the agent, and the work holds the launch', async () => {
      const c = await connect();
      const reg = await register(c, 'launch-host');
      const w0 = (await c.call('work', { session: reg.session })).body as { version: number };
      const fw = await framework();
      const offer = await fw.waitFor((e) => e.type === 'OFFERS' && e.offers!.offers.some((o) => o.agent_id.value === reg.agent_id), 30_000);
      const mine = offer.event.offers!.offers.find((o) => o.agent_id.value === reg.agent_id)!;
      const from = c.frames.length;
      const accepted = await fw.call(launchCall(mine, [{ id: 'pushed-task', cpus: 0.5, mem: 64, command: 'sleep 60' }]));
      expect(accepted.status).toBe(202);
      const nudge = await c.waitFor((f) => f.type === 'work', 30_000, 'a work nudge', from);
      expect(nudge.type === 'work' && nudge.version).toBeGreaterThan(w0.version);
      const work = await c.call('work', { session: reg.session, since_version: w0.version });
      expect((work.body as { launch: { task_id: string }[] }).launch.map((l) => l.task_id)).toEqual(['pushed-task']);
    });

    it('sends a reply larger than a message in parts that join into the whole work', async () => {
      const c = await connect();
      const reg = await register(c, 'big-host', { resources: resources(4, 4096) });
      const fw = await framework();
      const offer = await fw.waitFor((e) => e.type === 'OFFERS' && e.offers!.offers.some((o) => o.agent_id.value === reg.agent_id), 30_000);
      const mine = offer.event.offers!.offers.find((o) => o.agent_id.value === reg.agent_id)!;
      const call = launchCall(mine, [0, 1, 2].map((i) => ({ id: `big-${i}`, cpus: 0.5, mem: 64, command: 'sleep 60' })));
      // ~60 KB of labels per task: the launch work is ~180 KB, beyond one 128 KB message.
      const big = { labels: Array.from({ length: 15 }, (_, j) => ({ key: `k${j}`, value: 'x'.repeat(4000) })) };
      for (const t of (call.accept as { operations: { launch: { task_infos: Record<string, unknown>[] } }[] }).operations[0]!.launch.task_infos) t.labels = big;
      expect((await fw.call(call)).status).toBe(202);
      const partsBefore = c.parts.length;
      const work = await c.call('work', { session: reg.session });
      expect(work.status).toBe(200);
      expect(c.parts.length - partsBefore).toBeGreaterThan(1);
      const launch = (work.body as { launch: { task_id: string; spec: { labels?: Record<string, string> } }[] }).launch;
      expect(launch.map((l) => l.task_id).sort()).toEqual(['big-0', 'big-1', 'big-2']);
      expect(launch[0]!.spec.labels?.k14).toBe('x'.repeat(4000));
    });

    it('answers frames it cannot read with an error frame naming the field, and changes nothing', async () => {
      const c = await connect();
      const reg = await register(c, 'bad-host');
      const agentBefore = await agentState(reg.agent_id);
      const beatsBefore = await beatsOf(reg.agent_id);
      const workBefore = await fx.registry.getAgentWorkVersion(reg.agent_id);
      const errors: { field?: string; id?: string }[] = [];
      const nextError = async (send: () => void): Promise<{ field?: string; id?: string; message: string }> => {
        const from = c.frames.length;
        send();
        const f = await c.waitFor((x) => x.type === 'error', 10_000, 'an error frame', from);
        if (f.type !== 'error') throw new Error('unreachable');
        errors.push(f);
        return f;
      };
      expect((await nextError(() => c.sendText('{not json'))).field).toBe('frame');
      expect((await nextError(() => c.sendText(JSON.stringify({ id: 'u1', action: 'launch', body: {} })))).field).toBe('action');
      const wrongId = await nextError(() => c.sendText(JSON.stringify({ id: 7, action: 'heartbeat', body: { session: reg.session } })));
      expect(wrongId.field).toBe('id');
      const oversize = await nextError(() => c.sendText(JSON.stringify({ id: 'o1', action: 'heartbeat', body: { session: reg.session, message: 'x'.repeat(MAX_AGENT_FRAME_BYTES) } })));
      expect(oversize.field).toBe('frame');
      expect((await nextError(() => c.sendText(JSON.stringify(['heartbeat'])))).field).toBe('frame');
      // A readable frame with a wrong body gets its call's 400, naming the field, as over HTTP.
      const wrongType = await c.call('heartbeat', { session: 5 });
      expect(wrongType.status).toBe(400);
      expect((wrongType.body as { field: string }).field).toBe('session');
      const badUpdate = await c.call('status', { session: reg.session, updates: [{ framework_id: 'f', task_id: 't', state: 'TASK_NOPE', uuid: 'abcd', timestamp: 1 }] });
      expect(badUpdate.status).toBe(400);
      expect((badUpdate.body as { field: string }).field).toBe('updates[0].state');
      expect(await agentState(reg.agent_id)).toEqual(agentBefore);
      expect(await beatsOf(reg.agent_id)).toBe(beatsBefore);
      expect(await fx.registry.getAgentWorkVersion(reg.agent_id)).toBe(workBefore);
      expect(c.closed).toBe(false);
    });

    it('a connection that has not registered is told to register (409) and changes nothing', async () => {
      const owner = await connect();
      const reg = await register(owner, 'unbound-target');
      const beats = await beatsOf(reg.agent_id);
      const stranger = await connect();
      const r = await stranger.call('heartbeat', { session: reg.session }, reg.agent_id);
      expect(r.status).toBe(409);
      expect(await beatsOf(reg.agent_id)).toBe(beats);
    });

    it('a connection acts only as its own agent: another agent id gets 403 and changes nothing', async () => {
      const a = await connect();
      const regA = await register(a, 'host-a');
      const b = await connect();
      const regB = await register(b, 'host-b');
      const beatsB = await beatsOf(regB.agent_id);
      const agentB = await agentState(regB.agent_id);
      const hb = await a.call('heartbeat', { session: regB.session }, regB.agent_id);
      expect(hb.status).toBe(403);
      expect((hb.body as { field: string }).field).toBe('agent_id');
      const st = await a.call('status', { session: regB.session, updates: [{ framework_id: 'f', task_id: 't', state: 'TASK_RUNNING', uuid: 'abcd-1', timestamp: 1 }] }, regB.agent_id);
      expect(st.status).toBe(403);
      // Nor may it register as B (even with B's secret), or as a new agent.
      const asB = await a.call('register', { agent_id: regB.agent_id, agent_secret: regB.agent_secret, hostname: 'host-b', resources: resources(2, 1024) });
      expect(asB.status).toBe(403);
      const asNew = await a.call('register', { hostname: 'host-c', resources: resources(2, 1024) });
      expect(asNew.status).toBe(403);
      expect(await beatsOf(regB.agent_id)).toBe(beatsB);
      expect(await agentState(regB.agent_id)).toEqual(agentB);
      // Its own calls still work.
      expect((await a.call('heartbeat', { session: regA.session }, regA.agent_id)).status).toBe(200);
    });

    it('a credential bound to an agent id acts only for that id over the socket too', async () => {
      const c = await connect(AGENT_ONE);
      const other = await c.call('register', { agent_id: 'agent-two', hostname: 'two', resources: resources(1, 256) });
      expect(other.status).toBe(403);
      expect(await fx.registry.getAgent('agent-two')).toBeUndefined();
      const fresh = await c.call('register', { hostname: 'one', resources: resources(1, 256) });
      expect(fresh.status).toBe(403);
      const own = await c.call('register', { agent_id: 'agent-one', hostname: 'one', resources: resources(1, 256) });
      expect(own.status).toBe(200);
      expect((own.body as Registered).agent_id).toBe('agent-one');
    });

    it('forgets the connection when it closes', async () => {
      const c = await connect();
      const reg = await register(c, 'bye-host');
      const connectionId = await fx.registry.getAgentConnectionId(reg.agent_id);
      expect(connectionId).toBeDefined();
      await c.close();
      await waitUntil(async () => (await fx.registry.getAgentConnection(connectionId!)) === undefined, 10_000, 'the connection item to go');
      expect(await fx.registry.getAgentConnectionId(reg.agent_id)).toBeUndefined();
    });
  });
}
