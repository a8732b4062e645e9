import { describe, expect, it } from 'vitest';
import type { Framework } from '../../../src/core/framework.js';
import type { FrameworkId, StreamId } from '../../../src/core/ids.js';
import { createLogger, silentLogger } from '../../../src/core/logger.js';
import { add, contains } from '../../../src/core/resources.js';
import { parseSchedulerCall } from '../../../src/master-lambda/codec/scheduler-call.js';
import { runTick } from '../../../src/master-lambda/lambda/leader-tick.js';
import { Master } from '../../../src/master-lambda/master.js';
import { accept, type AcceptResult } from '../../../src/master-lambda/use-cases/accept.js';
import { registerAgent, requireAgentSession } from '../../../src/master-lambda/use-cases/agent-register.js';
import type { ItemStore, WriteOp } from '../../../src/state/item-store.js';
import { LeaderLease } from '../../../src/state/leader-lease.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import type { Registry } from '../../../src/state/registry.js';
import { expectConsistentAccounting } from '../../support/accounting.js';
import { describeWith } from '../../support/components.js';
import { freshDynamoStore } from '../../support/dynamodb.js';
import { waitUntil } from '../../support/wait.js';

// Leader terms in a deployed region, where every leader is one Lambda invocation (runTick) and
// the next invocation may run in another container (another holder id). A clean handover keeps
// the term: offers made by one invocation are accepted in the next, and agents keep their
// sessions. A leader that dies mid-round hands over only after its lease, in a new epoch that
// fences whatever it still had in flight.

const LEASE_MS = 2_000;

function framework(): Framework {
  return {
    id: 'fw-terms' as FrameworkId,
    info: { name: 'terms', user: 'u', roles: ['*'], failoverTimeoutSeconds: 600, capabilities: [], checkpoint: false },
    streamId: 's-terms' as StreamId,
    connected: true,
    lastSeenAt: 0,
    registeredAt: 0,
    suppressedRoles: [],
  };
}

function master(store: ItemStore, holderId: string, leaseNow?: () => number): Master {
  return new Master({
    store,
    holderId,
    canStream: false,
    log: process.env.DEBUG_TERMS ? createLogger('t') : silentLogger,
    config: { leaseDurationMs: LEASE_MS, allocationIntervalMs: 20, offersPerTransaction: 1 },
    ...(leaseNow ? { leaseNow } : {}),
  });
}

/** A first term, handed back cleanly, so agents registered now belong to it. */
async function firstTerm(store: ItemStore): Promise<number> {
  const lease = new LeaderLease(store, { holderId: 'bootstrap', durationMs: LEASE_MS });
  expect(await lease.acquire()).toBe(true);
  await lease.release();
  return (await lease.read())!.epoch;
}

async function setUp(m: Master, agents: string[]): Promise<Map<string, string>> {
  await m.registry.transaction().putFramework(framework(), 'absent').commit();
  const sessions = new Map<string, string>();
  for (const host of agents) {
    const r = await registerAgent(m.ctx, { hostname: host, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 4 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 1024 } }] });
    sessions.set(r.agent_id, r.session);
  }
  return sessions;
}

function launch(m: Master, offerId: string, agentId: string, taskId: string): Promise<AcceptResult> {
  const call = parseSchedulerCall({
    type: 'ACCEPT',
    framework_id: { value: 'fw-terms' },
    accept: {
      offer_ids: [{ value: offerId }],
      operations: [
        {
          type: 'LAUNCH',
          launch: {
            task_infos: [
              { name: taskId, task_id: { value: taskId }, agent_id: { value: agentId }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }], command: { value: 'true' } },
            ],
          },
        },
      ],
      filters: { refuse_seconds: 0 },
    },
  });
  if (call.type !== 'ACCEPT') throw new Error('not an ACCEPT');
  return m.registry.getFramework('fw-terms').then((f) => accept(m.ctx, f!, call));
}

async function eventTypes(registry: Registry): Promise<string[]> {
  return (await registry.readEvents('fw-terms', 0, 1000)).map((e) => e.type);
}

async function expectWithinTotals(registry: Registry): Promise<void> {
  for (const a of await registry.listAgents()) expect(contains(a.total, add(a.offered, a.allocated)), `agent ${a.id}`).toBe(true);
}

/** The store, until `freeze()`: then every write waits until `thaw()` (a process paused or killed mid-round). */
class FreezableStore {
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  frozenWrites = 0;
  readonly store: ItemStore;
  constructor(
    inner: ItemStore,
    private readonly freezeWhen: (ops: readonly WriteOp[]) => boolean,
  ) {
    const store = Object.create(inner) as ItemStore;
    store.transact = async (ops) => {
      if (!this.gate && this.freezeWhen(ops)) this.gate = new Promise((r) => (this.open = r));
      if (this.gate) {
        this.frozenWrites++;
        await this.gate;
      }
      return inner.transact(ops);
    };
    this.store = store;
  }
  thaw(): void {
    this.open?.();
  }
}

