import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { Framework } from '../../../src/core/framework.js';
import type { FrameworkId, StreamId } from '../../../src/core/ids.js';
import { silentLogger } from '../../../src/core/logger.js';
import { parseSchedulerCall } from '../../../src/master-lambda/codec/scheduler-call.js';
import type { MasterConfig } from '../../../src/master-lambda/config.js';
import { LeaderReactor, wakesLeader } from '../../../src/master-lambda/leader-reactor.js';
import { Master } from '../../../src/master-lambda/master.js';
import { accept } from '../../../src/master-lambda/use-cases/accept.js';
import { registerAgent } from '../../../src/master-lambda/use-cases/agent-register.js';
import { applyStatusUpdates } from '../../../src/master-lambda/use-cases/agent-status.js';
import { decline } from '../../../src/master-lambda/use-cases/offer-filters.js';
import { MemoryWakeTimer } from '../../../src/master-lambda/wake-timer.js';
import type { ChangeRecord } from '../../../src/state/change-feed.js';
import { keys } from '../../../src/state/keys.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';

// The event-driven leader on one machine: the in-memory store's change feed wakes it, and its
// timer (on vitest's fake clock, which moves only when the test moves it) fires only for what
// time alone triggers. So "without any timer" and "at its due time" are exact here.

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const FW = 'fw-reactor';

async function world(config: Partial<MasterConfig> = {}): Promise<{ m: Master; reactor: LeaderReactor; timer: MemoryWakeTimer; agentId: string; session: string }> {
  const store = new MemoryItemStore();
  const m = new Master({ store, holderId: 'reactor', log: silentLogger, config: { frameworkDisconnectMs: 600_000, ...config } });
  const timer = new MemoryWakeTimer({ now: m.ctx.now });
  const reactor = new LeaderReactor(m.ctx, m.lease, m.leader, { timer, releaseAfterPass: true });
  timer.connect(() => void reactor.onTimer());
  await store.changes.subscribe((batch) => void reactor.onChanges(batch));
  const framework: Framework = {
    id: FW as FrameworkId,
    info: { name: 'reactor', user: 'u', roles: ['*'], failoverTimeoutSeconds: 600, capabilities: [], checkpoint: false },
    streamId: 's1' as StreamId,
    connected: true,
    lastSeenAt: 0,
    registeredAt: 0,
    suppressedRoles: [],
  };
  await m.registry.transaction().putFramework(framework, 'absent').commit();
  const r = await registerAgent(m.ctx, { hostname: 'h1', resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 4 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 1024 } }] });
  await reactor.idle();
  return { m, reactor, timer, agentId: r.agent_id, session: r.session };
}

async function fw(m: Master): Promise<Framework & { version: number }> {
  return (await m.registry.getFramework(FW))!;
}

it('offers what a task frees as soon as it ends, without any timer firing', async () => {
  const { m, reactor, timer, agentId } = await world();
  const [offer] = await m.registry.listOffers();
  expect(offer).toMatchObject({ agentId });
  const call = parseSchedulerCall({
    type: 'ACCEPT',
    framework_id: { value: FW },
    accept: {
      offer_ids: [{ value: offer!.id }],
      operations: [{ type: 'LAUNCH', launch: { task_infos: [{ name: 't', task_id: { value: 't1' }, agent_id: { value: agentId }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 4 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 1024 } }], command: { value: 'true' } }] } }],
      filters: { refuse_seconds: 0 },
    },
  });
  if (call.type !== 'ACCEPT') throw new Error('not an ACCEPT');
  expect((await accept(m.ctx, await fw(m), call)).launched).toEqual(['t1']);
  await reactor.idle();
  expect(await m.registry.listOffers()).toEqual([]); // all of it runs the task

  const passes = reactor.stats.passes;
  const agent = (await m.registry.getAgent(agentId))!;
  await applyStatusUpdates(m.ctx, agent, [{ framework_id: FW, task_id: 't1', state: 'TASK_FINISHED', uuid: 'u-finished', timestamp: Date.now() / 1000 }]);
  await reactor.idle();
  const offers = await m.registry.listOffers();
  expect(offers).toHaveLength(1);
  expect(offers[0]!.resources.cpus).toBe((await m.registry.getAgent(agentId))!.total.cpus);
  expect(timer.fired).toBe(0);
  expect(reactor.stats.timerWakes).toBe(0);
  // One pass for the task's end, and the round's own writes (offer, agent counters) woke nothing more.
  expect(reactor.stats.passes - passes).toBe(1);
  expect(await m.registry.getLease()).toEqual({ epoch: 1, holder: '' }); // handed back after each pass, term kept
});

