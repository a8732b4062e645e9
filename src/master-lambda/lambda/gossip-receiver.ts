import { receiveRecords, receiverFromEnv, type ReceiverContext, type SqsBatchResponse, type SqsEventLike } from '../../federation/gossip/receiver.js';

// The Lambda the CDK stack wires to a region's gossip inbox: peers' digests into the region's
// table, failed records reported back for redelivery.

let container: ReceiverContext | undefined;

export async function handler(event: SqsEventLike): Promise<SqsBatchResponse> {
  container ??= receiverFromEnv();
  const response = await receiveRecords(event, container.intake);
  container.log.info('gossip batch', { records: event.Records.length, retry: response.batchItemFailures.length, stats: container.stats.snapshot() });
  return response;
}