function termSuite(storeName: string, fresh: () => Promise<ItemStore>): void {
  describe(`leader terms (${storeName})`, () => {
    it('keeps the epoch, the offers and every agent session across two consecutive tick invocations', async () => {
      const store = await fresh();
      const epoch = await firstTerm(store);
      const api = master(store, 'api'); // the API handler: never leads
      const sessions = await setUp(api, ['host-a', 'host-b']);

      // The leases' clock stands still: however slow the store, no lease runs out here.
      const still = (): number => 0;
      const first = master(store, 'tick-container-1', still);
      await runTick(first, 200);
      expect(first.leader.stats.rounds).toBeGreaterThan(0);
      const lease1 = await api.registry.getLease();
      expect(lease1).toEqual({ epoch, holder: '' });
      const offers1 = await api.registry.listOffers();
      expect(offers1).toHaveLength(2);
      expect(offers1.every((o) => o.epoch === epoch)).toBe(true);

      // The second invocation, in another container: an ACCEPT of the first one's offer launches under it.
      const second = master(store, 'tick-container-2', still);
      const running = runTick(second, 300);
      await waitUntil(() => second.lease.isLeader(), 10_000, 'the second invocation to lead');
      expect(second.lease.lastAcquisition).toMatchObject({ epoch, how: 'released' });
      const [o1] = offers1;
      const result = await launch(api, o1!.id, o1!.agentId, 'task-1');
      expect(result).toEqual({ launched: ['task-1'], errors: [], dropped: [] });
      await running;
      expect(second.leader.stats.rounds).toBeGreaterThan(0);

      expect(await api.registry.getLease()).toEqual({ epoch, holder: '' });
      const task = await api.registry.getTask('fw-terms', 'task-1');
      expect(task).toMatchObject({ state: 'STAGING', epoch });
      // The other offer outlived both invocations, unrescinded; no agent must register again.
      expect((await api.registry.listOffers()).map((o) => o.id)).toContain(offers1[1]!.id);
      expect(await eventTypes(api.registry)).not.toContain('RESCIND');
      const reader = master(store, 'another-api-container');
      for (const [agentId, session] of sessions) await expect(requireAgentSession(reader.ctx, agentId, session)).resolves.toMatchObject({ id: agentId, session });
      await expectConsistentAccounting(api.registry);
    }, 240_000);

    it('hands a leader killed mid-round over after its lease, in a new epoch that fences its late writes', async () => {
      const store = await fresh();
      const epoch = await firstTerm(store);
      const api = master(store, 'api');
      const sessions = await setUp(api, ['host-a', 'host-b']);
      let clock = 0;
      const leaseNow = (): number => clock;

      // The dying leader's second offer write never returns before its successor leads.
      let offerWrites = 0;
      const dying = new FreezableStore(store, (ops) => ops.some((o) => o.op === 'put' && o.item.pk.startsWith('OFFER#')) && ++offerWrites === 2);
      const old = master(dying.store, 'tick-dies', leaseNow);
      const oldTick = runTick(old, 500);
      await waitUntil(() => dying.frozenWrites > 0, 20_000, 'the old leader to be stuck mid-round');
      expect(await api.registry.listOffers()).toHaveLength(1);
      const lastRenewal = old.lease.lastWriteSentAt!;

      const next = master(store, 'tick-next', leaseNow);
      const POLL_MS = 100;
      while (!(await next.lease.acquire())) clock += POLL_MS;
      // The bound comes from the leases' own clock: at least a lease, at most a poll more.
      const takeover = next.lease.lastAcquisition!;
      expect(takeover).toMatchObject({ epoch: epoch + 1, how: 'takeover' });
      expect(takeover.at - lastRenewal).toBeGreaterThanOrEqual(LEASE_MS);
      expect(takeover.at - lastRenewal).toBeLessThanOrEqual(LEASE_MS + POLL_MS);
      expect(old.lease.isLeader()).toBe(false);

      // The successor finishes the work: the old term's offer is rescinded, everything is offered again.
      await runTick(next, 200);
      const offers = await api.registry.listOffers();
      expect(offers).toHaveLength(2);
      expect(offers.every((o) => o.epoch === epoch + 1)).toBe(true);
      expect(await eventTypes(api.registry)).toContain('RESCIND');

      // The old leader's write arrives now: fenced, it changes nothing.
      dying.thaw();
      await oldTick;
      expect(await api.registry.listOffers()).toHaveLength(2);
      await expectConsistentAccounting(api.registry);

      // Each task launches once: on the new term's offers, and never again on the old one's.
      for (const [i, o] of offers.entries()) expect((await launch(api, o.id, o.agentId, `task-${i}`)).launched).toEqual([`task-${i}`]);
      expect((await launch(api, offers[0]!.id, offers[0]!.agentId, 'task-0')).launched).toEqual([]);
      const tasks = await api.registry.listTasks();
      expect(tasks.map((t) => t.taskId).sort()).toEqual(['task-0', 'task-1']);
      expect(tasks.every((t) => t.epoch === epoch + 1)).toBe(true);
      await expectConsistentAccounting(api.registry);
      await expectWithinTotals(api.registry);
      // A new term: agents re-register to reconcile what they run.
      const reader = master(store, 'reader');
      const [agentId, session] = [...sessions][0]!;
      await expect(requireAgentSession(reader.ctx, agentId, session)).rejects.toThrow(/new leader/);
    }, 240_000);
  });
}

termSuite('in-memory', async () => new MemoryItemStore());
await describeWith(['aws'], 'DynamoDB on the local AWS endpoint', () => {
  termSuite('DynamoDB', () => freshDynamoStore('terms'));
});
