import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { z } from 'zod';
import { sleep } from '../core/sleep.js';
import { awsClientConfig } from './aws-config.js';
import type { ChangeFeed, ChangeListener, ChangeRecord, ChangeSubscription } from './change-feed.js';
import { decodeItem } from './dynamodb-item-store.js';
import { TABLE_DEFINITION } from './table-definition.js';

// The change feed on DynamoDB Streams. In a deployed region Lambda reads the stream and hands
// the leader reactor batches of records: `changesFromStreamRecords` turns them into the port's
// records. For tests and local use, `DynamoDbStreamFeed` reads a table's stream itself (shard
// iterators, GetRecords), so one contract suite covers both adapters.

const attributeMap = z.record(z.string(), z.unknown());

/** One record as Lambda's DynamoDB event source and GetRecords deliver it (validated at the edge). */
const streamRecord = z.object({
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  dynamodb: z.object({
    Keys: z.object({ pk: z.object({ S: z.string() }), sk: z.object({ S: z.string() }) }).passthrough(),
    NewImage: attributeMap.optional(),
    SequenceNumber: z.string(),
  }),
  // TTL deletions are made by the DynamoDB service itself.
  userIdentity: z.object({ type: z.string().optional(), principalId: z.string().optional() }).passthrough().optional(),
});

export type StreamRecordInput = z.input<typeof streamRecord>;

/** The event Lambda's DynamoDB Streams event source mapping passes to the function. */
export const dynamoDbStreamEvent = z.object({ Records: z.array(z.unknown()) });

/**
 * Stream records as the port's changes. A record that is not one of the region table's items
 * (malformed, another key schema) is skipped and counted, never thrown: one bad record must
 * not stall the shard.
 */
export function changesFromStreamRecords(records: readonly unknown[]): { changes: ChangeRecord[]; skipped: number } {
  const changes: ChangeRecord[] = [];
  let skipped = 0;
  for (const raw of records) {
    const r = streamRecord.safeParse(raw);
    if (!r.success) {
      skipped++;
      continue;
    }
    const { eventName, dynamodb: d, userIdentity } = r.data;
    const key = { pk: d.Keys.pk.S, sk: d.Keys.sk.S };
    if (eventName === 'REMOVE') {
      const expired = userIdentity?.type === 'Service' && userIdentity.principalId === 'dynamodb.amazonaws.com';
      changes.push({ kind: 'delete', key, sequence: d.SequenceNumber, ...(expired ? { expired } : {}) });
    } else {
      // Every ItemStore write sets the version: an image without one is not an item write of
      // ours (moto streams a keys-only INSERT before an UpdateItem that creates an item).
      if (d.NewImage && d.NewImage[TABLE_DEFINITION.versionAttribute] === undefined) {
        skipped++;
        continue;
      }
      const item = d.NewImage ? decodeItem(d.NewImage as Record<string, AttributeValue>) : undefined;
      changes.push({ kind: 'put', key, sequence: d.SequenceNumber, ...(item ? { item } : {}) });
    }
  }
  return { changes, skipped };
}

export interface DynamoDbStreamFeedOptions {
  readonly tableName: string;
  readonly client?: DynamoDBClient;
  readonly streams?: DynamoDBStreamsClient;
  /** Pause between GetRecords rounds when a round found nothing. */
  readonly pollMs?: number;
}

interface ShardCursor {
  readonly shardId: string;
  iterator: string | undefined;
  lastSequence: string | undefined;
}

/** Reads a table's stream (all open shards) and delivers its records: tests and local runs. */
export class DynamoDbStreamFeed implements ChangeFeed {
  private readonly client: DynamoDBClient;
  private readonly streams: DynamoDBStreamsClient;
  private readonly pollMs: number;

  constructor(private readonly options: DynamoDbStreamFeedOptions) {
    this.client = options.client ?? new DynamoDBClient(awsClientConfig());
    this.streams = options.streams ?? new DynamoDBStreamsClient(awsClientConfig());
    this.pollMs = options.pollMs ?? 200;
  }

  /** The table's stream ARN; fails naming the table when its stream is off. */
  async streamArn(): Promise<string> {
    const t = await this.client.send(new DescribeTableCommand({ TableName: this.options.tableName }));
    const arn = t.Table?.LatestStreamArn;
    if (!arn || t.Table?.StreamSpecification?.StreamEnabled === false) {
      throw new Error(`table ${this.options.tableName} has no stream: create it from src/state/table-definition.ts (StreamSpecification NEW_IMAGE)`);
    }
    return arn;
  }

  async subscribe(listener: ChangeListener): Promise<ChangeSubscription> {
    const arn = await this.streamArn();
    const cursors = new Map<string, ShardCursor>();
    // Open shards start at LATEST: everything committed from now on.
    for (const shard of await this.shards(arn)) {
      if (shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) continue;
      cursors.set(shard.ShardId!, { shardId: shard.ShardId!, iterator: await this.iterator(arn, shard.ShardId!, 'LATEST'), lastSequence: undefined });
    }
    let closed = false;
    const loop = (async () => {
      while (!closed) {
        let found = 0;
        for (const c of [...cursors.values()]) {
          if (closed) break;
          found += await this.readShard(arn, c, listener);
          if (c.iterator === undefined) {
            // The shard closed (DynamoDB rolls shards over): follow its children from their start.
            cursors.delete(c.shardId);
            for (const s of await this.shards(arn)) {
              if (s.ParentShardId === c.shardId && !cursors.has(s.ShardId!)) {
                cursors.set(s.ShardId!, { shardId: s.ShardId!, iterator: await this.iterator(arn, s.ShardId!, 'TRIM_HORIZON'), lastSequence: undefined });
              }
            }
          }
        }
        if (found === 0 && !closed) await sleep(this.pollMs);
      }
    })();
    return {
      close: async () => {
        closed = true;
        await loop.catch(() => undefined);
      },
    };
  }

  private async readShard(arn: string, c: ShardCursor, listener: ChangeListener): Promise<number> {
    if (c.iterator === undefined) return 0;
    let out;
    try {
      out = await this.streams.send(new GetRecordsCommand({ ShardIterator: c.iterator, Limit: 1000 }));
    } catch (e) {
      // Iterators last 15 minutes: take a new one after the last record delivered.
      if (!(e instanceof ExpiredIteratorException) && !(e instanceof TrimmedDataAccessException)) throw e;
      c.iterator = await this.iterator(arn, c.shardId, c.lastSequence ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON', c.lastSequence);
      return 0;
    }
    c.iterator = out.NextShardIterator;
    const records = out.Records ?? [];
    if (records.length === 0) return 0;
    c.lastSequence = records[records.length - 1]!.dynamodb?.SequenceNumber ?? c.lastSequence;
    const { changes } = changesFromStreamRecords(records);
    try {
      if (changes.length) listener(changes);
    } catch {
      // The listener's failure is its own; the feed reads on.
    }
    return records.length;
  }

  private async shards(arn: string): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const d = await this.streams.send(new DescribeStreamCommand({ StreamArn: arn, ...(start ? { ExclusiveStartShardId: start } : {}) }));
      shards.push(...(d.StreamDescription?.Shards ?? []));
      start = d.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  private async iterator(arn: string, shardId: string, type: 'LATEST' | 'TRIM_HORIZON' | 'AFTER_SEQUENCE_NUMBER', after?: string): Promise<string | undefined> {
    const out = await this.streams.send(
      new GetShardIteratorCommand({ StreamArn: arn, ShardId: shardId, ShardIteratorType: type, ...(after ? { SequenceNumber: after } : {}) }),
    );
    return out.ShardIterator;
  }
}
