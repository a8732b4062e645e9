import { MAX_TRANSACTION_OPS, type JsonObject } from '../state/item-store.js';
import type { Registry } from '../state/registry.js';
import {
  FRAMEWORK_COLLECTION,
  FRAMEWORK_DOC_ID,
  instancesCollection,
  JOBS_COLLECTION,
  parseInstanceDoc,
  parseJobDoc,
  parseStatusDoc,
  STATUS_COLLECTION,
  clean,
  type InstanceDoc,
  type JobDoc,
  type JobStatusDoc,
} from './model.js';

// The jobs framework's documents in the region's Registry. Every write is conditional on the
// version read (or on absence), so two writers never silently overwrite each other: the loser
// gets a ConflictError and re-reads.

export interface Versioned<T> {
  readonly doc: T;
  readonly version: number;
}

/** A write's condition: the version it was read at, or 'absent' for a new document. */
export type Expectation = number | 'absent';

function toExpect(e: Expectation): { version: number } | 'absent' {
  return e === 'absent' ? 'absent' : { version: e };
}

function nextVersion(e: Expectation): number {
  return e === 'absent' ? 1 : e + 1;
}

function json(o: object): JsonObject {
  return clean(o) as unknown as JsonObject;
}

export interface InstanceWrite {
  readonly doc: InstanceDoc;
  readonly expect: Expectation;
}

export class JobsStore {
  constructor(
    readonly registry: Registry,
    private readonly onCorrupt: (what: string, error: unknown) => void = () => {},
  ) {}

  async getJob(name: string): Promise<Versioned<JobDoc> | undefined> {
    const d = await this.registry.getDocument(JOBS_COLLECTION, name);
    return d ? { doc: parseJobDoc(d.data), version: d.version } : undefined;
  }

  async listJobs(): Promise<Map<string, Versioned<JobDoc>>> {
    const out = new Map<string, Versioned<JobDoc>>();
    for (const d of await this.registry.listDocuments(JOBS_COLLECTION)) {
      try {
        out.set(d.id, { doc: parseJobDoc(d.data), version: d.version });
      } catch (e) {
        this.onCorrupt(`job ${d.id}`, e);
      }
    }
    return out;
  }

  /** Returns the new version. */
  async putJob(name: string, doc: JobDoc, expect: Expectation): Promise<number> {
    await this.registry.transaction().putDocument(JOBS_COLLECTION, name, json(doc), toExpect(expect)).commit();
    return nextVersion(expect);
  }

  async deleteJob(name: string, version: number): Promise<void> {
    await this.registry.transaction().deleteDocument(JOBS_COLLECTION, name, { version }).deleteDocument(STATUS_COLLECTION, name, 'any').commit();
  }

  async getStatus(name: string): Promise<Versioned<JobStatusDoc> | undefined> {
    const d = await this.registry.getDocument(STATUS_COLLECTION, name);
    return d ? { doc: parseStatusDoc(d.data), version: d.version } : undefined;
  }

  async putStatus(name: string, doc: JobStatusDoc, expect: Expectation): Promise<number> {
    await this.registry.transaction().putDocument(STATUS_COLLECTION, name, json(doc), toExpect(expect)).commit();
    return nextVersion(expect);
  }

  async listInstances(job: string): Promise<Versioned<InstanceDoc>[]> {
    const out: Versioned<InstanceDoc>[] = [];
    for (const d of await this.registry.listDocuments(instancesCollection(job))) {
      try {
        out.push({ doc: parseInstanceDoc(d.data), version: d.version });
      } catch (e) {
        this.onCorrupt(`instance ${job}/${d.id}`, e);
      }
    }
    return out.sort((a, b) => a.doc.index - b.doc.index);
  }

  /** Writes and deletes instance slots of one job atomically (in chunks under the transaction limit); returns the new versions in order. */
  async writeInstances(job: string, writes: readonly InstanceWrite[], deletes: readonly { index: number; version: number }[] = []): Promise<number[]> {
    const collection = instancesCollection(job);
    const ops = [
      ...writes.map((w) => ({ kind: 'put' as const, w })),
      ...deletes.map((d) => ({ kind: 'delete' as const, d })),
    ];
    for (let i = 0; i < ops.length; i += MAX_TRANSACTION_OPS) {
      const tx = this.registry.transaction();
      for (const op of ops.slice(i, i + MAX_TRANSACTION_OPS)) {
        if (op.kind === 'put') tx.putDocument(collection, String(op.w.doc.index), json(op.w.doc), toExpect(op.w.expect));
        else tx.deleteDocument(collection, String(op.d.index), { version: op.d.version });
      }
      await tx.commit();
    }
    return writes.map((w) => nextVersion(w.expect));
  }

  /** The stored framework id (undefined after the master removed the framework) and the record's version. */
  async getFrameworkId(): Promise<{ readonly frameworkId: string | undefined; readonly version: number } | undefined> {
    const d = await this.registry.getDocument(FRAMEWORK_COLLECTION, FRAMEWORK_DOC_ID);
    if (!d) return undefined;
    return { frameworkId: typeof d.data.frameworkId === 'string' ? d.data.frameworkId : undefined, version: d.version };
  }

  async putFrameworkId(frameworkId: string | undefined, expect: Expectation): Promise<number> {
    await this.registry
      .transaction()
      .putDocument(FRAMEWORK_COLLECTION, FRAMEWORK_DOC_ID, frameworkId === undefined ? {} : { frameworkId }, toExpect(expect))
      .commit();
    return nextVersion(expect);
  }
}
