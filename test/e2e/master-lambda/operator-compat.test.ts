import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { CredentialAuthenticator, hashSecret } from '../../../src/http/credentials.js';
import { Master } from '../../../src/master-lambda/master.js';
import { startLocalServer, type RunningServer } from '../../../src/master-lambda/local-server.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { MESOS_COMPATIBLE_VERSION } from '../../../src/wire/mesos-version.js';
import { frameworkInfo, launchCall, readRecordIO, StreamingFramework, type Json } from '../../support/scheduler-client.js';
import { TestAgent } from '../../support/test-agent.js';

// The master endpoints and operator calls Mesos operator tools use, in Mesos's shapes:
// /slaves, /frameworks, /tasks, /state.json, /state-summary, /roles, /flags, /redirect,
// /maintenance/status|schedule (each also under /master/), and the operator calls GET_VERSION,
// GET_FLAGS, GET_LOGGING_LEVEL, GET_MASTER, GET_EXECUTORS, GET_MAINTENANCE_*, GET_OPERATIONS
// and SUBSCRIBE (the operator event stream).

async function op(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${url}/api/v1`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Json };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Json; headers: Headers }> {
  const res = await fetch(url, { headers, redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Json, headers: res.headers };
}

/** An operator SUBSCRIBE stream whose events are collected; `waitFor` waits on them. */
class OperatorStream {
  readonly events: Json[] = [];
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;
  closed = false;
  headers: Headers | undefined;

  async open(url: string, headers: Record<string, string> = {}): Promise<this> {
    const res = await fetch(`${url}/api/v1`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/recordio', ...headers }, body: JSON.stringify({ type: 'SUBSCRIBE' }), signal: this.abort.signal });
    if (res.status !== 200) throw new Error(`SUBSCRIBE: ${res.status} ${await res.text()}`);
    this.headers = res.headers;
    void (async () => {
      try {
        for await (const e of readRecordIO(res.body!)) {
          this.events.push(e as unknown as Json);
          this.wake?.();
        }
      } catch {
        // aborted
      } finally {
        this.closed = true;
        this.wake?.();
      }
    })();
    return this;
  }

  async waitFor(pred: (e: Json) => boolean, timeoutMs = 10_000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit) return hit;
      if (this.closed) throw new Error('stream closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; saw ${this.events.map((e) => e.type as string).join(',')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  close(): void {
    this.abort.abort();
  }
}

describe('Mesos operator endpoints and calls (open access)', () => {
  let master: Master;
  let server: RunningServer;
  let agents: TestAgent[];
  let f: StreamingFramework;

  beforeEach(async () => {
    nextEvent = 0;
    master = new Master({ store: new MemoryItemStore(), log: silentLogger, config: { allocationIntervalMs: 100, pollIntervalMs: 50, hostname: '127.0.0.1', port: 5999, heartbeatIntervalSeconds: 1 } });
    server = await startLocalServer(master, { port: 0 });
    master.start();
    agents = [await new TestAgent({ master: server.url, hostname: '10.1.2.3' }).start()];
    f = await new StreamingFramework(server.url).subscribe(frameworkInfo('ops', { roles: ['web'], hostname: 'sched.example' }));
  });

  afterEach(async () => {
    f.close();
    for (const a of agents) await a.stop();
    await master.stop();
    await server.close();
  });

  let nextEvent = 0;
  async function launch(ids: string[]): Promise<void> {
    const { event, index } = await f.waitFor((e) => e.type === 'OFFERS' && (e.offers?.offers.length ?? 0) > 0, 15_000, nextEvent);
    nextEvent = index + 1;
    await f.call(launchCall(event.offers!.offers[0]!, ids.map((id) => ({ id, cpus: 0.5, mem: 32, command: 'run forever' })), 0));
    for (const id of ids) await f.waitForState(id, 'TASK_RUNNING');
  }

  it('serves /slaves, /frameworks, /state.json, /state-summary and /roles with and without /master', async () => {
    await launch(['t1']);
    for (const prefix of ['', '/master']) {
      const slaves = (await get(`${server.url}${prefix}/slaves`)).json as { slaves: Json[]; recovered_slaves: unknown[] };
      expect(slaves.recovered_slaves).toEqual([]);
      expect(slaves.slaves).toEqual([expect.objectContaining({ id: agents[0]!.agentId, hostname: '10.1.2.3', active: true, version: MESOS_COMPATIBLE_VERSION, resources: expect.objectContaining({ cpus: 4, mem: 4096 }), used_resources: expect.objectContaining({ cpus: 0.5, mem: 32 }) })]);

      const fws = (await get(`${server.url}${prefix}/frameworks`)).json as { frameworks: Json[]; completed_frameworks: unknown[]; unregistered_frameworks: unknown[] };
      expect(fws.frameworks).toHaveLength(1);
      expect(fws.frameworks[0]).toMatchObject({ id: f.frameworkId, name: 'ops', hostname: 'sched.example', webui_url: '', roles: ['web'], active: true });
      expect(fws.completed_frameworks).toEqual([]);

      const st = (await get(`${server.url}${prefix}/state.json`)).json as { version: string; frameworks: { hostname: string; tasks: Json[] }[] };
      expect(st.version).toBe(MESOS_COMPATIBLE_VERSION);
      expect(st.frameworks[0]!.hostname).toBe('sched.example');
      expect(st.frameworks[0]!.tasks[0]).toMatchObject({
        id: 't1',
        executor_id: '',
        slave_id: agents[0]!.agentId,
        state: 'TASK_RUNNING',
      });
      // Oldest first, the current status last, each with the agent's address.
      const statuses = st.frameworks[0]!.tasks[0]!.statuses as Json[];
      expect(statuses.map((x) => x.state)).toEqual(['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING']);
      for (const x of statuses) expect(x).toMatchObject({ container_status: { network_infos: [{ ip_addresses: [{ protocol: 'IPv4', ip_address: '10.1.2.3' }] }] } });

      const sum = (await get(`${server.url}${prefix}/state-summary`)).json as { hostname: string; slaves: Json[]; frameworks: Json[] };
      expect(sum.hostname).toBe('127.0.0.1');
      expect(sum.slaves[0]).toMatchObject({ id: agents[0]!.agentId, TASK_RUNNING: 1, TASK_FINISHED: 0, framework_ids: [f.frameworkId] });
      expect(sum.frameworks[0]).toMatchObject({ id: f.frameworkId, name: 'ops', TASK_RUNNING: 1, slave_ids: [agents[0]!.agentId], used_resources: expect.objectContaining({ cpus: 0.5 }) });

      const roles = (await get(`${server.url}${prefix}/roles`)).json as { roles: Json[] };
      expect(roles.roles.map((r) => r.name)).toEqual(['*', 'web']);
      expect(roles.roles[1]).toMatchObject({ name: 'web', weight: 1, frameworks: [f.frameworkId], allocated: expect.objectContaining({ cpus: 0.5, mem: 32 }) });
    }
    // /master/state itself now has the fields too.
    const ms = (await get(`${server.url}/master/state`)).json as { frameworks: { hostname: string; tasks: { executor_id: string }[] }[] };
    expect(ms.frameworks[0]!.hostname).toBe('sched.example');
    expect(ms.frameworks[0]!.tasks[0]!.executor_id).toBe('');
  });

  it('pages /tasks with order, limit, offset, task_id and framework_id, and refuses bad values naming the parameter', async () => {
    await launch(['a']);
    await launch(['b']);
    await launch(['c']);
    const ids = async (q: string): Promise<string[]> => ((await get(`${server.url}/master/tasks${q}`)).json as { tasks: { id: string }[] }).tasks.map((t) => t.id);
    expect(await ids('')).toEqual(['c', 'b', 'a']); // newest first, as Mesos
    expect(await ids('?order=asc')).toEqual(['a', 'b', 'c']);
    expect(await ids('?order=asc&limit=2')).toEqual(['a', 'b']);
    expect(await ids('?order=asc&limit=2&offset=2')).toEqual(['c']);
    expect(await ids(`?framework_id=${f.frameworkId}&task_id=b`)).toEqual(['b']);
    expect(await ids('?framework_id=someone-else')).toEqual([]);
    expect(await ids('/../tasks.json?limit=1'.replace('/../tasks.json', '.json'))).toEqual(['c']);
    const t = (await get(`${server.url}/tasks?task_id=a`)).json as { tasks: Json[] };
    expect(t.tasks[0]).toMatchObject({ id: 'a', framework_id: f.frameworkId, executor_id: '', state: 'TASK_RUNNING' });
    for (const [q, field] of [
      ['order=sideways', 'order'],
      ['limit=-1', 'limit'],
      ['limit=ten', 'limit'],
      ['offset=1.5', 'offset'],
      ['task_id=', 'task_id'],
      ['framework_id=%20x', 'framework_id'],
    ] as const) {
      const r = await get(`${server.url}/tasks?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json.field, q).toBe(field);
    }
  });

  it('answers /flags, /redirect and maintenance from drains', async () => {
    for (const prefix of ['', '/master']) {
      const flags = (await get(`${server.url}${prefix}/flags`)).json as { flags: Record<string, string> };
      expect(flags.flags).toMatchObject({ allocation_interval: '100ms', offer_timeout: '1mins', agent_ping_timeout: '15secs', max_agent_ping_timeouts: '5', port: '5999', hostname: '127.0.0.1', authenticate_http_readonly: 'false' });
      const r = await get(`${server.url}${prefix}/redirect`);
      expect(r.status).toBe(307);
      expect(r.headers.get('location')).toBe(`//${new URL(server.url).host}`);
      expect((await get(`${server.url}${prefix}/maintenance/status`)).json).toEqual({ draining_machines: [], down_machines: [] });
    }
    const agentId = agents[0]!.agentId!;
    expect((await op(server.url, { type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: agentId }, max_grace_period: { seconds: 2 } } })).status).toBe(200);
    const status = (await get(`${server.url}/master/maintenance/status`)).json as { draining_machines: Json[]; down_machines: Json[] };
    const drained = status.draining_machines.length === 0;
    // No tasks: the drain may be DRAINED already.
    expect(drained ? status.down_machines : status.draining_machines.map((m) => m.id)).toEqual([{ hostname: '10.1.2.3', ip: '10.1.2.3' }]);
    const sched = (await op(server.url, { type: 'GET_MAINTENANCE_SCHEDULE' })).json as { get_maintenance_schedule: { schedule: { windows: { machine_ids: Json[]; unavailability: { duration: { nanoseconds: number } } }[] } } };
    expect(sched.get_maintenance_schedule.schedule.windows).toEqual([expect.objectContaining({ machine_ids: [{ hostname: '10.1.2.3', ip: '10.1.2.3' }], unavailability: expect.objectContaining({ duration: { nanoseconds: 2e9 } }) })]);
    const ms = (await op(server.url, { type: 'GET_MAINTENANCE_STATUS' })).json as { get_maintenance_status: { status: Json } };
    expect(ms.get_maintenance_status.status).toEqual((await get(`${server.url}/maintenance/status`)).json);
  });

  it('answers GET_VERSION, GET_FLAGS, GET_LOGGING_LEVEL, GET_MASTER, GET_EXECUTORS and GET_OPERATIONS in Mesos shapes', async () => {
    expect((await op(server.url, { type: 'GET_VERSION' })).json).toEqual({ type: 'GET_VERSION', get_version: { version_info: { version: MESOS_COMPATIBLE_VERSION } } });
    const flags = (await op(server.url, { type: 'GET_FLAGS' })).json as { get_flags: { flags: { name: string; value: string }[] } };
    expect(flags.get_flags.flags).toContainEqual({ name: 'allocation_interval', value: '100ms' });
    expect(flags.get_flags.flags).toContainEqual({ name: 'port', value: '5999' });
    expect((await op(server.url, { type: 'GET_LOGGING_LEVEL' })).json).toEqual({ type: 'GET_LOGGING_LEVEL', get_logging_level: { level: process.env.STRATUS_LOG_LEVEL === 'debug' ? 1 : 0 } });
    const m = (await op(server.url, { type: 'GET_MASTER' })).json as { get_master: { master_info: Json; start_time: number } };
    expect(m.get_master.master_info).toEqual({ id: 'stratus-master', ip: 16777343, port: 5999, pid: 'master@127.0.0.1:5999', hostname: '127.0.0.1', version: MESOS_COMPATIBLE_VERSION, address: { hostname: '127.0.0.1', ip: '127.0.0.1', port: 5999 } });
    expect(m.get_master.start_time).toBeGreaterThan(1e9);
    expect((await op(server.url, { type: 'GET_OPERATIONS' })).json).toEqual({ type: 'GET_OPERATIONS', get_operations: { operations: [] } });
    expect((await op(server.url, { type: 'GET_EXECUTORS' })).json).toEqual({ type: 'GET_EXECUTORS', get_executors: { executors: [], orphan_executors: [] } });
    // A task with an executor makes one executor.
    const offer = await f.nextOffer(nextEvent);
    const call = launchCall(offer, [{ id: 'ex1', cpus: 0.5, mem: 32, command: 'run forever' }]) as { accept: { operations: { launch: { task_infos: Json[] } }[] } };
    const ti = call.accept.operations[0]!.launch.task_infos[0]!;
    // As in Mesos, a task runs either its own command or under an executor, not both.
    delete ti.command;
    ti.executor = { executor_id: { value: 'my-exec' }, command: { value: 'run forever' } };
    const launched = await f.call(call as unknown as Json);
    expect(launched.status, JSON.stringify(launched.json)).toBe(202);
    await f.waitForState('ex1', 'TASK_RUNNING');
    const ex = (await op(server.url, { type: 'GET_EXECUTORS' })).json as { get_executors: { executors: Json[] } };
    expect(ex.get_executors.executors).toEqual([{ agent_id: { value: agents[0]!.agentId }, executor_info: { type: 'CUSTOM', executor_id: { value: 'my-exec' }, framework_id: { value: f.frameworkId } } }]);
    const st = (await get(`${server.url}/master/tasks?task_id=ex1`)).json as { tasks: Json[] };
    expect(st.tasks[0]!.executor_id).toBe('my-exec');
    expect(((await op(server.url, { type: 'GET_STATE' })).json.get_state as { get_executors: Json }).get_executors).toEqual(ex.get_executors);
    // The same calls under /master/api/v1.
    const aliased = await fetch(`${server.url}/master/api/v1`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'GET_VERSION' }) });
    expect(((await aliased.json()) as Json).type).toBe('GET_VERSION');
  });

  it('refuses an unknown call naming type', async () => {
    const r = await op(server.url, { type: 'GET_SOMETHING' });
    expect(r.status).toBe(400);
    expect(r.json.field).toBe('type');
  });

  it('streams SUBSCRIBED, TASK_ADDED, TASK_UPDATED, AGENT_ADDED, FRAMEWORK_* and HEARTBEAT, and ends when the client goes away', async () => {
    const s = await new OperatorStream().open(server.url);
    expect(s.headers!.get('content-type')).toBe('application/recordio');
    expect(s.headers!.get('message-content-type')).toBe('application/json');
    const sub = await s.waitFor((e) => e.type === 'SUBSCRIBED');
    const subscribed = sub.subscribed as { heartbeat_interval_seconds: number; get_state: { get_agents: { agents: Json[] }; get_frameworks: { frameworks: Json[] } } };
    expect(subscribed.heartbeat_interval_seconds).toBe(1);
    expect(subscribed.get_state.get_agents.agents).toHaveLength(1);
    expect(subscribed.get_state.get_frameworks.frameworks).toHaveLength(1);

    const offer = await f.nextOffer();
    await f.call(launchCall(offer, [{ id: 'live', cpus: 0.5, mem: 32, command: 'run forever' }]));
    const added = await s.waitFor((e) => e.type === 'TASK_ADDED');
    expect(added.task_added).toMatchObject({ task: { task_id: { value: 'live' }, framework_id: { value: f.frameworkId }, agent_id: { value: agents[0]!.agentId } } });
    const updated = await s.waitFor((e) => e.type === 'TASK_UPDATED' && (e.task_updated as { state: string }).state === 'TASK_RUNNING');
    expect(updated.task_updated).toMatchObject({ framework_id: { value: f.frameworkId }, status: { task_id: { value: 'live' }, state: 'TASK_RUNNING' } });
    expect(s.events.indexOf(added)).toBeLessThan(s.events.indexOf(updated));

    const second = await new TestAgent({ master: server.url, hostname: 'host-new' }).start();
    agents.push(second);
    const agentAdded = await s.waitFor((e) => e.type === 'AGENT_ADDED');
    expect(agentAdded.agent_added).toMatchObject({ agent: { agent_info: { id: { value: second.agentId }, hostname: 'host-new' }, active: true } });

    const g = await new StreamingFramework(server.url).subscribe(frameworkInfo('other'));
    await s.waitFor((e) => e.type === 'FRAMEWORK_ADDED' && (e.framework_added as { framework: { framework_info: { name: string } } }).framework.framework_info.name === 'other');
    expect((await g.call({ type: 'TEARDOWN' })).status).toBe(202);
    g.close();
    const removed = await s.waitFor((e) => e.type === 'FRAMEWORK_REMOVED');
    expect(removed.framework_removed).toMatchObject({ framework_info: { id: { value: g.frameworkId }, name: 'other' } });

    await s.waitFor((e) => e.type === 'HEARTBEAT', 5_000);
    await second.stop();
    s.close();
    await new Promise<void>((r) => {
      const check = (): void => (s.closed ? r() : void setTimeout(check, 10));
      check();
    });
  });

  it('answers SUBSCRIBE behind API Gateway (no streaming) with 501 naming type', async () => {
    const gw = new Master({ store: master.registry.store, log: silentLogger, canStream: false });
    const r = await gw.api.handle({ method: 'POST', path: '/api/v1', query: new URLSearchParams(), headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'SUBSCRIBE' }) });
    expect(r.status).toBe(501);
    expect((r as { body: Json }).body).toMatchObject({ field: 'type', error: expect.stringContaining('local server') });
  });
});

