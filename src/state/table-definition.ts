import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

// The region table's one definition. The DynamoDB adapter, the tests, the LocalStack init
// script and the CDK stack all derive the table from this, so they cannot drift apart.

export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N';
}

export interface IndexDefinition {
  readonly indexName: 'gsi1' | 'gsi2';
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
}

export interface TableDefinition {
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  readonly globalSecondaryIndexes: readonly IndexDefinition[];
  /** DynamoDB TTL attribute: unix seconds. */
  readonly ttlAttribute: string;
  readonly versionAttribute: string;
  /** The item's data, one JSON string (compact, and cheap to read and write whole). */
  readonly dataAttribute: string;
  /** Scalars conditions check (e.g. the lease epoch), a map. */
  readonly conditionAttribute: string;
  /** The table's stream, which feeds the leader (src/state/change-feed.ts says why new images). */
  readonly streamViewType: 'NEW_IMAGE';
}

export const TABLE_DEFINITION: TableDefinition = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [
    // gsi1: collections by kind (all agents, all frameworks, all offers, all tasks, all roles, peers).
    { indexName: 'gsi1', partitionKey: { name: 'gsi1pk', type: 'S' }, sortKey: { name: 'gsi1sk', type: 'S' } },
    // gsi2: things by agent (its tasks and offers).
    { indexName: 'gsi2', partitionKey: { name: 'gsi2pk', type: 'S' }, sortKey: { name: 'gsi2sk', type: 'S' } },
  ],
  ttlAttribute: 'expiresAt',
  versionAttribute: 'v',
  dataAttribute: 'd',
  conditionAttribute: 'a',
  streamViewType: 'NEW_IMAGE',
};

export const DEFAULT_TABLE_NAME = 'stratus';

/** The CreateTable request for a region table (on-demand billing, its stream on). */
export function createTableInput(tableName: string, def: TableDefinition = TABLE_DEFINITION): CreateTableCommandInput {
  const attrs = new Map<string, KeyAttribute>();
  for (const a of [def.partitionKey, def.sortKey, ...def.globalSecondaryIndexes.flatMap((i) => [i.partitionKey, i.sortKey])]) {
    attrs.set(a.name, a);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    StreamSpecification: { StreamEnabled: true, StreamViewType: def.streamViewType },
    AttributeDefinitions: [...attrs.values()].map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: [
      { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: def.sortKey.name, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: def.globalSecondaryIndexes.map((i) => ({
      IndexName: i.indexName,
      KeySchema: [
        { AttributeName: i.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: i.sortKey.name, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}
