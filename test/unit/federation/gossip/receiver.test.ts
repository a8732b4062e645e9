import { describe, expect, it } from 'vitest';
import { DEFAULT_GOSSIP_CONFIG } from '../../../../src/federation/gossip/config.js';
import { buildDigest } from '../../../../src/federation/gossip/digest-builder.js';
import { encodeDigest } from '../../../../src/federation/gossip/digest-codec.js';
import { DigestIntake } from '../../../../src/federation/gossip/digest-intake.js';
import { receiveRecords, receiverFromEnv } from '../../../../src/federation/gossip/receiver.js';
import { PeerStore } from '../../../../src/federation/gossip/peer-store.js';
import { GossipStats } from '../../../../src/federation/gossip/stats.js';
import { silentLogger } from '../../../../src/core/logger.js';
import { MemoryItemStore } from '../../../../src/state/memory-item-store.js';
import { Registry } from '../../../../src/state/registry.js';

const limits = DEFAULT_GOSSIP_CONFIG;
const body = (region: string, seq: number): string => encodeDigest(buildDigest({ region, incarnation: 1, seq, agents: [], tasks: [] }, limits), limits).body;

describe('gossip receiver (Lambda entry point)', () => {
  it('applies a batch of SQS records and reports only storage failures for redelivery', async () => {
    const stats = new GossipStats();
    const store = new PeerStore(new Registry(new MemoryItemStore()), limits.maxDigestBytes);
    const apply = store.apply.bind(store);
    store.apply = async (d, b) => {
      if (d.region === 'c') throw new Error('ProvisionedThroughputExceeded');
      return apply(d, b);
    };
    const intake = new DigestIntake({ region: 'a', store, stats, log: silentLogger, maxDigestBytes: limits.maxDigestBytes });
    const res = await receiveRecords(
      {
        Records: [
          { messageId: '1', body: body('b', 1) },
          { messageId: '2', body: body('b', 2) },
          { messageId: '3', body: '{"version":7}' },
          { messageId: '4', body: body('c', 1) },
        ],
      },
      intake,
    );
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: '4' }] });
    expect(await store.get('b')).toMatchObject({ seq: 2, state: 'alive' });
    expect(stats).toMatchObject({ applied: 1, superseded: 1, retried: 1 });
    expect(stats.dropped['unknown-version']).toBe(1);
  });

  it('builds its context from STRATUS_REGION and the store settings, and refuses without a region', () => {
    expect(() => receiverFromEnv({})).toThrow(/STRATUS_REGION/);
    const ctx = receiverFromEnv({ STRATUS_REGION: 'eu-west-1', STRATUS_STORE: 'memory' });
    expect(ctx.intake).toBeInstanceOf(DigestIntake);
  });
});
