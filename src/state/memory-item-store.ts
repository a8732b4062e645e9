import {
  checkTransaction,
  keyString,
  TransactionConflict,
  type Expect,
  type IndexName,
  type Item,
  type ItemInput,
  type ItemKey,
  type ItemStore,
  type QueryInput,
  type QueryPage,
  type StoreStats,
  type WriteOp,
} from './item-store.js';
import type { ChangeFeed, ChangeListener, ChangeRecord, ChangeSubscription } from './change-feed.js';

// The embedded ItemStore: DynamoDB's semantics in process memory (conditional writes,
// all-or-nothing transactions, sorted sort keys, GSIs, TTL), for `stratus dev` and tests.
// Items are copied and frozen on the way in, so callers can never mutate stored state.
// Every committed write is published on `changes` (the change feed port), as DynamoDB Streams
// would: one batch per transaction, after it applied; an item TTL removes when it is next
// touched (DynamoDB's TTL is lazy too) comes as an expired delete.

/** The in-process change feed: listeners hear each transaction's changes as it commits. */
export class MemoryChangeFeed implements ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();
  private seq = 0;

  async subscribe(listener: ChangeListener): Promise<ChangeSubscription> {
    this.listeners.add(listener);
    return { close: async () => void this.listeners.delete(listener) };
  }

  nextSequence(): string {
    return String(++this.seq).padStart(20, '0');
  }

  publish(batch: readonly ChangeRecord[]): void {
    if (batch.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(batch);
      } catch {
        // A listener's failure is its own: the write has committed, other listeners still hear it.
      }
    }
  }
}

type Clock = () => number;

/** One partition: sort keys kept sorted for range queries. */
class Partition {
  readonly keys: string[] = [];
  readonly items = new Map<string, Item>();

  set(sk: string, item: Item): void {
    if (!this.items.has(sk)) this.keys.splice(lowerBound(this.keys, sk), 0, sk);
    this.items.set(sk, item);
  }

  delete(sk: string): void {
    if (!this.items.delete(sk)) return;
    this.keys.splice(lowerBound(this.keys, sk), 1);
  }
}

