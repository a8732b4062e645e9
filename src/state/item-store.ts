// The storage port under the Registry: one table of versioned items with two GSIs, the model
// of a DynamoDB single table. Both adapters (DynamoDB, in-memory) implement exactly this, so
// key layout, versioning and fencing policy live once, in the Registry, above them.

import type { JsonObject } from '../core/json.js';
export type { JsonObject, JsonValue } from '../core/json.js';

export type IndexName = 'gsi1' | 'gsi2';

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

/** What a caller writes; the store adds the version. */
export interface ItemInput extends ItemKey {
  readonly gsi1pk?: string;
  readonly gsi1sk?: string;
  readonly gsi2pk?: string;
  readonly gsi2sk?: string;
  /** Unix seconds after which the item is treated as absent (DynamoDB TTL). */
  readonly expiresAt?: number;
  /** Top-level scalars that conditions can check (e.g. the lease epoch), beside the opaque data. */
  readonly attrs?: Readonly<Record<string, string | number | boolean>>;
  /** The item's content; stores keep it opaque (DynamoDB: one JSON string attribute). */
  readonly data: JsonObject;
}

export interface Item extends ItemInput {
  /** Starts at 1 and grows by one at every write. */
  readonly version: number;
}

/** The condition a write or check holds on the item's current version. */
export type Expect = { readonly version: number } | 'absent' | 'present' | 'any';

export type WriteOp =
  | { readonly op: 'put'; readonly item: ItemInput; readonly expect: Expect }
  | { readonly op: 'delete'; readonly key: ItemKey; readonly expect: Expect }
  | {
      readonly op: 'check';
      readonly key: ItemKey;
      readonly expect: Expect;
      /** `attrs` that must hold these values (e.g. the lease epoch). */
      readonly attrsEqual?: Readonly<Record<string, string | number | boolean>>;
    };

/** DynamoDB's TransactWriteItems limit. */
export const MAX_TRANSACTION_OPS = 100;

export interface QueryInput {
  readonly index?: IndexName;
  readonly pk: string;
  /** Sort keys starting with this. */
  readonly skPrefix?: string;
  /** Sort keys between these, inclusive (not with skPrefix). */
  readonly skBetween?: readonly [string, string];
  readonly limit?: number;
  readonly descending?: boolean;
  /** The `next` of a previous page. */
  readonly cursor?: string;
}

export interface QueryPage {
  readonly items: Item[];
  /** Present when more items may follow. */
  readonly next?: string;
}

/** Thrown by `transact` when a condition failed; `failed` lists the indexes of the failed ops. */
export class TransactionConflict extends Error {
  readonly failed: readonly number[];
  constructor(failed: readonly number[], message?: string) {
    super(message ?? `transaction cancelled: condition failed on op(s) ${failed.join(', ') || 'unknown'}`);
    this.name = 'TransactionConflict';
    this.failed = failed;
  }
}

/**
 * Thrown by `transact` when nothing was written because another transaction on one of the items
 * was in flight (DynamoDB's TransactionConflict) or the request was throttled: no condition
 * failed, so it says nothing about versions or fencing. Safe to retry as it is.
 */
export class TransactionContention extends Error {
  constructor(message = 'a concurrent transaction on the same item was in flight; nothing was written') {
    super(message);
    this.name = 'TransactionContention';
  }
}

/** Counts requests, so benchmarks can report reads and writes per operation. */
export interface StoreStats {
  reads: number;
  writes: number;
}

export interface ItemStore {
  /** Strongly consistent read of one item; expired items read as absent. */
  get(key: ItemKey): Promise<Item | undefined>;
  /** One page of a query on the table or a GSI (GSIs are eventually consistent on DynamoDB). */
  query(input: QueryInput): Promise<QueryPage>;
  /** All-or-nothing: every op's condition holds and all writes apply, or none does. */
  transact(ops: readonly WriteOp[]): Promise<void>;
  readonly stats: StoreStats;
  /** True when index queries see every committed write at once (in-memory); false on DynamoDB GSIs. */
  readonly consistentIndexes: boolean;
}

/** Reads every page of a query. */
export async function queryAll(store: ItemStore, input: QueryInput): Promise<Item[]> {
  const out: Item[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.query(cursor ? { ...input, cursor } : input);
    out.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return out;
}

export function keyString(k: ItemKey): string {
  return `${k.pk}\u0000${k.sk}`;
}

/** Validates the shape of a transaction before any adapter sends it. */
export function checkTransaction(ops: readonly WriteOp[]): void {
  if (ops.length === 0) throw new Error('empty transaction');
  if (ops.length > MAX_TRANSACTION_OPS) throw new Error(`transaction has ${ops.length} ops; the limit is ${MAX_TRANSACTION_OPS}`);
  const seen = new Set<string>();
  for (const op of ops) {
    const k = keyString(op.op === 'put' ? op.item : op.key);
    // DynamoDB refuses two operations on one item in a transaction; the memory adapter must too.
    if (seen.has(k)) throw new Error(`transaction touches item ${k.replace('\u0000', ' / ')} twice`);
    seen.add(k);
  }
}
