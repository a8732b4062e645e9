import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { PeerEndpoint } from './naming.js';

// The region's gossip inbox and its dead-letter queue. Peers send to it from their own
// stacks: the queue policy names each peer's account as principal and pins the caller to the
// peer's gossip sender role with aws:PrincipalArn. (A role ARN as principal would have to
// exist when this policy is written; the condition does not, so regions deploy in any order.)

export interface GossipInboxProps {
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  /** The receiver's timeout: the visibility timeout is six times it, as Lambda advises. */
  readonly receiverTimeout: Duration;
  readonly peers: readonly PeerEndpoint[];
}

export class GossipInbox extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: GossipInboxProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      queueName: props.deadLetterQueueName,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: props.queueName,
      // Digests are periodic: an hour-old one is worthless.
      retentionPeriod: Duration.hours(1),
      visibilityTimeout: Duration.seconds(props.receiverTimeout.toSeconds() * 6),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    for (const peer of props.peers) {
      this.queue.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `GossipFrom${peer.region.replace(/-/g, '')}`,
          principals: [new iam.AccountPrincipal(peer.account)],
          actions: ['sqs:SendMessage'],
          resources: [this.queue.queueArn],
          conditions: { ArnEquals: { 'aws:PrincipalArn': peer.senderRoleArn } },
        }),
      );
    }
  }
}
