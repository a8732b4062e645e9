import type { Item, ItemKey, ItemStore, QueryInput, QueryPage, StoreStats, WriteOp } from './item-store.js';
import { TransactionConflict } from './item-store.js';

// An ItemStore that tells an observer of every request it passes on: which operation, how it
// ended (a lost condition is a `conflict`, not an error) and how long it took. The master wires
// its metrics in here, so the state adapters stay free of any metrics library.

export type StoreOperation = 'get' | 'query' | 'transact';
export type StoreOutcome = 'ok' | 'conflict' | 'error';

export interface StoreObserver {
  request(operation: StoreOperation, outcome: StoreOutcome, seconds: number): void;
}

export class ObservedItemStore implements ItemStore {
  constructor(
    readonly inner: ItemStore,
    private readonly observer: StoreObserver,
  ) {}

  get stats(): StoreStats {
    return this.inner.stats;
  }

  get consistentIndexes(): boolean {
    return this.inner.consistentIndexes;
  }

  get(key: ItemKey): Promise<Item | undefined> {
    return this.observe('get', () => this.inner.get(key));
  }

  query(input: QueryInput): Promise<QueryPage> {
    return this.observe('query', () => this.inner.query(input));
  }

  transact(ops: readonly WriteOp[]): Promise<void> {
    return this.observe('transact', () => this.inner.transact(ops));
  }

  private async observe<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
    const start = performance.now();
    let outcome: StoreOutcome = 'error';
    try {
      const out = await run();
      outcome = 'ok';
      return out;
    } catch (e) {
      if (e instanceof TransactionConflict) outcome = 'conflict';
      throw e;
    } finally {
      this.observer.request(operation, outcome, (performance.now() - start) / 1000);
    }
  }
}
