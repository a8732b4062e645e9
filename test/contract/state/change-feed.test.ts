import { afterEach, describe, expect, it } from 'vitest';
import type { ChangeFeed, ChangeRecord, ChangeSubscription } from '../../../src/state/change-feed.js';
import { itemKind } from '../../../src/state/change-feed.js';
import { DynamoDbStreamFeed } from '../../../src/state/dynamodb-change-feed.js';
import type { ItemStore } from '../../../src/state/item-store.js';
import { keys } from '../../../src/state/keys.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { Registry } from '../../../src/state/registry.js';
import { describeWith } from '../../support/components.js';
import { freshDynamoStore } from '../../support/dynamodb.js';
import { waitUntil } from '../../support/wait.js';

// One suite for both change feed adapters: the in-memory store's own feed and DynamoDB Streams
// read from the table (moto serves them). Every committed write arrives, with its new image;
// nothing that did not commit does.

type FeedFactory = () => Promise<{ store: ItemStore; feed: ChangeFeed }>;

function changeFeedContract(name: string, factory: FeedFactory): void {
  describe(`change feed (${name})`, () => {
    let sub: ChangeSubscription | undefined;
    afterEach(async () => {
      await sub?.close();
      sub = undefined;
    });

    async function open(): Promise<{ registry: Registry; seen: ChangeRecord[]; batches: number[] }> {
      const { store, feed } = await factory();
      const registry = new Registry(store);
      // Written before the subscription: never delivered.
      await registry.transaction().putDocument('c', 'before', { n: 0 }, 'absent').commit();
      const seen: ChangeRecord[] = [];
      const batches: number[] = [];
      sub = await feed.subscribe((batch) => {
        batches.push(batch.length);
        seen.push(...batch);
      });
      return { registry, seen, batches };
    }

    it('delivers every committed put and delete in order, puts with their new image', async () => {
      const { registry, seen } = await open();
      await registry.transaction().putDocument('c', 'x', { n: 1 }, 'absent').commit();
      await registry.transaction().putDocument('c', 'x', { n: 2 }, { version: 1 }).commit();
      await registry.transaction().deleteDocument('c', 'x', { version: 2 }).commit();
      await waitUntil(() => seen.length >= 3, 30_000, 'three changes');
      const key = keys.document('c', 'x');
      expect(seen.map((r) => [r.kind, r.key, r.item?.version, r.item?.data])).toEqual([
        ['put', key, 1, { n: 1 }],
        ['put', key, 2, { n: 2 }],
        ['delete', key, undefined, undefined],
      ]);
      expect(seen.every((r) => itemKind(r.key) === 'document')).toBe(true);
      expect(seen[0]!.item).toMatchObject({ gsi1pk: 'DOC#c', gsi1sk: 'x' });
      // Sequences order one item's changes.
      const seqs = seen.map((r) => BigInt(r.sequence));
      expect([...seqs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(seqs);
    }, 60_000);

    it('delivers a transaction\'s writes (not its checks) and nothing of a transaction that failed', async () => {
      const { registry, seen } = await open();
      await registry.transaction().putDocument('c', 'a', { n: 1 }, 'absent').commit();
      // Every op of this one fails its condition: moto (unlike DynamoDB) streams the ops of a
      // failed transaction whose own condition held, before it rolls the table back.
      await expect(registry.transaction().putDocument('c', 'a', { n: 9 }, 'absent').deleteDocument('c', 'never', 'present').commit()).rejects.toThrow();
      await registry
        .transaction()
        .check(keys.document('c', 'a'), { version: 1 }, 'a unchanged')
        .putDocument('c', 'b', { n: 2 }, 'absent')
        .putDocument('c', 'd', { n: 3 }, 'absent')
        .commit();
      await waitUntil(() => seen.length >= 3, 30_000, 'three changes');
      await registry.transaction().putDocument('c', 'marker', {}, 'absent').commit();
      await waitUntil(() => seen.some((r) => r.key.pk === keys.document('c', 'marker').pk), 30_000, 'the marker');
      expect(seen.map((r) => `${r.kind} ${r.key.pk} ${JSON.stringify(r.item?.data)}`)).toEqual([
        'put DOC#c#a {"n":1}',
        'put DOC#c#b {"n":2}',
        'put DOC#c#d {"n":3}',
        'put DOC#c#marker {}',
      ]);
    }, 60_000);

    it('stops delivering once closed', async () => {
      const { registry, seen } = await open();
      await registry.transaction().putDocument('c', 'one', {}, 'absent').commit();
      await waitUntil(() => seen.length >= 1, 30_000, 'the first change');
      await sub!.close();
      sub = undefined;
      await registry.transaction().putDocument('c', 'two', {}, 'absent').commit();
      expect(seen.map((r) => r.key.pk)).toEqual([keys.document('c', 'one').pk]);
    }, 60_000);
  });
}

changeFeedContract('in-memory', async () => {
  const store = new MemoryItemStore();
  return { store, feed: store.changes };
});

await describeWith(['aws'], 'DynamoDB Streams on the local AWS endpoint', () => {
  changeFeedContract('DynamoDB Streams', async () => {
    const store = await freshDynamoStore('feed');
    return { store, feed: new DynamoDbStreamFeed({ tableName: store.tableName, client: store.client, pollMs: 50 }) };
  });
});
