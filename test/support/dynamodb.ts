import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll } from 'vitest';
import { DynamoDbItemStore } from '../../src/state/dynamodb-item-store.js';
import type { Registry } from '../../src/state/registry.js';

// Fresh tables for tests, deleted when the test file ends: moto keeps every table in memory and
// its requests slow down as it holds more.

const created: DynamoDbItemStore[] = [];

afterAll(async () => {
  for (const s of created.splice(0)) {
    await s.client.send(new DeleteTableCommand({ TableName: s.tableName })).catch(() => undefined);
  }
});

/** A DynamoDB store on a fresh table of its own (on moto in tests). */
export async function freshDynamoStore(prefix = 'test'): Promise<DynamoDbItemStore> {
  const store = new DynamoDbItemStore({ tableName: `${prefix}-${randomUUID().slice(0, 8)}` });
  await store.ensureTable();
  created.push(store);
  return store;
}

/** The median latency of a read on the local endpoint now: timing-based tests scale their bounds by it. */
export async function dynamoLatency(registry: Registry): Promise<number> {
  const lat: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    await registry.getDocument('peers', 'probe');
    lat.push(performance.now() - t);
  }
  return lat.sort((x, y) => x - y)[3]!;
}
