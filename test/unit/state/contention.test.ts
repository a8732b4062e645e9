import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { ConflictError, FencedError } from '../../../src/core/errors.js';
import { cancellation } from '../../../src/state/dynamodb-item-store.js';
import { TransactionConflict, TransactionContention, type ItemStore, type WriteOp } from '../../../src/state/item-store.js';
import { LeaderLease } from '../../../src/state/leader-lease.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { Registry } from '../../../src/state/registry.js';

// DynamoDB cancels a transaction when another one on the same item is in flight
// (TransactionConflict): nothing is written and no condition was checked. That is contention,
// to retry; it must never read as a lost lease or a fenced write (a false TASK_DROPPED).

function cancelled(...codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });
}

/** The memory store, but the next `n` transactions are cancelled by contention. */
function contended(inner: ItemStore): { store: ItemStore; contend(n: number): void; writes: () => number } {
  let pending = 0;
  let writes = 0;
  const store = Object.create(inner) as ItemStore;
  store.transact = async (ops: readonly WriteOp[]) => {
    if (pending > 0) {
      pending--;
      throw new TransactionContention();
    }
    writes++;
    return inner.transact(ops);
  };
  return { store, contend: (n) => void (pending = n), writes: () => writes };
}

const instant = async (): Promise<void> => undefined;

describe('a cancelled DynamoDB transaction', () => {
  it('is a failed condition only for ConditionalCheckFailed, naming those ops', () => {
    const e = cancellation(cancelled('None', 'ConditionalCheckFailed', 'TransactionConflict'));
    expect(e).toBeInstanceOf(TransactionConflict);
    expect((e as TransactionConflict).failed).toEqual([1]);
  });

  it('is contention when another transaction was in flight or it was throttled', () => {
    expect(cancellation(cancelled('TransactionConflict', 'None'))).toBeInstanceOf(TransactionContention);
    expect(cancellation(cancelled('None', 'ThrottlingError'))).toBeInstanceOf(TransactionContention);
  });

  it('stays what it was when the transaction itself was malformed', () => {
    const original = cancelled('ValidationError');
    expect(cancellation(original)).toBe(original);
  });
});

describe('the registry under contention', () => {
  it('reports a contended fenced transaction as a conflict to retry, never as fenced', async () => {
    const memory = new MemoryItemStore();
    const lease = new LeaderLease(memory, { holderId: 'a' });
    expect(await lease.acquire()).toBe(true);
    const c = contended(memory);
    const registry = new Registry(c.store);
    c.contend(1);
    const write = () => registry.transaction().fence(lease.epoch!).putDocument('t', 'x', { n: 1 }, 'any').commit();
    const err = await write().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).not.toBeInstanceOf(FencedError);
    await write(); // and the retry goes through
    expect((await registry.getDocument('t', 'x'))?.data).toEqual({ n: 1 });
  });
});

describe('the leader lease under contention', () => {
  it('renews through contention, keeping its epoch', async () => {
    const memory = new MemoryItemStore();
    const c = contended(memory);
    const lease = new LeaderLease(c.store, { holderId: 'a', sleep: instant });
    expect(await lease.acquire()).toBe(true);
    const epoch = lease.epoch;
    c.contend(3);
    expect(await lease.renew()).toBe(true);
    expect(lease.epoch).toBe(epoch);
    expect((await lease.read())?.holder).toBe('a');
  });

  it('does not give up its term when contention outlasts the retries: the renewal failed, the lease runs on', async () => {
    const memory = new MemoryItemStore();
    const c = contended(memory);
    const lease = new LeaderLease(c.store, { holderId: 'a', sleep: instant });
    expect(await lease.acquire()).toBe(true);
    c.contend(100);
    await expect(lease.renew()).rejects.toBeInstanceOf(TransactionContention);
    expect(lease.isLeader()).toBe(true);
    c.contend(0);
    expect(await lease.renew()).toBe(true);
  });

  it('a contender whose takeover write is contended just tries again later', async () => {
    const memory = new MemoryItemStore();
    const c = contended(memory);
    const lease = new LeaderLease(c.store, { holderId: 'b', sleep: instant });
    c.contend(100);
    expect(await lease.acquire()).toBe(false);
    c.contend(0);
    expect(await lease.acquire()).toBe(true);
  });
});
