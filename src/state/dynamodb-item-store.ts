import { sleep } from '../core/sleep.js';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  TransactionCanceledException,
  TransactionConflictException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { awsClientConfig } from './aws-config.js';
import {
  checkTransaction,
  TransactionConflict,
  TransactionContention,
  type Expect,
  type Item,
  type ItemKey,
  type ItemStore,
  type JsonObject,
  type QueryInput,
  type QueryPage,
  type StoreStats,
  type WriteOp,
} from './item-store.js';
import { createTableInput, TABLE_DEFINITION } from './table-definition.js';

// The ItemStore on a DynamoDB table (AWS SDK v3; the endpoint comes from AWS_ENDPOINT_URL, so
// moto or LocalStack serve it in tests). Items: pk, sk, v (version), optional GSI keys,
// expiresAt (TTL, unix seconds), d (the data, one JSON string) and a (condition scalars).

const { versionAttribute: V, dataAttribute: D, ttlAttribute: TTL, conditionAttribute: A } = TABLE_DEFINITION;
const OPTIONAL_KEYS = ['gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk'] as const;

interface Expression {
  condition?: string;
  names: Record<string, string>;
  values: Record<string, AttributeValue>;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The ConditionExpression for an Expect; an expired item counts as absent, as in the memory store. */
function expectCondition(expect: Expect, e: Expression): void {
  if (expect === 'any') return;
  if (expect === 'absent' || expect === 'present') e.names['#pk'] = 'pk';
  e.names['#ttl'] = TTL;
  e.values[':now'] = { N: String(nowSeconds()) };
  const live = '(attribute_not_exists(#ttl) OR #ttl > :now)';
  if (expect === 'absent') e.condition = 'attribute_not_exists(#pk) OR #ttl <= :now';
  else if (expect === 'present') e.condition = `attribute_exists(#pk) AND ${live}`;
  else {
    e.names['#v'] = V;
    e.values[':ev'] = { N: String(expect.version) };
    e.condition = `#v = :ev AND ${live}`;
  }
}

function keyOf(k: ItemKey): Record<string, AttributeValue> {
  return { pk: { S: k.pk }, sk: { S: k.sk } };
}

export interface DynamoDbItemStoreOptions {
  readonly tableName: string;
  readonly client?: DynamoDBClient;
}

export class DynamoDbItemStore implements ItemStore {
  readonly stats: StoreStats = { reads: 0, writes: 0 };
  /** GSIs are eventually consistent. */
  readonly consistentIndexes = false;
  readonly tableName: string;
  readonly client: DynamoDBClient;

  constructor(options: DynamoDbItemStoreOptions) {
    this.tableName = options.tableName;
    this.client = options.client ?? new DynamoDBClient(awsClientConfig());
  }

