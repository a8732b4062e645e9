import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { Master } from '../../../src/master-lambda/master.js';
import { runAllocationRound } from '../../../src/master-lambda/use-cases/allocation-round.js';
import type { HttpRequest } from '../../../src/http/types.js';
import { LeaderLease } from '../../../src/state/leader-lease.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { queryAll } from '../../../src/state/item-store.js';

// Fuzzing the scheduler endpoint: thousands of malformed bodies, each answered with a 4xx
// naming a field, never a 5xx, and the region's state byte-for-byte unchanged.

type Json = Record<string, unknown>;

describe('scheduler endpoint under malformed input', () => {
  let master: Master;
  let fid = '';
  let stream = '';
  let offerId = '';
  let agentId = '';

  const req = (body: string, headers: Record<string, string> = {}): HttpRequest => ({
    method: 'POST',
    path: '/api/v1/scheduler',
    query: new URLSearchParams(),
    headers: { 'content-type': 'application/json', 'mesos-stream-id': stream, ...headers },
    body,
  });

  async function dump(): Promise<string> {
    // Every item of every kind the master writes, by collection and by framework partition.
    const store = master.registry.store;
    const parts = await Promise.all(
      ['AGENTS', 'FRAMEWORKS', 'TASKS', 'OFFERS', 'FILTERS', 'ROLES'].map((pk) => queryAll(store, { index: 'gsi1', pk })),
    );
    const fwItems = await queryAll(store, { pk: `FRAMEWORK#${fid}` });
    const msgs = await queryAll(store, { index: "gsi2", pk: `AGENT#${agentId}` });
    return JSON.stringify([...parts, fwItems, msgs]);
  }

  beforeAll(async () => {
    // No leader loop: nothing changes the state but the calls under test.
    master = new Master({ store: new MemoryItemStore(), log: silentLogger, canStream: false });
    const reg = await master.api.handle({ ...req(JSON.stringify({ hostname: 'h', resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 4 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 4096 } }] })), path: '/api/v1/agents/register' });
    agentId = (reg as unknown as { body: { agent_id: string } }).body.agent_id;
    const sub = await master.api.handle(req(JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'fuzzed', roles: ['*'] } } })));
    stream = sub.headers!['Mesos-Stream-Id']!;
    fid = (sub as unknown as { body: { framework_id: { value: string } } }).body.framework_id.value;
    const lease = new LeaderLease(master.registry.store, { holderId: 'fuzz' });
    await lease.acquire();
    await runAllocationRound(master.ctx, lease.epoch!, undefined, 1);
    offerId = (await master.registry.listOffersByFramework(fid))[0]!.id;
  });

  /** Valid calls of every type, each to be broken in one way. */
  function templates(): Json[] {
    const task = { name: 't', task_id: { value: 'fz' }, agent_id: { value: agentId }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }], command: { value: 'true' } };
    const f = { framework_id: { value: fid } };
    return [
      { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'n', roles: ['*'] } } },
      { ...f, type: 'ACCEPT', accept: { offer_ids: [{ value: offerId }], operations: [{ type: 'LAUNCH', launch: { task_infos: [task] } }] } },
      { ...f, type: 'DECLINE', decline: { offer_ids: [{ value: offerId }], filters: { refuse_seconds: 5 } } },
      { ...f, type: 'KILL', kill: { task_id: { value: 'x' } } },
      { ...f, type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: agentId }, task_id: { value: 'x' }, uuid: 'AAAAAAAAAAAAAAAAAAAAAA==' } },
      { ...f, type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'x' } }] } },
      { ...f, type: 'MESSAGE', message: { agent_id: { value: agentId }, executor_id: { value: 'e' }, data: 'aGk=' } },
      { ...f, type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: { id: { value: fid }, user: 'u', name: 'n', roles: ['*'] } } },
      { ...f, type: 'SUPPRESS', suppress: { roles: ['*'] } },
    ];
  }

  /** Breaks a valid call so that it must be refused: never a change that leaves it valid. */
  const corruptions: [string, (c: Json) => Json][] = [
    ['unknown call type', (c) => ({ ...c, type: 'FROBNICATE' })],
    ['type not a string', (c) => ({ ...c, type: 7 })],
    // RECONCILE, SUPPRESS (and REVIVE, REQUEST) may omit their payload: that is a valid call.
    ['payload missing', (c) => (['RECONCILE', 'SUPPRESS'].includes(String(c.type)) ? { ...c, type: 'BOGUS' } : Object.fromEntries(Object.entries(c).filter(([k]) => k === 'type' || k === 'framework_id')))],
    ['payload an array', (c) => ({ ...c, [String(c.type).toLowerCase()]: [] })],
    ['framework id malformed', (c) => ({ ...c, framework_id: { value: 'bad/id#x' } })],
    ['framework id wrong type', (c) => ({ ...c, framework_id: 'plain-string' })],
    // A task with readable ids but bad content is answered per task (TASK_ERROR, see
    // accept-task-errors.test.ts); what is refused whole is a call whose tasks cannot be named.
    ['task id missing', (c) => deepSet(c, ['accept', 'operations', 0, 'launch', 'task_infos', 0, 'task_id'], undefined, { ...c, type: 'BOGUS' })],
    ['task id not an id', (c) => deepSet(c, ['accept', 'operations', 0, 'launch', 'task_infos', 0, 'task_id'], 'fz', { ...c, type: 'BOGUS' })],
    ['agent id malformed', (c) => deepSet(c, ['accept', 'operations', 0, 'launch', 'task_infos', 0, 'agent_id', 'value'], 'a/b#c', { ...c, type: 'BOGUS' })],
    ['task info not an object', (c) => deepSet(c, ['accept', 'operations', 0, 'launch', 'task_infos', 0], 'a task', { ...c, type: 'BOGUS' })],
    ['unknown operation', (c) => deepSet(c, ['accept', 'operations', 0, 'type'], 'FROBNICATE', { ...c, type: 'BOGUS' })],
    ['negative refuse', (c) => deepSet(c, ['decline', 'filters', 'refuse_seconds'], -5, { ...c, type: 'BOGUS' })],
    ['bad uuid', (c) => deepSet(c, ['acknowledge', 'uuid'], '%%%', { ...c, type: 'BOGUS' })],
    ['unknown role', (c) => deepSet(c, ['suppress', 'roles'], ['not-mine'], { ...c, type: 'BOGUS' })],
    ['message not base64', (c) => deepSet(c, ['message', 'data'], '!!not base64!!', { ...c, type: 'BOGUS' })],
    ['empty name', (c) => deepSet(c, ['subscribe', 'framework_info', 'name'], '', { ...c, type: 'BOGUS' })],
    ['bad role name', (c) => deepSet(c, ['subscribe', 'framework_info', 'roles'], ['../x'], deepSet(c, ['update_framework', 'framework_info', 'roles'], ['.bad'], { ...c, type: 'BOGUS' }))],
  ];

  function deepSet(obj: Json, path: (string | number)[], value: unknown, fallback: Json): Json {
    const copy = structuredClone(obj);
    let cur: unknown = copy;
    for (const k of path.slice(0, -1)) {
      if (typeof cur !== 'object' || cur === null || !(k in (cur as object))) return fallback;
      cur = (cur as Record<string | number, unknown>)[k];
    }
    if (typeof cur !== 'object' || cur === null || !(path[path.length - 1]! in (cur as object))) return fallback;
    (cur as Record<string | number, unknown>)[path[path.length - 1]!] = value;
    return copy;
  }

  it('answers 1,500 malformed bodies with 4xx naming a field, and changes nothing', async () => {
    const before = await dump();
    const seen = new Map<number, number>();
    let runs = 0;
    const corrupted = fc.tuple(fc.constantFrom(...templates()), fc.constantFrom(...corruptions)).map(([t, [, f]]) => JSON.stringify(f(t)));
    const arbitraryJson = fc.jsonValue().map((v) => JSON.stringify(v));
    const garbage = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', '{', '[1,2', 'null', '{"type":"ACCEPT"}', '{"type":"SUBSCRIBE","subscribe":{}}'));
    await fc.assert(
      fc.asyncProperty(fc.oneof({ arbitrary: corrupted, weight: 3 }, { arbitrary: arbitraryJson, weight: 1 }, { arbitrary: garbage, weight: 1 }), async (body) => {
        runs++;
        const res = await master.api.handle(req(body));
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        expect(res.status, body.slice(0, 200)).toBeGreaterThanOrEqual(400);
        expect(res.status, body.slice(0, 200)).toBeLessThan(500);
        const b = (res as { body?: { error?: unknown; field?: unknown } }).body;
        expect(typeof b?.error, body.slice(0, 200)).toBe('string');
        expect(typeof b?.field, body.slice(0, 200)).toBe('string');
      }),
      { numRuns: 1500, seed: 20261125 },
    );
    expect(runs).toBe(1500);
    expect(await dump()).toBe(before);
    // Oversized and non-JSON content types too.
    expect((await master.api.handle(req('x'.repeat(1024 * 1024 + 1)))).status).toBe(413);
    expect((await master.api.handle(req('{}', { 'content-type': 'application/x-protobuf' }))).status).toBe(415);
    expect(await dump()).toBe(before);
  });
});
