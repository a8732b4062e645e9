import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { Master } from '../../../src/master-lambda/master.js';
import type { Item, ItemKey, WriteOp } from '../../../src/state/item-store.js';
import { keys } from '../../../src/state/keys.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { LEASE_NAME } from '../../../src/state/registry.js';
import { advanceUntil } from '../../support/wait.js';

// A standby reads the lease often (a fortieth of it), so it takes over a crashed leader's lease
// within one lease duration (plus a poll) of the leader's last renewal, not a renewal period late.
// The masters run on vitest's fake clock (timers, Date and performance.now): time moves only when
// the test moves it, so the bounds below are exact, whatever else the machine is doing.

const LEASE_MS = 2_000;
/** A fortieth of the lease: how often a standby reads it. */
const STANDBY_POLL_MS = LEASE_MS / 40;
const started: Master[] = [];

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
});
afterEach(async () => {
  for (const m of started.splice(0)) await m.stop();
  vi.useRealTimers();
});

/** Counts lease reads and dates each holder's lease writes on the (fake) clock. */
class LeaseWatchingStore extends MemoryItemStore {
  reads = 0;
  readonly lastWrite = new Map<string, number>();
  override async get(key: ItemKey): Promise<Item | undefined> {
    if (key.pk === keys.lease(LEASE_NAME).pk) this.reads++;
    return super.get(key);
  }
  override async transact(ops: readonly WriteOp[]): Promise<void> {
    const at = performance.now(); // the renewal counts from when it was sent, as the holder counts it
    await super.transact(ops);
    for (const op of ops) {
      if (op.op === 'put' && op.item.pk === keys.lease(LEASE_NAME).pk) this.lastWrite.set((op.item.data as { holder: string }).holder, at);
    }
  }
}

function master(store: MemoryItemStore, holderId: string): Master {
  const m = new Master({ store, holderId, log: silentLogger, config: { leaseDurationMs: LEASE_MS } });
  started.push(m);
  return m.start();
}

it('takes over a crashed leader within the lease plus a standby poll of its last renewal', async () => {
  const store = new LeaseWatchingStore();
  let leader = master(store, 'm0');
  // Crash each leader at a different point of its renewal period (a quarter of the lease).
  for (const [holder, crashAfterMs] of [['m1', 210], ['m2', 377], ['m3', 495]] as const) {
    const standby = master(store, holder);
    await advanceUntil(() => leader.lease.isLeader(), 5_000, `${leader.lease.holderId} to lead`);
    await vi.advanceTimersByTimeAsync(crashAfterMs);
    await leader.leader.stop({ release: false });
    await advanceUntil(() => standby.lease.isLeader(), 3 * LEASE_MS, `${holder} to take over`);
    const takeover = performance.now() - store.lastWrite.get(leader.lease.holderId)!;
    expect(takeover).toBeGreaterThanOrEqual(LEASE_MS);
    expect(takeover).toBeLessThanOrEqual(LEASE_MS + STANDBY_POLL_MS + 5); // + the test's own step
    leader = standby;
  }
});

it('has a standby read the lease a fortieth of the lease apart (not a renewal period)', async () => {
  const store = new LeaseWatchingStore();
  const leader = master(store, 'lead');
  await advanceUntil(() => leader.lease.isLeader(), 5_000, 'the leader to lead');
  master(store, 'standby');
  await vi.advanceTimersByTimeAsync(10); // the standby's first read
  const before = store.reads;
  await vi.advanceTimersByTimeAsync(1_000);
  // The standby reads every 50 ms: 20 reads in a second (the holder renews without reading).
  // At the holder's renewal period (500 ms) it would be 2.
  expect(store.reads - before).toBe(1_000 / STANDBY_POLL_MS);
});

it('retries a failed election duty, and allocates only once the election duties have all run', async () => {
  let calls = 0;
  let roundsBeforeElected = -1;
  const m = new Master({
    store: new MemoryItemStore(),
    log: silentLogger,
    config: { leaseDurationMs: LEASE_MS, allocationIntervalMs: 20 },
    onElected: [
      async () => {
        calls++;
        if (calls === 1) throw new Error('the first reconciliation failed');
        roundsBeforeElected = m.leader.stats.rounds;
      },
    ],
  });
  started.push(m.start());
  await advanceUntil(() => calls >= 2 && m.leader.stats.rounds > 0, 5_000, 'the election duty to succeed and a round to run');
  expect(roundsBeforeElected).toBe(0);
  expect(m.leader.stats.elections).toBe(1);
});

it('releases the lease (and so hands its epoch on) only once every leader write in flight has returned', async () => {
  const store = new MemoryItemStore();
  let finishPass: (() => void) | undefined;
  let passWrote = false;
  // A duty whose fenced write runs in the background after the duty returns, as the autoscaler's pass does.
  let pass: Promise<void> | undefined;
  const duty = Object.assign(
    async (ctx: Master['ctx'], epoch: number) => {
      pass ??= (async () => {
        await new Promise<void>((r) => (finishPass = r));
        await ctx.registry.transaction().fence(epoch).putDocument('t', 'late', { epoch }, 'any').commit();
        passWrote = true;
      })();
    },
    { settle: () => pass ?? Promise.resolve() },
  );
  const m = new Master({ store, holderId: 'm1', log: silentLogger, config: { leaseDurationMs: LEASE_MS, allocationIntervalMs: 20 }, duties: [duty] });
  m.start();
  await advanceUntil(() => finishPass !== undefined, 5_000, 'the background pass to start');
  let stopped = false;
  const stopping = m.stop().then(() => (stopped = true));
  await vi.advanceTimersByTimeAsync(100);
  expect(stopped).toBe(false);
  expect((await m.registry.getLease()).holder).toBe('m1'); // not released while the pass may still write
  finishPass!();
  await stopping;
  expect(passWrote).toBe(true);
  expect(await m.registry.getLease()).toEqual({ epoch: 1, holder: '' });
});

it('does not hand its term on when a write ended without an answer: the successor takes epoch + 1 after the lease', async () => {
  const store = new MemoryItemStore();
  let drop = false;
  const flaky = Object.create(store) as MemoryItemStore;
  flaky.transact = async (ops) => {
    if (drop) {
      drop = false;
      await store.transact(ops); // applied, but the answer is lost
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    return store.transact(ops);
  };
  const m = new Master({ store: flaky, holderId: 'm1', log: silentLogger, config: { leaseDurationMs: LEASE_MS } });
  m.start();
  await advanceUntil(() => m.lease.isLeader(), 5_000, 'm1 to lead');
  drop = true;
  await expect(m.registry.transaction().fence(m.lease.epoch!).putDocument('t', 'x', {}, 'any').commit()).rejects.toThrow(/socket hang up/);
  await m.stop();
  expect((await m.registry.getLease()).holder).toBe('m1'); // not released: left to lapse
  const next = master(store, 'm2');
  await advanceUntil(() => next.lease.isLeader(), 3 * LEASE_MS, 'm2 to take over');
  expect(next.lease.lastAcquisition).toMatchObject({ epoch: 2, how: 'takeover' });
});
