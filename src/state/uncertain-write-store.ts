import { TransactionConflict, TransactionContention, type Item, type ItemKey, type ItemStore, type QueryInput, type QueryPage, type StoreStats, type WriteOp } from './item-store.js';

// An ItemStore that tells when a write ended without a definite answer: a dropped connection,
// a timeout, a server error. Such a write may still be applied after the caller has moved on,
// so the leader must not hand its term on in the same epoch (LeaderLease.noteUncertainWrite).
// A failed condition, contention and a request the service refused as malformed wrote nothing.

export class UncertainWriteStore implements ItemStore {
  constructor(
    readonly inner: ItemStore,
    private readonly onUncertain: () => void,
  ) {}

  get stats(): StoreStats {
    return this.inner.stats;
  }

  get consistentIndexes(): boolean {
    return this.inner.consistentIndexes;
  }

  get(key: ItemKey): Promise<Item | undefined> {
    return this.inner.get(key);
  }

  query(input: QueryInput): Promise<QueryPage> {
    return this.inner.query(input);
  }

  async transact(ops: readonly WriteOp[]): Promise<void> {
    try {
      await this.inner.transact(ops);
    } catch (e) {
      if (!isDefinite(e)) this.onUncertain();
      throw e;
    }
  }
}

function isDefinite(e: unknown): boolean {
  if (e instanceof TransactionConflict || e instanceof TransactionContention) return true;
  // The AWS SDK marks errors the service answered as the client's fault (4xx): nothing applied.
  return typeof e === 'object' && e !== null && (e as { $fault?: unknown }).$fault === 'client';
}
