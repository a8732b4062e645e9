import { LambdaMetrics, withMetrics } from './emf.js';
import { receiveRecords, receiverFromEnv, type ReceiverContext, type SqsBatchResponse, type SqsEventLike } from '../../federation/gossip/receiver.js';

// The Lambda the CDK stack wires to a region's gossip inbox: peers' digests into the region's
// table, failed records reported back for redelivery.

let container: ReceiverContext | undefined;
let emf: LambdaMetrics | undefined;

export async function handler(event: SqsEventLike): Promise<SqsBatchResponse> {
  const c = (container ??= receiverFromEnv());
  emf ??= new LambdaMetrics('gossip-receiver');
  return withMetrics(
    emf,
    async () => {
      const response = await receiveRecords(event, c.intake);
      c.log.info('gossip batch', { records: event.Records.length, retry: response.batchItemFailures.length, stats: c.stats.snapshot() });
      return response;
    },
    () => ({ GossipDigestsReceived: c.stats.received, GossipDigestsDropped: c.stats.droppedTotal, GossipDigestsApplied: c.stats.applied }),
  );
}
