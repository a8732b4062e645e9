import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GOSSIP_CONFIG } from '../../../../src/federation/gossip/config.js';
import { buildDigest } from '../../../../src/federation/gossip/digest-builder.js';
import { encodeDigest } from '../../../../src/federation/gossip/digest-codec.js';
import { DigestIntake } from '../../../../src/federation/gossip/digest-intake.js';
import { comparePositions, type DigestPosition } from '../../../../src/federation/gossip/digest.js';
import { PeerStore } from '../../../../src/federation/gossip/peer-store.js';
import { GossipStats } from '../../../../src/federation/gossip/stats.js';
import { silentLogger } from '../../../../src/core/logger.js';
import { MemoryItemStore } from '../../../../src/state/memory-item-store.js';
import { Registry } from '../../../../src/state/registry.js';

// Whatever the delivery order, duplication or batching, a peer's stored (incarnation, seq)
// only moves forward and ends at the newest delivered; a record written concurrently by
// another receiver is never overwritten with an older digest.

const limits = DEFAULT_GOSSIP_CONFIG;

function body(region: string, p: DigestPosition): string {
  return encodeDigest(buildDigest({ region, incarnation: p.incarnation, seq: p.seq, agents: [], tasks: [] }, limits), limits).body;
}

function setup(): { store: PeerStore; intake: DigestIntake; stats: GossipStats } {
  const stats = new GossipStats();
  const store = new PeerStore(new Registry(new MemoryItemStore()), limits.maxDigestBytes);
  return { store, stats, intake: new DigestIntake({ region: 'home', store, stats, log: silentLogger, maxDigestBytes: limits.maxDigestBytes }) };
}

const position = fc.record({ incarnation: fc.integer({ min: 1, max: 3 }), seq: fc.integer({ min: 1, max: 12 }) });
const delivery = fc.record({ peer: fc.constantFrom('b', 'c'), p: position, copies: fc.integer({ min: 1, max: 3 }) });

describe('digest ordering', () => {
  it('never moves a peer backwards under duplicates, reordering and arbitrary batches', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(delivery, { minLength: 1, maxLength: 40 }), fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 40 }), async (deliveries, cuts) => {
        const { store, intake, stats } = setup();
        const messages = deliveries.flatMap((d, i) => Array.from({ length: d.copies }, (_, c) => ({ id: `${i}.${c}`, body: body(d.peer, d.p), peer: d.peer, p: d.p })));
        const best = new Map<string, DigestPosition>();
        let i = 0;
        let k = 0;
        while (i < messages.length) {
          const batch = messages.slice(i, i + (cuts[k++ % cuts.length] ?? 1));
          i += batch.length;
          const before = new Map<string, DigestPosition | undefined>();
          for (const peer of ['b', 'c']) before.set(peer, await store.get(peer));
          const result = await intake.process(batch);
          expect(result.retry).toEqual([]);
          for (const m of batch) {
            const b = best.get(m.peer);
            if (!b || comparePositions(m.p, b) > 0) best.set(m.peer, m.p);
          }
          for (const peer of ['b', 'c']) {
            const now = await store.get(peer);
            const was = before.get(peer);
            if (was) expect(comparePositions(now!, was)).toBeGreaterThanOrEqual(0);
            const want = best.get(peer);
            if (want) expect({ incarnation: now!.incarnation, seq: now!.seq }).toEqual(want);
            else expect(now).toBeUndefined();
          }
        }
        expect(stats.applied + stats.stale + stats.superseded).toBe(messages.length);
      }),
      { numRuns: 60 },
    );
  });

  it('a newer incarnation supersedes any seq of an older one, and an old one never comes back', async () => {
    const { store, intake } = setup();
    await intake.process([{ id: '1', body: body('b', { incarnation: 1, seq: 500 }) }]);
    await intake.process([{ id: '2', body: body('b', { incarnation: 2, seq: 1 }) }]);
    await intake.process([{ id: '3', body: body('b', { incarnation: 1, seq: 501 }) }]);
    expect(await store.get('b')).toMatchObject({ incarnation: 2, seq: 1, state: 'alive' });
  });

  it('two receivers racing on one peer keep the newer digest', async () => {
    const registry = new Registry(new MemoryItemStore());
    const mk = (): DigestIntake =>
      new DigestIntake({ region: 'home', store: new PeerStore(registry, limits.maxDigestBytes), stats: new GossipStats(), log: silentLogger, maxDigestBytes: limits.maxDigestBytes });
    const [r1, r2] = [mk(), mk()];
    // Like SQS, a message whose write failed (conflicts past the retries) is delivered again.
    const deliver = async (r: DigestIntake, id: string, seq: number): Promise<void> => {
      while ((await r.process([{ id, body: body('b', { incarnation: 1, seq }) }])).retry.length > 0);
    };
    await Promise.all([
      ...Array.from({ length: 20 }, (_, s) => deliver(r1, `a${s}`, s + 1)),
      ...Array.from({ length: 20 }, (_, s) => deliver(r2, `b${s}`, 20 - s)),
    ]);
    expect(await new PeerStore(registry, limits.maxDigestBytes).get('b')).toMatchObject({ incarnation: 1, seq: 20 });
  });

  it('leaves a message for redelivery when the store fails, and acks the rest', async () => {
    const { store, intake, stats } = setup();
    const apply = store.apply.bind(store);
    let fail = true;
    store.apply = async (d, b) => {
      if (d.region === 'c' && fail) throw new Error('throttled');
      return apply(d, b);
    };
    const r = await intake.process([
      { id: 'ok', body: body('b', { incarnation: 1, seq: 1 }) },
      { id: 'bad', body: body('c', { incarnation: 1, seq: 1 }) },
    ]);
    expect(r.retry).toEqual(['bad']);
    expect(stats.retried).toBe(1);
    fail = false;
    expect((await intake.process([{ id: 'bad', body: body('c', { incarnation: 1, seq: 1 }) }])).applied).toHaveLength(1);
  });
});
