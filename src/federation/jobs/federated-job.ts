import { z } from 'zod';
import { ConflictError } from '../../core/errors.js';
import { parseStoredSpec, type JobSpec } from '../../jobs/spec.js';
import type { JsonObject } from '../../state/item-store.js';
import type { Registry } from '../../state/registry.js';
import { regionPolicySchema } from '../gossip/digest.js';
import type { RegionPolicy } from './policy.js';
import { regionName } from '../gossip/region-name.js';

// A federated job's definition: one document per job in a region's Registry. The owner's copy
// is the one that counts; every other region keeps a replica learnt from the owner's digest,
// so that a successor can take the job over. Writes are conditional on the version read, and
// the owner's writes are fenced by its lease epoch when it has one.

export const FEDERATED_JOBS_COLLECTION = 'federated-jobs';

export interface FederatedJobDoc {
  readonly id: string;
  readonly home: string;
  readonly owner: string;
  /** Grows at every change of owner (see ownership.ts). */
  readonly ownerTerm: number;
  /** Grows at every change the owner makes (spec, policy, plan): replicas adopt newer ones. */
  readonly generation: number;
  readonly policy: RegionPolicy;
  /** The child jobs' template: name fed-<id>, the federation labels, instances 0. */
  readonly spec: JobSpec;
  /** Instances the owner last asked of each region. */
  readonly targets: Readonly<Record<string, number>>;
  /** Regions whose share is placed elsewhere until they are handed it back. */
  readonly displaced: readonly string[];
  readonly deleting?: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface VersionedJob {
  readonly doc: FederatedJobDoc;
  readonly version: number;
}

const docSchema = z.object({
  id: z.string().min(1).max(255),
  home: regionName,
  owner: regionName,
  ownerTerm: z.int().min(0),
  generation: z.int().min(1),
  policy: regionPolicySchema,
  spec: z.unknown(),
  targets: z.record(regionName, z.int().min(0)),
  displaced: z.array(regionName),
  deleting: z.boolean().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
});

/** A stored policy has been through `parsePolicy`: exactly one of counts or weights. */
export function asPolicy(p: z.infer<typeof regionPolicySchema>): RegionPolicy {
  return p.counts ? { counts: p.counts } : { weights: p.weights ?? {}, total: p.total ?? 0 };
}

export function parseFederatedJob(data: unknown): FederatedJobDoc {
  const d = docSchema.parse(data);
  return { ...d, policy: asPolicy(d.policy), spec: parseStoredSpec(d.spec), ...(d.deleting ? { deleting: true } : {}) };
}

/** Claims compare by term, then by owner name; one owner's copies compare by generation. */
export function newerThan(a: Pick<FederatedJobDoc, 'owner' | 'ownerTerm' | 'generation'>, b: Pick<FederatedJobDoc, 'owner' | 'ownerTerm' | 'generation'>): boolean {
  if (a.ownerTerm !== b.ownerTerm) return a.ownerTerm > b.ownerTerm;
  if (a.owner !== b.owner) return a.owner < b.owner;
  return a.generation > b.generation;
}

function toJson(doc: FederatedJobDoc): JsonObject {
  return JSON.parse(JSON.stringify(doc)) as JsonObject;
}

export class FederatedJobStore {
  constructor(
    readonly registry: Registry,
    private readonly onCorrupt: (id: string, error: unknown) => void = () => {},
  ) {}

  async get(id: string): Promise<VersionedJob | undefined> {
    const d = await this.registry.getDocument(FEDERATED_JOBS_COLLECTION, id);
    return d ? { doc: parseFederatedJob(d.data), version: d.version } : undefined;
  }

  async list(): Promise<Map<string, VersionedJob>> {
    const out = new Map<string, VersionedJob>();
    for (const d of await this.registry.listDocuments(FEDERATED_JOBS_COLLECTION)) {
      try {
        out.set(d.id, { doc: parseFederatedJob(d.data), version: d.version });
      } catch (e) {
        this.onCorrupt(d.id, e);
      }
    }
    return out;
  }

  /** Writes `doc` if the stored one is still at `expect` (or absent); returns the new version. */
  async put(doc: FederatedJobDoc, expect: number | 'absent', epoch?: number): Promise<number> {
    const tx = this.registry.transaction();
    if (epoch !== undefined) tx.fence(epoch);
    await tx.putDocument(FEDERATED_JOBS_COLLECTION, doc.id, toJson(doc), expect === 'absent' ? 'absent' : { version: expect }).commit();
    return expect === 'absent' ? 1 : expect + 1;
  }

  async remove(id: string, version: number, epoch?: number): Promise<void> {
    const tx = this.registry.transaction();
    if (epoch !== undefined) tx.fence(epoch);
    await tx.deleteDocument(FEDERATED_JOBS_COLLECTION, id, { version }).commit();
  }

  /** A read-modify-write retried when another writer got in between. */
  async modify<T>(id: string, change: (current: VersionedJob | undefined) => { doc: FederatedJobDoc; result: T } | undefined, epoch?: number): Promise<T | undefined> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(id);
      const next = change(current);
      if (!next) return undefined;
      try {
        await this.put(next.doc, current?.version ?? 'absent', epoch);
        return next.result;
      } catch (e) {
        if (!(e instanceof ConflictError) || attempt >= 5) throw e;
      }
    }
  }
}