  /** Fails with a message naming the table and the endpoint when the table is not there. */
  async checkTable(): Promise<void> {
    try {
      await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException)) throw e;
      const endpoint = process.env.AWS_ENDPOINT_URL ?? `DynamoDB in ${String(await this.client.config.region())}`;
      throw new Error(
        `DynamoDB table ${this.tableName} does not exist at ${endpoint}: create it with \`cdk deploy\` or \`npx tsx localstack/init-region.ts\``,
      );
    }
  }

  /** Creates the table (and its TTL setting) if it does not exist, and waits until it is active. */
  async ensureTable(): Promise<void> {
    try {
      await this.client.send(new CreateTableCommand(createTableInput(this.tableName)));
    } catch (e) {
      if (!(e instanceof ResourceInUseException)) throw e;
    }
    for (let i = 0; i < 120; i++) {
      const d = await this.client.send(new DescribeTableCommand({ TableName: this.tableName }));
      if (d.Table?.TableStatus === 'ACTIVE') break;
      await sleep(250);
    }
    try {
      await this.client.send(
        new UpdateTimeToLiveCommand({ TableName: this.tableName, TimeToLiveSpecification: { AttributeName: TTL, Enabled: true } }),
      );
    } catch {
      // Already enabled (a second ensureTable) is not an error worth failing on.
    }
  }

  async get(key: ItemKey): Promise<Item | undefined> {
    this.stats.reads++;
    const out = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: keyOf(key), ConsistentRead: true }));
    if (!out.Item) return undefined;
    const item = decodeItem(out.Item);
    return item.expiresAt !== undefined && item.expiresAt <= nowSeconds() ? undefined : item;
  }

  async query(input: QueryInput): Promise<QueryPage> {
    this.stats.reads++;
    const pkName = input.index ? `${input.index}pk` : 'pk';
    const skName = input.index ? `${input.index}sk` : 'sk';
    const names: Record<string, string> = { '#p': pkName, '#ttl': TTL };
    const values: Record<string, AttributeValue> = { ':p': { S: input.pk }, ':now': { N: String(nowSeconds()) } };
    let keyCondition = '#p = :p';
    if (input.skPrefix !== undefined) {
      names['#s'] = skName;
      values[':s'] = { S: input.skPrefix };
      keyCondition += ' AND begins_with(#s, :s)';
    } else if (input.skBetween) {
      names['#s'] = skName;
      values[':lo'] = { S: input.skBetween[0] };
      values[':hi'] = { S: input.skBetween[1] };
      keyCondition += ' AND #s BETWEEN :lo AND :hi';
    }
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: input.index,
        KeyConditionExpression: keyCondition,
        FilterExpression: 'attribute_not_exists(#ttl) OR #ttl > :now',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        Limit: input.limit,
        ScanIndexForward: !input.descending,
        ConsistentRead: input.index ? undefined : true,
        ExclusiveStartKey: input.cursor ? (JSON.parse(Buffer.from(input.cursor, 'base64url').toString()) as Record<string, AttributeValue>) : undefined,
      }),
    );
    const items = (out.Items ?? []).map(decodeItem);
    const next = out.LastEvaluatedKey ? Buffer.from(JSON.stringify(out.LastEvaluatedKey)).toString('base64url') : undefined;
    return next ? { items, next } : { items };
  }

  async transact(ops: readonly WriteOp[]): Promise<void> {
    checkTransaction(ops);
    this.stats.writes++;
    // A single write needs no transaction (half the write capacity, one round trip).
    if (ops.length === 1 && ops[0]!.op !== 'check') return this.single(ops[0]!);
    const items: TransactWriteItem[] = ops.map((op) => this.toTransactItem(op));
    try {
      await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
    } catch (e) {
      if (e instanceof TransactionCanceledException) throw cancellation(e);
      throw e;
    }
  }

  private async single(op: WriteOp): Promise<void> {
    try {
      if (op.op === 'put') {
        const u = this.update(op);
        await this.client.send(new UpdateItemCommand(u));
      } else if (op.op === 'delete') {
        const e: Expression = { names: {}, values: {} };
        expectCondition(op.expect, e);
        await this.client.send(
          new DeleteItemCommand({
            TableName: this.tableName,
            Key: keyOf(op.key),
            ConditionExpression: e.condition,
            ExpressionAttributeNames: e.condition ? e.names : undefined,
            ExpressionAttributeValues: e.condition && Object.keys(e.values).length ? e.values : undefined,
          }),
        );
      }
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new TransactionConflict([0]);
      // A single write to an item a transaction is changing right now: nothing happened.
      if (e instanceof TransactionConflictException) throw new TransactionContention(e.message);
      throw e;
    }
  }

  private update(op: Extract<WriteOp, { op: 'put' }>): {
    TableName: string;
    Key: Record<string, AttributeValue>;
    UpdateExpression: string;
    ConditionExpression?: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues: Record<string, AttributeValue>;
  } {
    const e: Expression = { names: {}, values: {} };
    expectCondition(op.expect, e);
    const item = op.item;
    const set: string[] = [];
    const remove: string[] = [];
    e.names['#d'] = D;
    e.values[':d'] = { S: JSON.stringify(item.data) };
    set.push('#d = :d');
    e.names['#a'] = A;
    if (item.attrs && Object.keys(item.attrs).length) {
      e.values[':a'] = { M: marshall(item.attrs) };
      set.push('#a = :a');
    } else remove.push('#a');
    e.names['#v'] = V;
    // The version is known exactly when the write is conditional; otherwise it counts up.
    if (op.expect === 'absent') {
      e.values[':one'] = { N: '1' };
      set.push('#v = :one');
    } else if (typeof op.expect === 'object') {
      e.values[':nv'] = { N: String(op.expect.version + 1) };
      set.push('#v = :nv');
    } else {
      e.values[':one'] = { N: '1' };
      e.values[':zero'] = { N: '0' };
      set.push('#v = if_not_exists(#v, :zero) + :one');
    }
    for (const k of OPTIONAL_KEYS) {
      const v = item[k];
      if (v !== undefined) {
        e.names[`#${k}`] = k;
        e.values[`:${k}`] = { S: v };
        set.push(`#${k} = :${k}`);
      } else {
        e.names[`#${k}`] = k;
        remove.push(`#${k}`);
      }
    }
    e.names['#ttl'] = TTL;
    if (item.expiresAt !== undefined) {
      e.values[':exp'] = { N: String(item.expiresAt) };
      set.push('#ttl = :exp');
    } else remove.push('#ttl');
    const expr = `SET ${set.join(', ')}` + (remove.length ? ` REMOVE ${remove.join(', ')}` : '');
    return {
      TableName: this.tableName,
      Key: keyOf(item),
      UpdateExpression: expr,
      ConditionExpression: e.condition,
      ExpressionAttributeNames: e.names,
      ExpressionAttributeValues: e.values,
    };
  }

  private toTransactItem(op: WriteOp): TransactWriteItem {
    if (op.op === 'put') return { Update: this.update(op) };
    const e: Expression = { names: {}, values: {} };
    expectCondition(op.expect, e);
    if (op.op === 'delete') {
      return {
        Delete: {
          TableName: this.tableName,
          Key: keyOf(op.key),
          ConditionExpression: e.condition,
          ExpressionAttributeNames: e.condition ? e.names : undefined,
          ExpressionAttributeValues: e.condition && Object.keys(e.values).length ? e.values : undefined,
        },
      };
    }
    if (!e.condition) e.names['#pk'] = 'pk';
    const conds = e.condition ? [e.condition] : ['attribute_exists(#pk) OR attribute_not_exists(#pk)'];
    let i = 0;
    for (const [f, v] of Object.entries(op.attrsEqual ?? {})) {
      e.names['#a'] = A;
      e.names[`#f${i}`] = f;
      e.values[`:f${i}`] = marshall({ x: v }).x!;
      conds.push(`#a.#f${i} = :f${i}`);
      i++;
    }
    return {
      ConditionCheck: {
        TableName: this.tableName,
        Key: keyOf(op.key),
        ConditionExpression: conds.map((c) => `(${c})`).join(' AND '),
        ExpressionAttributeNames: e.names,
        ExpressionAttributeValues: Object.keys(e.values).length ? e.values : undefined,
      },
    };
  }
}

