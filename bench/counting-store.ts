import { performance } from 'node:perf_hooks';
import type { Item, ItemKey, ItemStore, QueryInput, QueryPage, StoreStats, WriteOp } from '../src/state/item-store.js';

// An ItemStore decorator for benchmarks: counts requests as DynamoDB bills them (GetItem, Query,
// single-item writes, TransactWriteItems — the DynamoDB adapter sends a one-op transaction as a
// plain write) and shows every committed transaction to a watcher, so a benchmark can see
// offers being written without reading the store itself.

export interface RequestCounts {
  gets: number;
  queries: number;
  /** Transactions of one put/delete: one UpdateItem/DeleteItem on DynamoDB. */
  writes: number;
  /** TransactWriteItems (several ops, or a condition check). */
  transactions: number;
}

export const emptyCounts = (): RequestCounts => ({ gets: 0, queries: 0, writes: 0, transactions: 0 });
export const totalRequests = (c: RequestCounts): number => c.gets + c.queries + c.writes + c.transactions;
export function countsSince(now: RequestCounts, before: RequestCounts): RequestCounts {
  return { gets: now.gets - before.gets, queries: now.queries - before.queries, writes: now.writes - before.writes, transactions: now.transactions - before.transactions };
}

export type CommitWatcher = (ops: readonly WriteOp[], at: number) => void;

export class CountingStore implements ItemStore {
  readonly counts: RequestCounts = emptyCounts();

  constructor(
    readonly inner: ItemStore,
    private readonly watcher?: CommitWatcher,
  ) {}

  get stats(): StoreStats {
    return this.inner.stats;
  }

  get consistentIndexes(): boolean {
    return this.inner.consistentIndexes;
  }

  get(key: ItemKey): Promise<Item | undefined> {
    this.counts.gets++;
    return this.inner.get(key);
  }

  query(input: QueryInput): Promise<QueryPage> {
    this.counts.queries++;
    return this.inner.query(input);
  }

  async transact(ops: readonly WriteOp[]): Promise<void> {
    if (ops.length === 1 && ops[0]!.op !== 'check') this.counts.writes++;
    else this.counts.transactions++;
    await this.inner.transact(ops);
    this.watcher?.(ops, performance.now());
  }
}
