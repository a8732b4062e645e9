import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FencedError } from '../../../../src/core/errors.js';
import { buildDigest } from '../../../../src/federation/gossip/digest-builder.js';
import { encodeDigest } from '../../../../src/federation/gossip/digest-codec.js';
import { DEFAULT_GOSSIP_CONFIG } from '../../../../src/federation/gossip/config.js';
import type { GossipEvent } from '../../../../src/federation/gossip/region-gossip.js';
import { allocateIncarnation } from '../../../../src/federation/gossip/incarnation.js';
import { Registry } from '../../../../src/state/registry.js';
import { MemoryItemStore } from '../../../../src/state/memory-item-store.js';
import { ChaosTransport } from '../../../support/federation-chaos-transport.js';
import { SimGossip } from '../../../support/federation-gossip-sim.js';
import { fleet, seedFleet } from '../../../support/federation-fixtures.js';

// Three regions on simulated time (interval 1 s): convergence, failure detection in whole
// intervals, rejoin under the same or a new incarnation, persistence across a failover.

const INTERVAL = 1_000;

async function positions(sim: SimGossip): Promise<Map<string, { incarnation: number; seq: number }>> {
  const out = new Map<string, { incarnation: number; seq: number }>();
  for (const r of sim.regions.values()) {
    for (const p of await r.gossip.store.list()) out.set(`${r.name}->${p.region}`, { incarnation: p.incarnation, seq: p.seq });
  }
  return out;
}