describe('Mesos operator endpoints under authentication', () => {
  let master: Master;
  let server: RunningServer;
  const basic = (user: string, secret: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}` });

  beforeEach(async () => {
    const auth = new CredentialAuthenticator({
      principals: [
        { name: 'admin', kind: 'operator', secret_hash: hashSecret('ops') },
        { name: 'team-a', kind: 'framework', secret_hash: hashSecret('secret-a') },
      ],
    });
    master = new Master({ store: new MemoryItemStore(), log: silentLogger, authenticator: auth, config: { pollIntervalMs: 50 } });
    server = await startLocalServer(master, { port: 0 });
  });

  afterEach(async () => {
    await master.stop();
    await server.close();
  });

  it('needs the operator credential on every endpoint and call, as /master/state does; /redirect stays open', async () => {
    const paths = ['/slaves', '/frameworks', '/tasks', '/state.json', '/state-summary', '/roles', '/flags', '/maintenance/status', '/maintenance/schedule'].flatMap((p) => [p, `/master${p}`]);
    // A framework's credential is refused as on /master/state.
    const asFramework = (await get(`${server.url}/master/state`, basic('team-a', 'secret-a'))).status;
    expect(asFramework).toBeGreaterThanOrEqual(401);
    expect(asFramework).toBeLessThanOrEqual(403);
    for (const p of paths) {
      expect((await get(`${server.url}${p}`)).status, p).toBe(401);
      expect((await get(`${server.url}${p}`, basic('team-a', 'secret-a'))).status, p).toBe(asFramework);
      expect((await get(`${server.url}${p}`, basic('admin', 'wrong'))).status, p).toBe(401);
      expect((await get(`${server.url}${p}`, basic('admin', 'ops'))).status, p).toBe(200);
    }
    for (const type of ['GET_VERSION', 'GET_FLAGS', 'GET_MASTER', 'GET_EXECUTORS', 'GET_OPERATIONS', 'SUBSCRIBE']) {
      expect((await op(server.url, { type })).status, type).toBe(401);
      expect((await op(server.url, { type }, basic('team-a', 'secret-a'))).status, type).toBe(asFramework);
    }
    const flags = (await get(`${server.url}/flags`, basic('admin', 'ops'))).json as { flags: Record<string, string> };
    expect(flags.flags.authenticate_http_readonly).toBe('true');
    expect((await get(`${server.url}/master/redirect`)).status).toBe(307);
  });
});
