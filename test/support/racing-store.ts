import type { WriteOp } from '../../src/state/item-store.js';
import { MemoryItemStore } from '../../src/state/memory-item-store.js';

/**
 * An in-memory store that lets a test race a commit: `beforeCommit` runs once, just before the
 * next transaction that writes a framework event. It also records each transaction's size.
 */
export class RacingStore extends MemoryItemStore {
  transactions: number[] = [];
  beforeCommit: (() => Promise<void>) | undefined;

  override async transact(ops: readonly WriteOp[]): Promise<void> {
    const hook = this.beforeCommit;
    if (hook && ops.some((o) => o.op === 'put' && o.item.sk.startsWith('EVENT#'))) {
      this.beforeCommit = undefined;
      await hook();
    }
    this.transactions.push(ops.length);
    return super.transact(ops);
  }
}
