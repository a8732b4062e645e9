import { beforeEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../../src/core/agent.js';
import { ConflictError, FencedError, ValidationError } from '../../../src/core/errors.js';
import type { Framework } from '../../../src/core/framework.js';
import type { AgentId, FrameworkId, OfferId, StreamId, TaskId } from '../../../src/core/ids.js';
import { EMPTY, resources } from '../../../src/core/resources.js';
import type { Task } from '../../../src/core/task.js';
import type { ItemStore } from '../../../src/state/item-store.js';
import { TransactionConflict } from '../../../src/state/item-store.js';
import { keys } from '../../../src/state/keys.js';
import { LeaderLease } from '../../../src/state/leader-lease.js';
import { Registry } from '../../../src/state/registry.js';

// One suite for every ItemStore adapter: the embedded default must behave like DynamoDB.

export type StoreFactory = () => Promise<ItemStore>;

/** A monotonic clock the lease tests move by hand: the lease's timing is exact, whatever the store's latency. */
class FakeClock {
  t = 1_000;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export function agent(id: string, overrides: Partial<Agent> = {}): Agent {
  return {
    id: id as AgentId,
    hostname: `${id}.local`,
    attributes: { zone: 'a' },
    total: resources({ cpus: 4, mem: 4096, ports: [{ begin: 31000, end: 31100 }] }),
    allocated: EMPTY,
    offered: EMPTY,
    reachability: 'REACHABLE',
    deactivated: false,
    registeredAt: 1,
    session: 's1',
    ...overrides,
  };
}

/** A connected framework of role `*` (failover timeout 0) on stream `s1`. */
export function framework(id: string, overrides: Partial<Framework> = {}): Framework {
  return {
    id: id as FrameworkId,
    info: { name: 'f', user: 'u', roles: ['*'], failoverTimeoutSeconds: 0, capabilities: [], checkpoint: false },
    streamId: 's1' as StreamId,
    connected: true,
    lastSeenAt: 0,
    registeredAt: 0,
    suppressedRoles: [],
    ...overrides,
  };
}

export function task(fid: string, tid: string, aid: string, overrides: Partial<Task> = {}): Task {
  return {
    frameworkId: fid as FrameworkId,
    taskId: tid as TaskId,
    agentId: aid as AgentId,
    role: '*',
    resources: resources({ cpus: 0.5, mem: 64 }),
    spec: { name: tid, command: { shell: true, value: 'true' } },
    state: 'STAGING',
    status: { state: 'STAGING', source: 'SOURCE_MASTER', timestamp: 1 },
    pendingAcks: [],
    epoch: 1,
    createdAt: 1,
    updatedAt: 1,
    ...overrides,
  };
}

export function registryContract(name: string, makeStore: StoreFactory): void {
  describe(`Registry contract: ${name}`, () => {
    let store: ItemStore;
    let registry: Registry;

    beforeEach(async () => {
      store = await makeStore();
      registry = new Registry(store);
    });

    describe('items', () => {
      it('writes versioned items and refuses a write that expects an old version', async () => {
        await registry.transaction().putAgent(agent('a1'), 'absent').commit();
        const a = await registry.getAgent('a1');
        expect(a?.version).toBe(1);
        expect(a?.total.cpus).toBe(4000);
        await registry.transaction().putAgent({ ...a!, hostname: 'h2' }, { version: 1 }).commit();
        await expect(registry.transaction().putAgent({ ...a!, hostname: 'h3' }, { version: 1 }).commit()).rejects.toBeInstanceOf(ConflictError);
        const b = await registry.getAgent('a1');
        expect(b?.hostname).toBe('h2');
        expect(b?.version).toBe(2);
      });

      it("'absent' fails on an existing item and 'present' on a missing one", async () => {
        await registry.transaction().putAgent(agent('a1'), 'absent').commit();
        await expect(registry.transaction().putAgent(agent('a1'), 'absent').commit()).rejects.toBeInstanceOf(ConflictError);
        await expect(registry.transaction().deleteOffer('nope', 'present').commit()).rejects.toBeInstanceOf(ConflictError);
      });

      it('applies a transaction all-or-nothing', async () => {
        await registry.transaction().putAgent(agent('a1'), 'absent').commit();
        const tx = registry
          .transaction()
          .putAgent(agent('a2'), 'absent')
          .putTask(task('f1', 't1', 'a2'), 'absent')
          .putAgent(agent('a1'), 'absent'); // fails: exists
        await expect(tx.commit()).rejects.toThrow(/agent a1/);
        expect(await registry.getAgent('a2')).toBeUndefined();
        expect(await registry.getTask('f1', 't1')).toBeUndefined();
      });

      it('refuses two operations on one item in a transaction, as DynamoDB does', async () => {
        const tx = registry.transaction().putAgent(agent('a1'), 'absent').putAgent(agent('a1'), 'any');
        await expect(tx.commit()).rejects.toThrow(/twice/);
        expect(await registry.getAgent('a1')).toBeUndefined();
      });

      it('queries collections and per-agent indexes without scans', async () => {
        const tx = registry.transaction();
        for (const a of ['a1', 'a2', 'a3']) tx.putAgent(agent(a), 'absent');
        tx.putTask(task('f1', 't1', 'a1'), 'absent').putTask(task('f1', 't2', 'a2'), 'absent').putTask(task('f2', 't1', 'a1'), 'absent');
        await tx.commit();
        expect((await registry.listAgents()).map((a) => a.id).sort()).toEqual(['a1', 'a2', 'a3']);
        expect((await registry.listTasksByAgent('a1')).map((t) => `${t.frameworkId}/${t.taskId}`).sort()).toEqual(['f1/t1', 'f2/t1']);
        expect((await registry.listTasksByFramework('f1')).map((t) => t.taskId).sort()).toEqual(['t1', 't2']);
        expect(await registry.listTasks()).toHaveLength(3);
      });

      it('pages through large collections', async () => {
        for (let b = 0; b < 3; b++) {
          const tx = registry.transaction();
          for (let i = 0; i < 40; i++) tx.putAgent(agent(`a${b}-${i}`), 'absent');
          await tx.commit();
        }
        const first = await store.query({ index: 'gsi1', pk: 'AGENTS', limit: 50 });
        expect(first.items).toHaveLength(50);
        expect(first.next).toBeDefined();
        expect(await registry.listAgents()).toHaveLength(120);
      });

      it('tracks offers by framework and by agent, and consumes an offer at most once', async () => {
        const offer = {
          id: 'o1' as OfferId,
          frameworkId: 'f1' as FrameworkId,
          agentId: 'a1' as AgentId,
          hostname: 'a1.local',
          role: '*',
          resources: resources({ cpus: 1, mem: 128 }),
          attributes: {},
          epoch: 1,
          createdAt: 1,
          expiresAt: 2,
        };
        await registry.transaction().putOffer(offer).commit();
        expect((await registry.listOffersByFramework('f1')).map((o) => o.id)).toEqual(['o1']);
        expect(await registry.listOffersByFramework('f2')).toEqual([]);
        expect((await registry.listOffersByAgent('a1')).map((o) => o.id)).toEqual(['o1']);
        const consume = (): Promise<void> => registry.transaction().deleteOffer('o1').putTask(task('f1', 'tx', 'a1'), 'absent').commit();
        const results = await Promise.allSettled([consume(), consume()]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(await registry.getOffer('o1')).toBeUndefined();
        expect(await registry.listOffers()).toEqual([]);
      });

      it('treats expired items as absent (TTL)', async () => {
        await store.transact([{ op: 'put', item: { pk: 'X', sk: 'x', gsi1pk: 'XS', gsi1sk: 'x', expiresAt: Math.floor(Date.now() / 1000) - 5, data: {} }, expect: 'any' }]);
        expect(await store.get({ pk: 'X', sk: 'x' })).toBeUndefined();
        expect((await store.query({ index: 'gsi1', pk: 'XS' })).items).toEqual([]);
        await store.transact([{ op: 'put', item: { pk: 'X', sk: 'x', data: { again: true } }, expect: 'absent' }]);
        expect((await store.get({ pk: 'X', sk: 'x' }))?.data).toEqual({ again: true });
      });

      it('reports which op of a failed transaction failed', async () => {
        await store.transact([{ op: 'put', item: { pk: 'P', sk: 'p', attrs: { n: 1 }, data: { n: 1 } }, expect: 'absent' }]);
        const err = await store
          .transact([
            { op: 'put', item: { pk: 'Q', sk: 'q', data: {} }, expect: 'absent' },
            { op: 'check', key: { pk: 'P', sk: 'p' }, expect: 'present', attrsEqual: { n: 2 } },
          ])
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TransactionConflict);
        expect((err as TransactionConflict).failed).toEqual([1]);
        expect(await store.get({ pk: 'Q', sk: 'q' })).toBeUndefined();
      });
    });

    describe('bad input', () => {
      it('refuses malformed ids and negative resources with typed errors and writes nothing', async () => {
        expect(() => registry.transaction().putAgent(agent('bad#id'), 'absent')).toThrow(ValidationError);
        expect(() => registry.transaction().putAgent(agent('a/b'), 'absent')).toThrow(ValidationError);
        expect(() =>
          registry.transaction().putAgent(agent('a1', { total: { ...EMPTY, cpus: -1000 } }), 'absent'),
        ).toThrow(/agent.total.cpus/);
        expect(() => registry.transaction().putTask(task('f1', 't1', 'a1', { resources: { ...EMPTY, mem: 1.5 } }), 'absent')).toThrow(
          ValidationError,
        );
        await expect(registry.getAgent('')).rejects.toBeInstanceOf(ValidationError);
        expect(await registry.listAgents()).toEqual([]);
        expect(await registry.listTasks()).toEqual([]);
      });
    });

    describe('event log', () => {
      it('appends in order, reads after a cursor, and trims acknowledged events', async () => {
        let head = await registry.getEventLog('f1');
        expect(head).toBeUndefined();
        const tx = registry.transaction();
        const seq = tx.appendEvents('f1', head, [
          { type: 'SUBSCRIBED', body: { n: 1 } },
          { type: 'OFFERS', body: { n: 2 } },
        ]);
        await tx.commit();
        expect(seq).toBe(2);
        head = await registry.getEventLog('f1');
        const tx2 = registry.transaction();
        tx2.appendEvents('f1', head, [{ type: 'UPDATE', body: { n: 3 } }]);
        await tx2.commit();
        expect((await registry.readEvents('f1', 0)).map((e) => e.seq)).toEqual([1, 2, 3]);
        expect((await registry.readEvents('f1', 2)).map((e) => e.type)).toEqual(['UPDATE']);
        expect(await registry.readEvents('f1', 3)).toEqual([]);
        expect(await registry.trimEvents('f1', 2)).toBe(2);
        expect((await registry.readEvents('f1', 0)).map((e) => e.seq)).toEqual([3]);
      });

      it('makes concurrent appenders conflict instead of reusing a sequence number', async () => {
        const head = await registry.getEventLog('f1');
        const a = registry.transaction();
        a.appendEvents('f1', head, [{ type: 'A', body: {} }]);
        const b = registry.transaction();
        b.appendEvents('f1', head, [{ type: 'B', body: {} }]);
        const results = await Promise.allSettled([a.commit(), b.commit()]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(await registry.readEvents('f1', 0)).toHaveLength(1);
      });
    });

    describe('liveness and documents', () => {
      it('counts beats by version', async () => {
        await registry.beat('agent', 'a1', 's1');
        await registry.beat('agent', 'a1', 's1');
        await registry.beat('agent', 'a2', 's1');
        const l = await registry.listLiveness('agent');
        expect(l.find((x) => x.id === 'a1')?.beats).toBe(2);
        expect(l.find((x) => x.id === 'a2')?.beats).toBe(1);
      });

      it('checks an item unchanged, or still absent, inside a transaction', async () => {
        await registry.transaction().putDocument('t', 'here', { v: 1 }, 'absent').commit();
        const here = (await registry.getDocument('t', 'here'))!;
        // Both conditions hold: the check passes and the write goes through.
        await registry
          .transaction()
          .check(keys.document('t', 'here'), { version: here.version }, 'here')
          .check(keys.document('t', 'not-yet'), 'absent', 'not-yet')
          .putDocument('t', 'out', { ok: true }, 'absent')
          .commit();
        expect((await registry.getDocument('t', 'out'))?.data).toEqual({ ok: true });
        // Once the item exists, expecting it absent fails the whole transaction.
        await registry.transaction().putDocument('t', 'not-yet', { v: 1 }, 'absent').commit();
        await expect(registry.transaction().check(keys.document('t', 'not-yet'), 'absent', 'not-yet').putDocument('t', 'out2', {}, 'absent').commit()).rejects.toBeInstanceOf(ConflictError);
        expect(await registry.getDocument('t', 'out2')).toBeUndefined();
      });

      it('stores documents of other modules by collection', async () => {
        await registry.transaction().putDocument('jobs', 'web', { instances: 3 }, 'absent').commit();
        await registry.transaction().putDocument('jobs', 'db', { instances: 1 }, 'absent').commit();
        expect((await registry.getDocument('jobs', 'web'))?.data).toEqual({ instances: 3 });
        expect((await registry.listDocuments('jobs')).map((d) => d.id)).toEqual(['db', 'web']);
      });
    });

    describe('leader lease', () => {
      it('lets exactly one of three racing contenders win', async () => {
        // A clock of their own: however slow the store, the winner's lease does not run out here.
        const clock = new FakeClock();
        const contenders = [0, 1, 2].map((i) => new LeaderLease(store, { holderId: `m${i}`, durationMs: 2000, now: clock.now }));
        const won = await Promise.all(contenders.map((c) => c.acquire()));
        expect(won.filter(Boolean)).toHaveLength(1);
        expect(contenders.filter((c) => c.isLeader())).toHaveLength(1);
        expect((await contenders[0]!.read())?.epoch).toBe(1);
      });

      it('hands over after the lease when the leader stops renewing, with epoch + 1, and fences the old leader', async () => {
        const clock = new FakeClock();
        const a = new LeaderLease(store, { holderId: 'a', durationMs: 400, safetyMarginMs: 40, now: clock.now });
        const b = new LeaderLease(store, { holderId: 'b', durationMs: 400, safetyMarginMs: 40, now: clock.now });
        expect(await a.acquire()).toBe(true);
        const epochA = a.epoch!;
        await registry.transaction().fence(epochA).putDocument('t', 'x', { by: 'a' }, 'any').commit();
        const started = clock.t;
        let tookOver = false;
        while (!tookOver && clock.t - started < 3000) {
          tookOver = await b.acquire();
          if (!tookOver) clock.advance(50);
        }
        // b first saw a's renewal at once, and took over the moment a full lease had passed since.
        expect(tookOver).toBe(true);
        expect(clock.t - started).toBe(400);
        expect(b.epoch).toBe(epochA + 1);
        // a learns it is no longer leader from its own clock, and its renewal fails.
        expect(a.isLeader()).toBe(false);
        expect(await a.renew()).toBe(false);
        await expect(registry.transaction().fence(epochA).putDocument('t', 'x', { by: 'a' }, 'any').commit()).rejects.toBeInstanceOf(
          FencedError,
        );
        await registry.transaction().fence(b.epoch!).putDocument('t', 'x', { by: 'b' }, 'any').commit();
        expect((await registry.getDocument('t', 'x'))?.data).toEqual({ by: 'b' });
      });

      it('refuses to fence with no epoch (a leader whose lease ran out locally)', () => {
        expect(() => registry.transaction().fence(undefined as unknown as number)).toThrow(/lease epoch/);
        expect(() => registry.transaction().fence(0)).toThrow(/lease epoch/);
      });

      it('keeps the lease while renewing, and a released lease is taken at once', async () => {
        const clock = new FakeClock();
        const a = new LeaderLease(store, { holderId: 'a', durationMs: 300, now: clock.now });
        const b = new LeaderLease(store, { holderId: 'b', durationMs: 300, now: clock.now });
        expect(await a.acquire()).toBe(true);
        for (let i = 0; i < 6; i++) {
          clock.advance(80);
          expect(await a.renew()).toBe(true);
          expect(await b.acquire()).toBe(false);
          // b watches the renewal it just saw: a takeover would fall due a full lease after it.
          expect(b.takeoverDueIn()).toBe(300);
          expect(a.takeoverDueIn()).toBeUndefined();
        }
        await a.release();
        expect(await b.acquire()).toBe(true);
        // Handed over on purpose: the term (epoch) goes on under the new holder.
        expect(b.epoch).toBe(1);
        expect(b.lastAcquisition).toMatchObject({ epoch: 1, how: 'released' });
      });

      it('starts a new epoch only when a holder failed: a lapsed own lease, or a silent holder taken over', async () => {
        const clock = new FakeClock();
        const a = new LeaderLease(store, { holderId: 'a', durationMs: 300, safetyMarginMs: 30, now: clock.now });
        const b = new LeaderLease(store, { holderId: 'b', durationMs: 300, safetyMarginMs: 30, now: clock.now });
        expect(await a.acquire()).toBe(true);
        await a.release();
        expect(await b.acquire()).toBe(true);
        expect(b.epoch).toBe(1);
        await registry.transaction().fence(1).putDocument('t', 'term', { by: 'b' }, 'any').commit();
        // b's own lease runs out locally (a pause): it may take it back at once, but in a new
        // epoch, since a write of its lapsed term may still be on its way.
        clock.advance(300);
        expect(b.isLeader()).toBe(false);
        expect(await b.acquire()).toBe(true);
        expect(b.lastAcquisition).toMatchObject({ epoch: 2, how: 'lapsed' });
        await expect(registry.transaction().fence(1).putDocument('t', 'term', { by: 'b-late' }, 'any').commit()).rejects.toBeInstanceOf(FencedError);
        // b goes silent: a takes over after the lease, in epoch 3.
        expect(await a.acquire()).toBe(false);
        clock.advance(300);
        expect(await a.acquire()).toBe(true);
        expect(a.lastAcquisition).toMatchObject({ epoch: 3, how: 'takeover', at: b.lastWriteSentAt! + 300 });
        expect((await a.read())?.epoch).toBe(3);
      });

      it('200 randomized rounds of contention with pauses: one holder per epoch, no stale write accepted', async () => {
        // The rounds run on a clock of their own: a pause moves it, a slow store does not, so
        // the same seed always plays the same game, on every store and however loaded the machine.
        const clock = new FakeClock();
        const durationMs = 120;
        const contenders = [0, 1, 2].map((i) => new LeaderLease(store, { holderId: `c${i}`, durationMs, safetyMarginMs: 15, now: clock.now }));
        const holdersByEpoch = new Map<number, Set<string>>();
        const acceptedEpochs: number[] = [];
        let rejected = 0;
        let seed = 42;
        const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
        for (let round = 0; round < 200; round++) {
          const c = contenders[Math.floor(rand() * 3)]!;
          const r = rand();
          if (r < 0.5) {
            if (await c.acquire()) {
              // The epoch just won (under heavy load the short test lease may already have run out locally).
              const epoch = (c as unknown as { held?: { epoch: number } }).held?.epoch;
              if (epoch !== undefined) {
                const set = holdersByEpoch.get(epoch) ?? new Set();
                set.add(c.holderId);
                holdersByEpoch.set(epoch, set);
              }
            }
          } else if (r < 0.85) {
            // A leader (or a paused ex-leader that still thinks so) writes with the epoch it last had.
            const epoch = (c as unknown as { held?: { epoch: number } }).held?.epoch;
            if (epoch !== undefined) {
              const doc = await registry.getDocument('fenced', 'counter');
              try {
                await registry
                  .transaction()
                  .fence(epoch)
                  .putDocument('fenced', 'counter', { epoch }, doc ? { version: doc.version } : 'absent')
                  .commit();
                acceptedEpochs.push(epoch);
              } catch (e) {
                if (!(e instanceof FencedError) && !(e instanceof ConflictError)) throw e;
                rejected++;
              }
            }
          } else {
            clock.advance(Math.floor(rand() * durationMs * 1.5)); // a pause (GC, network) that may outlast the lease
          }
        }
        for (const [epoch, holders] of holdersByEpoch) expect(holders.size, `epoch ${epoch}`).toBe(1);
        for (let i = 1; i < acceptedEpochs.length; i++) expect(acceptedEpochs[i]!).toBeGreaterThanOrEqual(acceptedEpochs[i - 1]!);
        expect(holdersByEpoch.size).toBeGreaterThan(1); // the lease really changed hands
        expect(acceptedEpochs.length).toBeGreaterThan(0);
        expect(rejected).toBeGreaterThan(0); // stale writes were attempted, and refused
      });
    });
  });
}
