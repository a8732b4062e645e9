import { randomUUID } from 'node:crypto';
import { DynamoDbItemStore } from '../../src/state/dynamodb-item-store.js';

/** A DynamoDB store on a fresh table of its own (on moto in tests). */
export async function freshDynamoStore(prefix = 'test'): Promise<DynamoDbItemStore> {
  const store = new DynamoDbItemStore({ tableName: `${prefix}-${randomUUID().slice(0, 8)}` });
  await store.ensureTable();
  return store;
}
