import { describe, expect, it } from 'vitest';
import { DEFAULT_GOSSIP_CONFIG } from '../../../../src/federation/gossip/config.js';
import { buildDigest } from '../../../../src/federation/gossip/digest-builder.js';
import { decodeDigest, encodeDigest, encodeFitting } from '../../../../src/federation/gossip/digest-codec.js';
import { fleet } from '../../../support/federation-fixtures.js';

const SQS_LIMIT = 256 * 1024;

describe('digest size at 1,000 agents', () => {
  it('is a few KiB of plain JSON when it carries capacity only (aggregated by zone and group)', () => {
    const f = fleet('us-east-1', { agents: 1000, zones: 3, groups: 8 });
    const d = buildDigest({ region: 'us-east-1', incarnation: Date.now(), seq: 1, ...f }, DEFAULT_GOSSIP_CONFIG);
    const e = encodeDigest(d, DEFAULT_GOSSIP_CONFIG);
    expect(e.compressed).toBe(false);
    expect(e.bytes).toBeLessThan(16 * 1024);
    // Aggregates, not agents: the same size at 10x the agents.
    const big = buildDigest({ region: 'us-east-1', incarnation: 1, seq: 1, ...fleet('us-east-1', { agents: 10_000, zones: 3, groups: 8 }) }, DEFAULT_GOSSIP_CONFIG);
    expect(Math.abs(encodeDigest(big, DEFAULT_GOSSIP_CONFIG).bytes - e.bytes)).toBeLessThan(200);
  });

  it('stays under a quarter of the SQS limit with a service endpoint on every agent (compressed)', () => {
    const f = fleet('us-east-1', { agents: 1000, zones: 3, groups: 8, endpoints: 1000, service: 'cassandra' });
    const d = buildDigest({ region: 'us-east-1', incarnation: Date.now(), seq: 1, ...f }, DEFAULT_GOSSIP_CONFIG);
    const e = encodeDigest(d, DEFAULT_GOSSIP_CONFIG);
    expect(e.jsonBytes).toBeGreaterThan(DEFAULT_GOSSIP_CONFIG.compressAboveBytes);
    expect(e.compressed).toBe(true);
    expect(e.bytes).toBeLessThan(SQS_LIMIT / 4);
    const back = decodeDigest(e.body, DEFAULT_GOSSIP_CONFIG);
    expect(back.ok && back.digest).toEqual(d);
  });

  it('trims endpoint lists that cannot fit, keeping capacity and liveness', () => {
    const f = fleet('us-east-1', { agents: 1000, endpoints: 1000, service: 'big' });
    const d = buildDigest({ region: 'us-east-1', incarnation: 1, seq: 1, ...f }, DEFAULT_GOSSIP_CONFIG);
    const limits = { maxDigestBytes: 20_000, compressAboveBytes: 1_000_000 };
    const e = encodeFitting(d, limits);
    expect(e.bytes).toBeLessThanOrEqual(20_000);
    expect(e.digest.truncatedServices).toEqual(['big']);
    expect(e.digest.services.big!.length).toBeLessThan(1000);
    expect(e.digest.capacity).toEqual(d.capacity);
  });

  it('drops services altogether when even their names do not fit', () => {
    const f = fleet('us-east-1', { agents: 50, endpoints: 50, service: 's' });
    const tasks = f.tasks.map((t, i) => ({ ...t, spec: { ...t.spec, discovery: { name: `service-${i}-${'x'.repeat(200)}`, ports: [{ number: 1 }] } } }));
    const d = buildDigest({ region: 'r', incarnation: 1, seq: 1, agents: f.agents, tasks }, DEFAULT_GOSSIP_CONFIG);
    const e = encodeFitting(d, { maxDigestBytes: 8_000, compressAboveBytes: 1_000_000 });
    expect(e.digest.services).toEqual({});
    expect(e.digest.servicesOmitted).toBe(true);
    expect(e.digest.capacity).toEqual(d.capacity);
    expect(e.bytes).toBeLessThanOrEqual(8_000);
  });
});
