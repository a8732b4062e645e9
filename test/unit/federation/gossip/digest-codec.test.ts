import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GOSSIP_CONFIG } from '../../../../src/federation/gossip/config.js';
import { buildDigest } from '../../../../src/federation/gossip/digest-builder.js';
import { decodeDigest, encodeDigest } from '../../../../src/federation/gossip/digest-codec.js';
import { fleet } from '../../../support/federation-fixtures.js';

const limits = DEFAULT_GOSSIP_CONFIG;
const digest = buildDigest({ region: 'eu-west-1', incarnation: 5, seq: 9, ...fleet('eu-west-1', { agents: 10, endpoints: 2 }) }, limits);
const gz = (v: unknown): string => JSON.stringify({ encoding: 'gzip+base64', data: gzipSync(JSON.stringify(v)).toString('base64') });

describe('digest codec', () => {
  it('round-trips plain and compressed digests', () => {
    expect(decodeDigest(encodeDigest(digest, limits).body, limits)).toEqual({ ok: true, digest });
    const small = { ...limits, compressAboveBytes: 10 };
    const e = encodeDigest(digest, small);
    expect(e.compressed).toBe(true);
    expect(decodeDigest(e.body, small)).toEqual({ ok: true, digest });
  });

  it.each([
    ['not JSON', '{"version":1,', 'malformed'],
    ['a JSON array', '[1,2]', 'malformed'],
    ['broken gzip', JSON.stringify({ encoding: 'gzip+base64', data: 'AAAA' }), 'malformed'],
    ['an unknown version', JSON.stringify({ ...digest, version: 2 }), 'unknown-version'],
    ['no version', JSON.stringify({ ...digest, version: undefined }), 'unknown-version'],
    ['a missing field', JSON.stringify({ ...digest, capacity: undefined }), 'schema'],
    ['a negative seq', JSON.stringify({ ...digest, seq: -1 }), 'schema'],
    ['a malformed region name', JSON.stringify({ ...digest, region: 'no/slash' }), 'schema'],
    ['an endpoint port out of range', JSON.stringify({ ...digest, services: { s: [{ host: 'h', port: 70000, task: 't' }] } }), 'schema'],
    ['a compressed digest of the wrong shape', gz({ version: 1, region: 'x' }), 'schema'],
    ['a body over the size limit', 'x'.repeat(limits.maxDigestBytes + 1), 'oversized'],
  ])('drops %s', (_what, body, reason) => {
    const d = decodeDigest(body, limits);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.reason).toBe(reason);
  });

  it('refuses a compressed body that inflates past the bound (a gzip bomb)', () => {
    const bomb = JSON.stringify({ encoding: 'gzip+base64', data: gzipSync(Buffer.alloc(32 * 1024 * 1024, 32)).toString('base64') });
    expect(Buffer.byteLength(bomb)).toBeLessThan(limits.maxDigestBytes);
    const d = decodeDigest(bomb, limits);
    expect(d.ok === false && d.reason).toBe('oversized');
  });
});