it('offers a declined agent again when the decline filter ends: the timer fires at its due time', async () => {
  const { m, reactor, timer, agentId } = await world();
  const [offer] = await m.registry.listOffers();
  const call = parseSchedulerCall({ type: 'DECLINE', framework_id: { value: FW }, decline: { offer_ids: [{ value: offer!.id }], filters: { refuse_seconds: 2 } } });
  if (call.type !== 'DECLINE') throw new Error('not a DECLINE');
  const declinedAt = Date.now();
  expect(await decline(m.ctx, await fw(m), call)).toBe(1);
  await reactor.idle();
  expect(await m.registry.listOffers()).toEqual([]);
  expect(timer.due).toBe(declinedAt + 2_000);

  await vi.advanceTimersByTimeAsync(2_000 - 1);
  await reactor.idle();
  expect(timer.fired).toBe(0);
  expect(await m.registry.listOffers()).toEqual([]);
  await vi.advanceTimersByTimeAsync(1);
  await reactor.idle();
  expect(timer.fired).toBe(1);
  const offers = await m.registry.listOffers();
  expect(offers).toHaveLength(1);
  expect(offers[0]).toMatchObject({ agentId, createdAt: declinedAt + 2_000 });
});

it('reacts only to changes that can give the leader work', () => {
  const put = (key: { pk: string; sk: string }, data: Record<string, unknown> = {}): ChangeRecord => ({ kind: 'put', key, item: { ...key, data: data as never, version: 1 }, sequence: '1' });
  const del = (key: { pk: string; sk: string }): ChangeRecord => ({ kind: 'delete', key, sequence: '1' });
  expect([put(keys.agent('a')), put(keys.framework('f')), put(keys.role('r')), del(keys.offer('o')), del(keys.filter('f', 'a')), put(keys.task('f', 't'), { state: 'FINISHED' }), del(keys.task('f', 't'))].map(wakesLeader)).toEqual(Array(7).fill(true));
  expect(
    [put(keys.offer('o')), put(keys.filter('f', 'a')), put(keys.task('f', 't'), { state: 'RUNNING' }), put(keys.lease('master')), put(keys.event('f', 1)), put(keys.eventLog('f')), put(keys.liveness('agent', 'a')), put(keys.agentWork('a')), put(keys.document('c', 'i'))].map(wakesLeader),
  ).toEqual(Array(9).fill(false));
});

it('arms nothing when nothing is registered: idle means no wake-up', async () => {
  const store = new MemoryItemStore();
  const m = new Master({ store, holderId: 'idle', log: silentLogger });
  const timer = new MemoryWakeTimer({ now: m.ctx.now });
  const reactor = new LeaderReactor(m.ctx, m.lease, m.leader, { timer });
  await reactor.onTimer();
  expect(reactor.stats.passes).toBe(1);
  expect(reactor.stats.armedFor).toBeUndefined();
  expect(timer.due).toBeUndefined();
});

it('wakes for an offer timeout when it falls due, rescinds the offer and offers again', async () => {
  const { m, reactor, timer } = await world({ offerTimeoutMs: 3_000, agentPingTimeoutMs: 60_000 });
  const [offer] = await m.registry.listOffers();
  expect(timer.due).toBe(offer!.expiresAt);
  await vi.advanceTimersByTimeAsync(offer!.expiresAt - Date.now());
  await reactor.idle();
  expect(timer.fired).toBe(1);
  const [again] = await m.registry.listOffers();
  expect(again!.id).not.toBe(offer!.id);
  expect(again!.createdAt).toBe(offer!.expiresAt);
  expect(timer.due).toBe(again!.expiresAt);
});
