import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GOSSIP_CONFIG } from '../../../../src/federation/gossip/config.js';
import { buildDigest } from '../../../../src/federation/gossip/digest-builder.js';
import { decodeDigest, encodeFitting } from '../../../../src/federation/gossip/digest-codec.js';
import type { FederatedJobSummary } from '../../../../src/federation/gossip/digest.js';
import { fleet } from '../../../support/federation-fixtures.js';

// Federated job summaries in digests: they validate (definitions included), an invalid one
// makes the digest be dropped, and a digest too large sheds definitions before endpoints.

const limits = DEFAULT_GOSSIP_CONFIG;

function summary(i: number, spec: Record<string, unknown> = { name: `fed-j${i}`, cpus: 1 }): FederatedJobSummary {
  return {
    jobId: `j${i}`,
    home: 'eu-west-1',
    owner: 'eu-west-1',
    ownerTerm: 1,
    wanted: 2,
    running: 2,
    healthy: 2,
    pending: 0,
    unplaceable: 0,
    specHash: 'abcdef0123456789',
    definition: { generation: 3, policy: { counts: { 'eu-west-1': 2 } }, spec, targets: { 'eu-west-1': 2 }, displaced: [], createdAt: 1 },
  };
}

describe('federated job summaries in digests', () => {
  it('round-trip, and a malformed one drops the digest', () => {
    const d = buildDigest({ region: 'eu-west-1', incarnation: 1, seq: 1, ...fleet('eu-west-1', { agents: 3 }), jobs: [summary(1)] }, limits);
    const enc = encodeFitting(d, limits);
    expect(decodeDigest(enc.body, limits)).toEqual({ ok: true, digest: d });
    const bad = { ...d, jobs: [{ ...summary(1), definition: { ...summary(1).definition!, policy: { counts: { 'eu-west-1': -1 } } } }] };
    expect(decodeDigest(JSON.stringify(bad), limits)).toMatchObject({ ok: false, reason: 'schema' });
    expect(decodeDigest(JSON.stringify({ ...d, jobs: [{ ...summary(1), ownerTerm: -1 }] }), limits)).toMatchObject({ ok: false, reason: 'schema' });
  });

  it('sheds definitions (their owner sends them again) before cutting service endpoints', () => {
    // Incompressible specs, 16 KiB each: far more than one message holds.
    const jobs = Array.from({ length: 40 }, (_, i) => summary(i, { name: `fed-j${i}`, env: { BLOB: randomBytes(12_000).toString('base64') } }));
    const d = buildDigest({ region: 'eu-west-1', incarnation: 1, seq: 1, ...fleet('eu-west-1', { agents: 20, endpoints: 5, service: 'cassandra' }), jobs }, limits);
    const enc = encodeFitting(d, limits);
    expect(enc.bytes).toBeLessThanOrEqual(limits.maxDigestBytes);
    expect(enc.digest.jobs).toHaveLength(40);
    expect(enc.digest.jobs.every((j) => j.definition === undefined && j.ownerTerm === 1)).toBe(true);
    expect(enc.digest.services.cassandra).toHaveLength(5);
    expect(enc.digest.truncatedServices).toBeUndefined();
  });
});
