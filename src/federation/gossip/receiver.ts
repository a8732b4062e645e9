import { createLogger, type Logger } from '../../core/logger.js';
import { storeFromEnv } from '../../state/store-from-env.js';
import { Registry } from '../../state/registry.js';
import { gossipConfig } from './config.js';
import { DigestIntake } from './digest-intake.js';
import { REGION_NAME } from './digest.js';
import { PeerStore } from './peer-store.js';
import { GossipStats } from './stats.js';

// What the gossip receiver Lambda (src/master-lambda/lambda/gossip-receiver.ts) runs for a
// region's inbox (SQS event source with ReportBatchItemFailures): a batch of records is applied to this region's peer table, and
// only records whose write failed are reported back for redelivery. Invalid digests are
// dropped (counted, logged) and not retried: they would fail the same way every time.

export interface SqsRecordLike {
  readonly messageId: string;
  readonly body: string;
}

export interface SqsEventLike {
  readonly Records: readonly SqsRecordLike[];
}

export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** The testable core: records in, the records to redeliver out. */
export async function receiveRecords(event: SqsEventLike, intake: DigestIntake): Promise<SqsBatchResponse> {
  const result = await intake.process(event.Records.map((r) => ({ id: r.messageId, body: r.body })));
  return { batchItemFailures: result.retry.map((id) => ({ itemIdentifier: id })) };
}

export interface ReceiverContext {
  readonly intake: DigestIntake;
  readonly stats: GossipStats;
  readonly log: Logger;
}

/** What the handler runs with, from STRATUS_REGION and STRATUS_TABLE (via storeFromEnv). */
export function receiverFromEnv(env: NodeJS.ProcessEnv = process.env): ReceiverContext {
  const region = env.STRATUS_REGION;
  if (!region || !REGION_NAME.test(region)) throw new Error('STRATUS_REGION must name this region (1-40 characters of A-Z a-z 0-9 _ -)');
  const config = gossipConfig();
  const log = createLogger('stratus-gossip-receiver', undefined, { region });
  const stats = new GossipStats();
  const store = new PeerStore(new Registry(storeFromEnv(env)), config.maxDigestBytes);
  return { intake: new DigestIntake({ region, store, stats, log, maxDigestBytes: config.maxDigestBytes }), stats, log };
}
