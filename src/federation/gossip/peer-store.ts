import { z } from 'zod';
import { ConflictError } from '../../core/errors.js';
import type { Registry } from '../../state/registry.js';
import { decodeDigest } from './digest-codec.js';
import { comparePositions, regionName, type DigestPosition, type RegionDigest } from './digest.js';

// The peer table: one document per peer in this region's Registry, so a master failover (or a
// receiver Lambda) sees what the last process knew. Every write is conditional on the version
// read, and a digest is written only when its (incarnation, seq) is newer than the stored one,
// so any number of receivers can apply messages in any order and the table only moves forward.

export const PEERS_COLLECTION = 'peers';
export const PEER_STATES = ['alive', 'suspect', 'dead'] as const;
export type PeerState = (typeof PEER_STATES)[number];

const recordSchema = z.object({
  region: regionName,
  incarnation: z.int().min(0),
  seq: z.int().min(0),
  state: z.enum(PEER_STATES),
  /** The digest as received (its validated wire form, possibly compressed): at most one SQS message. */
  body: z.string(),
  /** This region's wall clock, for operators only: liveness never compares clocks. */
  receivedAt: z.number(),
  stateSince: z.number(),
});
type RecordData = z.infer<typeof recordSchema>;

export interface PeerRecord extends RecordData {
  readonly version: number;
}

export type ApplyOutcome = 'applied' | 'stale';

const MAX_CONFLICT_RETRIES = 8;

export class PeerStore {
  private readonly decoded = new Map<string, { key: string; digest: RegionDigest | undefined }>();
  private readonly written = new Map<string, PeerRecord>();

  constructor(
    readonly registry: Registry,
    private readonly maxDigestBytes: number,
    private readonly wallClock: () => number = Date.now,
  ) {}

  private parse(id: string, data: unknown, version: number): PeerRecord {
    const r = recordSchema.safeParse(data);
    // A record this code cannot read is overwritten by the next digest (position 0/0).
    if (!r.success) return { region: id, incarnation: 0, seq: 0, state: 'dead', body: '', receivedAt: 0, stateSince: 0, version };
    return { ...r.data, version };
  }

  async get(region: string): Promise<PeerRecord | undefined> {
    const doc = await this.registry.getDocument(PEERS_COLLECTION, region);
    return doc ? this.parse(doc.id, doc.data, doc.version) : undefined;
  }

  async list(): Promise<PeerRecord[]> {
    const docs = await this.registry.listDocuments(PEERS_COLLECTION);
    return docs.map((d) => this.parse(d.id, d.data, d.version)).sort((a, b) => (a.region < b.region ? -1 : 1));
  }

  /** The digest a record holds, decoded once per (incarnation, seq). */
  digestOf(r: PeerRecord): RegionDigest | undefined {
    const key = `${r.incarnation}:${r.seq}`;
    const hit = this.decoded.get(r.region);
    if (hit?.key === key) return hit.digest;
    const d = decodeDigest(r.body, { maxDigestBytes: this.maxDigestBytes });
    const digest = d.ok ? d.digest : undefined;
    this.decoded.set(r.region, { key, digest });
    return digest;
  }

  /**
   * Stores `digest` (whose wire form is `body`) if it is newer than the stored one; a newer
   * digest also makes the peer alive. Re-reads and retries when another writer got in between.
   */
  async apply(digest: RegionDigest, body: string): Promise<ApplyOutcome> {
    for (let attempt = 0; ; attempt++) {
      // The record this process wrote last is usually still current (one receiver per region):
      // writing against its version saves a read; if someone else wrote, the write conflicts
      // and the next attempt reads.
      const cached = attempt === 0 ? this.written.get(digest.region) : undefined;
      const current = cached ?? (await this.get(digest.region));
      if (current && comparePositions(digest, current) <= 0) return 'stale';
      const now = this.wallClock();
      const data: RecordData = {
        region: digest.region,
        incarnation: digest.incarnation,
        seq: digest.seq,
        state: 'alive',
        body,
        receivedAt: now,
        stateSince: current?.state === 'alive' ? current.stateSince : now,
      };
      try {
        await this.registry
          .transaction()
          .putDocument(PEERS_COLLECTION, digest.region, data, current ? { version: current.version } : 'absent')
          .commit();
        this.decoded.set(digest.region, { key: `${digest.incarnation}:${digest.seq}`, digest });
        this.written.set(digest.region, { ...data, version: current ? current.version + 1 : 1 });
        return 'applied';
      } catch (e) {
        this.written.delete(digest.region);
        if (!(e instanceof ConflictError) || attempt >= MAX_CONFLICT_RETRIES) throw e;
      }
    }
  }

  /**
   * Moves a peer to `state` if its record is still the one read (same version): a digest that
   * arrived meanwhile wins. `epoch` fences the write to the current lease holder. Returns
   * whether the write happened.
   */
  async setState(record: PeerRecord, state: PeerState, epoch?: number): Promise<boolean> {
    const { version: _v, ...data } = record;
    const tx = this.registry.transaction();
    if (epoch !== undefined) tx.fence(epoch);
    tx.putDocument(PEERS_COLLECTION, record.region, { ...data, state, stateSince: this.wallClock() }, { version: record.version });
    this.written.delete(record.region);
    try {
      await tx.commit();
      return true;
    } catch (e) {
      if (e instanceof ConflictError) return false;
      throw e;
    }
  }
}

export const positionOf = (r: PeerRecord): DigestPosition => ({ incarnation: r.incarnation, seq: r.seq });