describe('federation (in-process, simulated time)', () => {
  it('converges in one round: every region knows every peer, alive, with its capacity', async () => {
    const sim = new SimGossip({ regions: ['a', 'b', 'c'] });
    await seedFleet(sim.region('b').registry, fleet('b', { agents: 20 }));
    await sim.round();
    for (const r of ['a', 'b', 'c']) {
      const peers = await sim.region(r).gossip.peers();
      expect(peers.map((p) => [p.name, p.state])).toEqual(['a', 'b', 'c'].filter((x) => x !== r).map((x) => [x, 'alive']));
    }
    const b = (await sim.region('a').gossip.peers()).find((p) => p.name === 'b')!;
    expect(b).toMatchObject({ seq: 1, agents: { total: 20, reachable: 20 }, health: { status: 'healthy' } });
    expect(b.capacity!.total.cpus).toBe(20 * 16_000);
    // One message and one (batched) request per peer per round.
    expect(sim.region('a').gossip.stats).toMatchObject({ sentMessages: 2, sendRequests: 2, applied: 2 });
  });

  it('lists configured peers it has not heard from as unknown', async () => {
    const sim = new SimGossip({ regions: ['a', 'b'] });
    expect(await sim.region('a').gossip.peers()).toEqual([{ name: 'b', state: 'unknown' }]);
  });

  it('marks a cut-off region suspect after 3 missed intervals and dead after 6, then takes it back', async () => {
    const sim = new SimGossip({ regions: ['a', 'b', 'c'] });
    const events: GossipEvent[] = [];
    sim.region('a').gossip.subscribe((e) => e.type === 'state' && events.push(e));
    await sim.rounds(2);
    const before = (await sim.region('a').gossip.peers()).find((p) => p.name === 'c')!;
    sim.region('c').connected = false;
    const seen: string[] = [];
    for (let missed = 1; missed <= 7; missed++) {
      await sim.round();
      seen.push(`${missed}:${await sim.stateOf('a', 'c')}/${await sim.stateOf('b', 'c')}`);
      sim.advance(INTERVAL);
    }
    // Exactly on the configured bounds: suspect at the 3rd missed interval, dead at the 6th.
    expect(seen).toEqual(['1:alive/alive', '2:alive/alive', '3:suspect/suspect', '4:suspect/suspect', '5:suspect/suspect', '6:dead/dead', '7:dead/dead']);
    expect(events.map((e) => e.type === 'state' && `${e.region}:${e.from}->${e.to}`)).toEqual(['c:alive->suspect', 'c:suspect->dead']);
    // Cut off both ways, c heard nothing either: by age, its own view of a is dead too.
    expect(await sim.stateOf('c', 'a')).toBe('dead');

    // Restored, same RegionGossip instance: same incarnation, later seq.
    sim.region('c').connected = true;
    await sim.round();
    const back = (await sim.region('a').gossip.peers()).find((p) => p.name === 'c')!;
    expect(back.state).toBe('alive');
    expect(back.incarnation).toBe(before.incarnation);
    expect(back.seq).toBeGreaterThan(before.seq!);
    // c read the backlog a and b sent while it was cut off: only the newest of each applied.
    expect(sim.region('c').gossip.stats.stale + sim.region('c').gossip.stats.superseded).toBeGreaterThan(0);
    expect(await sim.stateOf('c', 'a')).toBe('alive');
  });

  it('takes a restarted region back under a new, larger incarnation', async () => {
    const sim = new SimGossip({ regions: ['a', 'b', 'c'] });
    await sim.rounds(3);
    const old = (await sim.region('a').gossip.peers()).find((p) => p.name === 'c')!;
    sim.region('c').connected = false;
    await sim.rounds(7);
    expect(await sim.stateOf('a', 'c')).toBe('dead');
    const restarted = sim.newGossip('c');
    sim.region('c').connected = true;
    await sim.round();
    const now = (await sim.region('a').gossip.peers()).find((p) => p.name === 'c')!;
    expect(now.state).toBe('alive');
    expect(now.incarnation).toBeGreaterThan(old.incarnation!);
    expect(now.seq).toBe(1);
    expect(restarted.incarnation).toBe(now.incarnation);
  });

  it('keeps the peer table across a failover: a new process keeps dead peers dead until they speak', async () => {
    const sim = new SimGossip({ regions: ['a', 'b', 'c'] });
    await sim.rounds(2);
    sim.region('c').connected = false;
    await sim.rounds(7);
    // A new master process of region a (same table), which has never watched c.
    const successor = sim.newGossip('a');
    const peers = await successor.peers();
    expect(peers.map((p) => [p.name, p.state])).toEqual([
      ['b', 'alive'],
      ['c', 'dead'],
    ]);
    await sim.rounds(1);
    expect(await sim.stateOf('a', 'c')).toBe('dead');
    sim.region('c').connected = true;
    await sim.round();
    expect(await sim.stateOf('a', 'c')).toBe('alive');
  });

  it('sends only while leading, and starts a new incarnation under a new lease epoch', async () => {
    const lease = { epoch: undefined as number | undefined };
    const sim = new SimGossip({ regions: ['a', 'b'], leader: (r) => (r === 'a' ? lease : undefined) });
    const store = sim.region('a').registry.store;
    const putLease = (epoch: number): Promise<void> => store.transact([{ op: 'put', item: { pk: 'LEASE#master', sk: 'LEASE', attrs: { epoch }, data: { epoch, holder: 'x' } }, expect: 'any' }]);
    await sim.round();
    expect(sim.region('a').gossip.stats.sentMessages).toBe(0);
    expect(await sim.stateOf('b', 'a')).toBe('unknown');
    await putLease(4);
    lease.epoch = 4;
    await sim.round();
    const first = sim.region('a').gossip.incarnation!;
    expect(await sim.stateOf('b', 'a')).toBe('alive');
    await putLease(5);
    lease.epoch = 5;
    sim.advance(INTERVAL);
    await sim.round();
    expect(sim.region('a').gossip.incarnation).toBeGreaterThan(first);
    // A paused ex-leader cannot take an incarnation: the write is fenced by the lease epoch.
    await expect(allocateIncarnation(sim.region('a').registry, 4)).rejects.toBeInstanceOf(FencedError);
  });

  it('allocates strictly growing incarnations even when the clock steps back', async () => {
    const registry = new Registry(new MemoryItemStore());
    let wall = 10_000;
    const a = await allocateIncarnation(registry, undefined, () => wall);
    wall = 5_000;
    const b = await allocateIncarnation(registry, undefined, () => wall);
    expect(a).toBe(10_000);
    expect(b).toBe(10_001);
  });

  it('drops, counts and never applies invalid digests', async () => {
    const sim = new SimGossip({ regions: ['a', 'b'], config: { maxDigestBytes: 50_000 } });
    const valid = buildDigest({ region: 'x', incarnation: 1, seq: 1, agents: [], tasks: [] }, DEFAULT_GOSSIP_CONFIG);
    const bad = [
      'garbage',
      JSON.stringify({ ...valid, version: 99 }),
      JSON.stringify({ ...valid, agents: 'many' }),
      'y'.repeat(50_001),
      encodeDigest({ ...valid, region: 'a' }, DEFAULT_GOSSIP_CONFIG).body,
    ];
    for (const body of bad) sim.network.deliver({ to: 'a', body });
    await sim.deliver();
    const a = sim.region('a').gossip;
    expect(a.stats.dropped).toEqual({ malformed: 1, 'unknown-version': 1, schema: 1, oversized: 1, self: 1 });
    expect(a.stats.applied).toBe(0);
    expect(await a.store.list()).toEqual([]);
    expect(sim.network.depth('a')).toBe(0); // dropped messages are deleted, not redelivered
  });

  it('never regresses a peer under duplicated, reordered and delayed messages', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 }), fc.array(fc.boolean(), { minLength: 4, maxLength: 14 }), async (seed, restarts) => {
        const chaos = new Map<string, ChaosTransport>();
        const sim = new SimGossip({
          regions: ['a', 'b', 'c'],
          wrap: (t, r) => {
            const c = new ChaosTransport(t, { seed: seed + r.charCodeAt(0), duplicate: 0.3, delay: 0.4, maxDelaySends: 4, reorder: true, chaoticReceive: true });
            chaos.set(r, c);
            return c;
          },
        });
        let prev = new Map<string, { incarnation: number; seq: number }>();
        for (const restart of restarts) {
          if (restart) sim.newGossip('b'); // b restarts: a new incarnation mid-chaos
          await sim.round();
          sim.advance(INTERVAL);
          const now = await positions(sim);
          for (const [k, p] of prev) {
            const q = now.get(k)!;
            expect(q.incarnation > p.incarnation || (q.incarnation === p.incarnation && q.seq >= p.seq)).toBe(true);
          }
          prev = now;
        }
        // Once the held-back messages are out and a clean round has run, everyone has everyone's latest.
        for (const c of chaos.values()) await c.flush();
        await sim.round();
        for (const c of chaos.values()) await c.flush();
        await sim.deliver();
        for (const r of sim.regions.values()) {
          for (const p of await r.gossip.store.list()) {
            const sender = sim.region(p.region).gossip;
            expect({ incarnation: p.incarnation, seq: p.seq }).toEqual({ incarnation: sender.incarnation, seq: sender.stats.rounds });
          }
        }
      }),
      { numRuns: 25 },
    );
  });
});
