import { afterEach, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { Master } from '../../../src/master-lambda/master.js';
import type { Item, ItemKey } from '../../../src/state/item-store.js';
import { keys } from '../../../src/state/keys.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { LEASE_NAME } from '../../../src/state/registry.js';

// A standby reads the lease often (a fortieth of it), so it takes over a crashed leader's lease
// within one lease duration (plus a poll) of the leader's last renewal, not a renewal period late.

const LEASE_MS = 2_000;
const started: Master[] = [];
afterEach(async () => {
  for (const m of started.splice(0)) await m.stop();
});

function master(store: MemoryItemStore, holderId: string): Master {
  const m = new Master({ store, holderId, log: silentLogger, config: { leaseDurationMs: LEASE_MS } });
  started.push(m);
  return m.start();
}

it('takes over a crashed leader within the lease plus a standby poll of its last renewal', async () => {
  const store = new MemoryItemStore();
  // Watch the lease item: when each holder last renewed it (its renewal number changed).
  const lastRenewal = new Map<string, number>();
  let rvn = '';
  const watch = setInterval(() => {
    void store.get(keys.lease(LEASE_NAME)).then((item) => {
      const d = item?.data as { rvn?: string; holder?: string } | undefined;
      if (d?.rvn && d.holder && d.rvn !== rvn) {
        rvn = d.rvn;
        lastRenewal.set(d.holder, Date.now());
      }
    });
  }, 5);
  try {
    let leader = master(store, 'm0');
    for (const holder of ['m1', 'm2', 'm3']) {
      const standby = master(store, holder);
      await waitUntil(() => leader.lease.isLeader(), 5_000);
      // Crash the leader at an arbitrary point of its renewal period.
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 400));
      await leader.leader.stop({ release: false });
      const crashedAt = Date.now();
      await waitUntil(() => standby.lease.isLeader(), 3 * LEASE_MS);
      const takeover = Date.now() - lastRenewal.get(leader.lease.holderId)!;
      expect(takeover).toBeGreaterThanOrEqual(LEASE_MS);
      expect(takeover, `takeover ${takeover} ms after the last renewal (crash ${Date.now() - crashedAt} ms ago)`).toBeLessThanOrEqual(LEASE_MS + 400);
      leader = standby;
    }
  } finally {
    clearInterval(watch);
  }
}, 30_000);

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

it('has a standby read the lease a fortieth of the lease apart (not a renewal period)', async () => {
  let reads = 0;
  class CountingStore extends MemoryItemStore {
    override async get(key: ItemKey): Promise<Item | undefined> {
      if (key.pk === keys.lease(LEASE_NAME).pk) reads++;
      return super.get(key);
    }
  }
  const store = new CountingStore();
  const leader = master(store, 'lead');
  await waitUntil(() => leader.lease.isLeader(), 5_000);
  master(store, 'standby');
  const before = reads;
  await new Promise((r) => setTimeout(r, 1_000));
  // 20 reads at 50 ms apart; at the holder's renewal period (500 ms) it would be 2.
  expect(reads - before).toBeGreaterThanOrEqual(6);
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
  await waitUntil(() => calls >= 2 && m.leader.stats.rounds > 0, 5_000);
  expect(roundsBeforeElected).toBe(0);
  expect(m.leader.stats.elections).toBe(1);
});
