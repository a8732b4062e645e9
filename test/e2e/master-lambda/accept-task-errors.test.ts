import { beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { parseOperatorCall } from '../../../src/master-lambda/codec/operator-call.js';
import { Master } from '../../../src/master-lambda/master.js';
import { runAllocationRound } from '../../../src/master-lambda/use-cases/allocation-round.js';
import type { HttpRequest, JsonResponse } from '../../../src/http/types.js';
import { LeaderLease } from '../../../src/state/leader-lease.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';

// What Mesos answers per task, Stratus answers per task: an ACCEPT whose tasks can be named is
// never refused whole for what one task asks; JSON null reads as "unset" (mesos-go writes it
// for every empty field).

type Json = Record<string, unknown>;
interface Update {
  status: { task_id: { value: string }; state: string; reason?: string; message?: string; source?: string };
}

describe('ACCEPT answered per task, and null as unset', () => {
  let master: Master;
  let lease: LeaderLease;
  let fid = '';
  let stream = '';
  let agentId = '';
  let cursor = 0;

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> =>
    (await master.api.handle({
      method: 'POST',
      path,
      query: new URLSearchParams(),
      headers: { 'content-type': 'application/json', 'mesos-stream-id': stream, ...headers },
      body: JSON.stringify(body),
    } satisfies HttpRequest)) as JsonResponse;

  async function events(): Promise<Json[]> {
    const res = (await master.api.handle({
      method: 'GET',
      path: '/api/v1/scheduler/events',
      query: new URLSearchParams({ framework_id: fid, cursor: String(cursor), wait_seconds: '0' }),
      headers: { 'mesos-stream-id': stream },
      body: '',
    })) as JsonResponse;
    expect(res.status).toBe(200);
    const page = res.body as { events: Json[]; cursor: number };
    cursor = page.cursor;
    return page.events;
  }

  async function offerId(onAgent = agentId): Promise<string> {
    await runAllocationRound(master.ctx, lease.epoch!, undefined, 1);
    const offers = (await master.registry.listOffersByFramework(fid)).filter((o) => o.agentId === onAgent);
    expect(offers.length).toBeGreaterThan(0);
    return offers[0]!.id;
  }

  const cpus = (value: number): Json => ({ name: 'cpus', type: 'SCALAR', scalar: { value } });
  const task = (id: string, extra: Json = {}): Json => ({ name: id, task_id: { value: id }, agent_id: { value: agentId }, resources: [cpus(0.5)], command: { value: 'true' }, ...extra });
  const accept = (offer: string, operations: Json[], extra: Json = {}): Json => ({ type: 'ACCEPT', framework_id: { value: fid }, accept: { offer_ids: [{ value: offer }], operations, ...extra } });

  beforeEach(async () => {
    master = new Master({ store: new MemoryItemStore(), log: silentLogger, canStream: false });
    const reg = await post('/api/v1/agents/register', { hostname: 'h', resources: [cpus(8), { name: 'mem', type: 'SCALAR', scalar: { value: 4096 } }] });
    agentId = (reg.body as { agent_id: string }).agent_id;
    // Null as mesos-go's JSON codec writes it for every empty field.
    const sub = await post('/api/v1/scheduler', {
      type: 'SUBSCRIBE',
      framework_id: null,
      subscribe: { framework_info: { user: 'u', name: 'per-task', id: null, failover_timeout: null, checkpoint: null, roles: null, role: '*', hostname: null, principal: null, capabilities: null, labels: null }, suppressed_roles: null },
    });
    expect(sub.status, JSON.stringify(sub.body)).toBe(200);
    stream = sub.headers!['Mesos-Stream-Id']!;
    const body = sub.body as { framework_id: { value: string }; cursor: number };
    fid = body.framework_id.value;
    cursor = body.cursor;
    lease = new LeaderLease(master.registry.store, { holderId: 'test' });
    await lease.acquire();
  });

  it('launches the valid tasks of an ACCEPT and answers each invalid one TASK_ERROR (REASON_TASK_INVALID) naming what is wrong', async () => {
    const offer = await offerId();
    const res = await post('/api/v1/scheduler', accept(offer, [
      {
        type: 'LAUNCH',
        launch: {
          task_infos: [
            task('good'),
            task('negative', { resources: [cpus(-1)] }),
            task('gpus', { resources: [cpus(0.5), { name: 'gpus', type: 'SCALAR', scalar: { value: 1 } }] }),
            task('bridge', { command: undefined, container: { type: 'DOCKER', docker: { image: 'busybox', network: 'BRIDGE' } } }),
            task('secret', { command: { value: 'true', environment: { variables: [{ name: 'S', type: 'SECRET' }] } } }),
            task('not-a-number', { resources: [{ name: 'mem', type: 'SCALAR', scalar: { value: 'lots' } }] }),
          ],
        },
      },
    ]));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const tasks = await master.registry.listTasksByFramework(fid);
    expect(tasks.map((t) => t.taskId)).toEqual(['good']);
    expect(tasks[0]!.state).toBe('STAGING');
    const updates = (await events()).filter((e) => e.type === 'UPDATE').map((e) => (e.update as Update).status);
    const byTask = new Map(updates.map((s) => [s.task_id.value, s]));
    expect([...byTask.keys()].sort()).toEqual(['bridge', 'gpus', 'negative', 'not-a-number', 'secret']);
    for (const s of byTask.values()) {
      expect(s).toMatchObject({ state: 'TASK_ERROR', reason: 'REASON_TASK_INVALID', source: 'SOURCE_MASTER' });
    }
    expect(byTask.get('negative')!.message).toMatch(/scalar\.value must not be negative/);
    expect(byTask.get('gpus')!.message).toMatch(/gpus/);
    expect(byTask.get('bridge')!.message).toMatch(/BRIDGE is not supported/);
    expect(byTask.get('secret')!.message).toMatch(/SECRET/);
    expect(byTask.get('not-a-number')!.message).toMatch(/task_infos\[5\]\.resources\[0\]\.scalar\.value/);
  });

  it('fails a whole LAUNCH_GROUP when one of its tasks is invalid, and launches the LAUNCH beside it', async () => {
    const offer = await offerId();
    const res = await post('/api/v1/scheduler', accept(offer, [
      { type: 'LAUNCH_GROUP', launch_group: { executor: { executor_id: { value: 'grp' } }, task_group: { tasks: [task('g1'), task('g2', { resources: [cpus(-2)] })] } } },
      { type: 'LAUNCH', launch: { task_infos: [task('solo')] } },
    ]));
    expect(res.status).toBe(202);
    expect((await master.registry.listTasksByFramework(fid)).map((t) => t.taskId)).toEqual(['solo']);
    const updates = (await events()).filter((e) => e.type === 'UPDATE').map((e) => (e.update as Update).status);
    expect(updates.map((s) => [s.task_id.value, s.state]).sort()).toEqual([['g1', 'TASK_ERROR'], ['g2', 'TASK_ERROR']]);
    expect(updates.find((s) => s.task_id.value === 'g1')!.message).toMatch(/another task of task group grp/);
  });

  it('drops an offer operation Stratus does not carry out (RESERVE) and launches the rest; an operation type Mesos does not know is 400', async () => {
    const offer = await offerId();
    const reserve = { type: 'RESERVE', reserve: { resources: [cpus(1)] } };
    const res = await post('/api/v1/scheduler', accept(offer, [reserve, { type: 'LAUNCH', launch: { task_infos: [task('after-reserve')] } }], { filters: { refuse_seconds: 0 } }));
    expect(res.status).toBe(202);
    expect((await master.registry.listTasksByFramework(fid)).map((t) => t.taskId)).toEqual(['after-reserve']);

    const offer2 = await offerId();
    const bad = await post('/api/v1/scheduler', accept(offer2, [{ type: 'FROBNICATE' }, { type: 'LAUNCH', launch: { task_infos: [task('never')] } }]));
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ field: 'accept.operations[0].type' });
    expect(await master.registry.getOffer(offer2)).toBeDefined();
    expect(await master.registry.getTask(fid, 'never' as never)).toBeUndefined();
  });

  it('refuses the whole ACCEPT (400, nothing changed) when a task cannot be named', async () => {
    const offer = await offerId();
    const res = await post('/api/v1/scheduler', accept(offer, [{ type: 'LAUNCH', launch: { task_infos: [task('ok'), { ...task('x'), task_id: undefined }] } }]));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ field: 'accept.operations[0].launch.task_infos[1].task_id' });
    expect(await master.registry.listTasksByFramework(fid)).toEqual([]);
    expect(await master.registry.getOffer(offer)).toBeDefined();
  });

  it('reads null as unset in mesos-go-shaped calls: SUBSCRIBE, ACCEPT, DECLINE, and operator calls', async () => {
    // (beforeEach subscribed with nulls.) A second agent, for an offer after the first's filter.
    const reg2 = await post('/api/v1/agents/register', { hostname: 'h2', resources: [cpus(2), { name: 'mem', type: 'SCALAR', scalar: { value: 512 } }] });
    const agent2 = (reg2.body as { agent_id: string }).agent_id;
    const offer = await offerId();
    const nullTask = {
      ...task('nulls'),
      executor: null,
      resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 }, ranges: null, set: null, role: null, reservations: null, allocation_info: null }],
      command: { value: 'true', shell: null, arguments: null, uris: null, environment: { variables: null }, user: null },
      container: null,
      health_check: null,
      kill_policy: null,
      labels: null,
      discovery: null,
      data: null,
      limits: null,
    };
    const res = await post('/api/v1/scheduler', accept(offer, [{ type: 'LAUNCH', launch: { task_infos: [nullTask] }, launch_group: null, reserve: null, id: null }], { filters: { refuse_seconds: null } }));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const launched = await master.registry.getTask(fid, 'nulls' as never);
    expect(launched?.state, JSON.stringify(await events())).toBe('STAGING');
    expect(launched?.spec.command).toEqual({ shell: true, value: 'true' });

    const offer2 = await offerId(agent2);
    const decline = await post('/api/v1/scheduler', { type: 'DECLINE', framework_id: { value: fid }, decline: { offer_ids: [{ value: offer2 }], filters: null } });
    expect(decline.status, JSON.stringify(decline.body)).toBe(202);
    expect(await master.registry.getOffer(offer2)).toBeUndefined();

    const reconcile = await post('/api/v1/scheduler', { type: 'RECONCILE', framework_id: { value: fid }, reconcile: { tasks: null } });
    expect(reconcile.status).toBe(202);

    // A null where a value is required is still missing, and named.
    const noName = await post('/api/v1/scheduler', accept(offer2, [{ type: 'LAUNCH', launch: { task_infos: [{ ...task('n2'), task_id: null }] } }]));
    expect(noName.status).toBe(400);
    expect(noName.body).toMatchObject({ field: 'accept.operations[0].launch.task_infos[0].task_id' });

    expect(parseOperatorCall({ type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: agentId }, max_grace_period: null, mark_gone: null } })).toEqual({
      type: 'DRAIN_AGENT',
      drain_agent: { agent_id: { value: agentId } },
    });
    expect(parseOperatorCall({ type: 'UPDATE_QUOTA', update_quota: { force: null, quota_configs: [{ role: 'r', guarantees: null, limits: { cpus: { value: 2 } } }] } })).toEqual({
      type: 'UPDATE_QUOTA',
      update_quota: { quota_configs: [{ role: 'r', limits: { cpus: { value: 2 } } }] },
    });
    // null inside a list is no protobuf JSON: still refused, named.
    expect(() => parseOperatorCall({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [null] } })).toThrow(/update_weights\.weight_infos\[0\]/);
  });
});