/** An item as DynamoDB holds it (a GetItem answer, a stream record's image) in the port's shape. */
export function decodeItem(raw: Record<string, AttributeValue>): Item {
  const o = unmarshall(raw) as Record<string, unknown>;
  const item: { -readonly [K in keyof Item]: Item[K] } = {
    pk: o.pk as string,
    sk: o.sk as string,
    version: Number(o[V] ?? 0),
    data: (typeof o[D] === 'string' ? JSON.parse(o[D]) : {}) as JsonObject,
  };
  if (o[A] !== undefined) item.attrs = o[A] as Record<string, string | number | boolean>;
  for (const k of OPTIONAL_KEYS) if (typeof o[k] === 'string') item[k] = o[k] as string;
  if (o[TTL] !== undefined) item.expiresAt = Number(o[TTL]);
  return item;
}

/**
 * What a cancelled transaction means. Only ConditionalCheckFailed reasons are conditions that
 * failed (a version moved, the lease epoch changed); TransactionConflict (another transaction
 * on an item was in flight) and throttling wrote nothing and say nothing about the conditions,
 * so they must never read as "fenced": they are contention, to retry.
 */
export function cancellation(e: TransactionCanceledException): Error {
  const reasons = e.CancellationReasons ?? [];
  const codes = reasons.map((r) => r.Code ?? 'None');
  const failed = codes.flatMap((c, i) => (c === 'ConditionalCheckFailed' ? [i] : []));
  if (failed.length > 0) return new TransactionConflict(failed, `transaction cancelled: ${codes.join(',')}`);
  if (codes.some((c) => c === 'TransactionConflict' || c === 'ThrottlingError' || c === 'ProvisionedThroughputExceeded')) {
    return new TransactionContention(`transaction cancelled by contention: ${codes.join(',')}`);
  }
  return e; // a malformed transaction (ValidationError, ...) is a bug, not a race
}
