import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MasterFunction } from './master-function.js';

// The gossip receiver: the inbox queue feeds it through an event source mapping (Lambda
// long-polls the queue); failed messages of a batch are reported individually and go to the
// dead-letter queue after the inbox's maxReceiveCount.

export const GOSSIP_RECEIVER_TIMEOUT = Duration.seconds(30);

export interface GossipReceiverProps {
  /** The handler's TypeScript entry (exports `handler(event: SQSEvent)`). */
  readonly entry: string;
  readonly queue: sqs.IQueue;
  readonly environment: Record<string, string>;
}

export class GossipReceiver extends Construct {
  readonly fn: MasterFunction;

  constructor(scope: Construct, id: string, props: GossipReceiverProps) {
    super(scope, id);
    this.fn = new MasterFunction(this, 'Receiver', {
      entry: props.entry,
      description: 'Stratus gossip receiver: applies peer digests from the inbox queue',
      timeout: GOSSIP_RECEIVER_TIMEOUT,
      memorySize: 512,
      environment: props.environment,
    });
    this.fn.fn.addEventSource(new SqsEventSource(props.queue, { batchSize: 10, reportBatchItemFailures: true }));
  }
}