function lowerBound(keys: readonly string[], k: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(keys: readonly string[], k: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Stored items are deep-frozen copies: reads hand them out without copying, and a caller
// that tries to mutate one fails loudly instead of corrupting the store.
function frozenCopy<T>(v: T): T {
  return deepFreeze(structuredClone(v));
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

export class MemoryItemStore implements ItemStore {
  readonly stats: StoreStats = { reads: 0, writes: 0 };
  readonly consistentIndexes = true;
  private readonly table = new Map<string, Partition>();
  // GSI partitions hold composite keys "gsisk \0 pk \0 sk" → table key, sorted by GSI sort key.
  private readonly indexes: Record<IndexName, Map<string, Partition>> = { gsi1: new Map(), gsi2: new Map() };
  private readonly now: Clock;
  readonly changes = new MemoryChangeFeed();

  constructor(options: { now?: Clock } = {}) {
    this.now = options.now ?? Date.now;
  }

  async get(key: ItemKey): Promise<Item | undefined> {
    this.stats.reads++;
    const item = this.live(key);
    return item;
  }

  async query(input: QueryInput): Promise<QueryPage> {
    this.stats.reads++;
    const partition = input.index ? this.indexes[input.index].get(input.pk) : this.table.get(input.pk);
    if (!partition) return { items: [] };
    const limit = input.limit ?? 1000;
    const keys = partition.keys;
    // Positions are computed on the partition's sort key (for GSIs the first part of the composite key).
    const sortKeyOf = (k: string): string => (input.index ? k.slice(0, k.indexOf('\u0000')) : k);
    let from = 0;
    let to = keys.length; // exclusive
    if (input.skPrefix !== undefined) {
      from = lowerBound(keys, input.skPrefix);
      to = from;
      while (to < keys.length && sortKeyOf(keys[to]!).startsWith(input.skPrefix)) to++;
    } else if (input.skBetween) {
      const [lo, hi] = input.skBetween;
      from = lowerBound(keys, lo);
      to = from;
      while (to < keys.length && sortKeyOf(keys[to]!) <= hi) to++;
    }
    // The cursor is the last key examined (like DynamoDB's LastEvaluatedKey), so pages stay
    // right when items are written between them.
    if (input.cursor !== undefined) {
      if (input.descending) to = Math.min(to, lowerBound(keys, input.cursor));
      else from = Math.max(from, upperBound(keys, input.cursor));
    }
    const items: Item[] = [];
    const nowSec = this.now() / 1000;
    if (input.descending) {
      let i = to - 1;
      for (; i >= from && items.length < limit; i--) this.collect(partition, keys[i]!, input.index, nowSec, items);
      return i >= from ? { items, next: keys[i + 1]! } : { items };
    }
    let i = from;
    for (; i < to && items.length < limit; i++) this.collect(partition, keys[i]!, input.index, nowSec, items);
    return i < to ? { items, next: keys[i - 1]! } : { items };
  }

  private collect(partition: Partition, k: string, index: IndexName | undefined, nowSec: number, out: Item[]): void {
    let item = partition.items.get(k);
    if (item && index) item = this.table.get(item.pk)?.items.get(item.sk);
    if (item && (item.expiresAt === undefined || item.expiresAt > nowSec)) out.push(item);
  }

  async transact(ops: readonly WriteOp[]): Promise<void> {
    checkTransaction(ops);
    this.stats.writes++;
    const failed: number[] = [];
    ops.forEach((op, i) => {
      const key = op.op === 'put' ? op.item : op.key;
      const current = this.live(key);
      if (!holds(op.expect, current)) failed.push(i);
      else if (op.op === 'check' && op.attrsEqual) {
        for (const [f, v] of Object.entries(op.attrsEqual)) if (current?.attrs?.[f] !== v) failed.push(i);
      }
    });
    if (failed.length) throw new TransactionConflict([...new Set(failed)]);
    const changes: ChangeRecord[] = [];
    for (const op of ops) {
      if (op.op === 'put') {
        const current = this.live(op.item);
        const item = frozenCopy({ ...op.item, version: (current?.version ?? 0) + 1 });
        this.write(item);
        changes.push({ kind: 'put', key: { pk: item.pk, sk: item.sk }, item, sequence: this.changes.nextSequence() });
      } else if (op.op === 'delete') {
        // Like DynamoDB, deleting what is not there changes nothing and streams nothing.
        if (this.live(op.key)) changes.push({ kind: 'delete', key: { pk: op.key.pk, sk: op.key.sk }, sequence: this.changes.nextSequence() });
        this.remove(op.key);
      }
    }
    this.changes.publish(changes);
  }

  /** The item unless absent or expired (TTL), purging expired ones. */
  private live(key: ItemKey): Item | undefined {
    const item = this.table.get(key.pk)?.items.get(key.sk);
    if (item?.expiresAt !== undefined && item.expiresAt <= this.now() / 1000) {
      this.remove(key);
      this.changes.publish([{ kind: 'delete', key: { pk: key.pk, sk: key.sk }, expired: true, sequence: this.changes.nextSequence() }]);
      return undefined;
    }
    return item;
  }

  private write(item: Item): void {
    this.remove(item);
    let p = this.table.get(item.pk);
    if (!p) this.table.set(item.pk, (p = new Partition()));
    p.set(item.sk, item);
    this.indexPut('gsi1', item.gsi1pk, item.gsi1sk, item);
    this.indexPut('gsi2', item.gsi2pk, item.gsi2sk, item);
  }

  private remove(key: ItemKey): void {
    const p = this.table.get(key.pk);
    const old = p?.items.get(key.sk);
    if (!p || !old) return;
    p.delete(key.sk);
    if (p.items.size === 0) this.table.delete(key.pk);
    this.indexDelete('gsi1', old.gsi1pk, old.gsi1sk, old);
    this.indexDelete('gsi2', old.gsi2pk, old.gsi2sk, old);
  }

  private indexPut(index: IndexName, pk: string | undefined, sk: string | undefined, item: ItemInput): void {
    // Like DynamoDB, an item missing either index key is not in that (sparse) index.
    if (pk === undefined || sk === undefined) return;
    let p = this.indexes[index].get(pk);
    if (!p) this.indexes[index].set(pk, (p = new Partition()));
    p.set(`${sk}\u0000${keyString(item)}`, { pk: item.pk, sk: item.sk, data: {}, version: 0 });
  }

  private indexDelete(index: IndexName, pk: string | undefined, sk: string | undefined, item: ItemKey): void {
    if (pk === undefined || sk === undefined) return;
    const p = this.indexes[index].get(pk);
    if (!p) return;
    p.delete(`${sk}\u0000${keyString(item)}`);
    if (p.items.size === 0) this.indexes[index].delete(pk);
  }
}

function holds(expect: Expect, current: Item | undefined): boolean {
  if (expect === 'any') return true;
  if (expect === 'absent') return current === undefined;
  if (expect === 'present') return current !== undefined;
  return current !== undefined && current.version === expect.version;
}
