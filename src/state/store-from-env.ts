import { DynamoDbItemStore } from './dynamodb-item-store.js';
import type { ItemStore } from './item-store.js';
import { MemoryItemStore } from './memory-item-store.js';
import { DEFAULT_TABLE_NAME } from './table-definition.js';

/** The ItemStore the environment asks for: DynamoDB when STRATUS_TABLE (or STRATUS_STORE=dynamodb) is set. */
export function storeFromEnv(env: NodeJS.ProcessEnv = process.env): ItemStore {
  const kind = env.STRATUS_STORE ?? (env.STRATUS_TABLE ? 'dynamodb' : 'memory');
  if (kind === 'memory') return new MemoryItemStore();
  if (kind === 'dynamodb') return new DynamoDbItemStore({ tableName: env.STRATUS_TABLE ?? DEFAULT_TABLE_NAME });
  throw new Error(`STRATUS_STORE must be memory or dynamodb (got ${kind})`);
}
