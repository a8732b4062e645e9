import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MasterFunction } from './master-function.js';
import { REACTOR_ENTRY } from './paths.js';

// The event-driven leader (src/master-lambda/lambda/leader-reactor.ts), in place of the
// scheduled tick: the region table's stream invokes it for the changes that can give the
// leader work, and its timer queue (SQS delay messages) for what time alone triggers. Reserved
// concurrency 1 keeps one pass at a time; the stream's event source mapping waits for the
// invocation before it sends the next batch, and timer messages wait in their queue meanwhile.
// Idle means no invocation at all: no schedule.

/** Env var naming the timer queue for the function. */
export const TIMER_QUEUE_ENV = 'STRATUS_TIMER_QUEUE_URL';

export interface LeaderReactorProps {
  readonly table: dynamodb.ITable;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  /** A role name fixed in advance (peers admit gossip from the leader's role). */
  readonly roleName?: string;
  readonly entry?: string;
  /** How long the stream's event source gathers records before invoking (default 0 s). */
  readonly batchingWindow?: Duration;
}

/**
 * Lambda's event filtering drops, before any invocation, the records the reactor would ignore
 * anyway (heartbeats, event logs, the lease, offers being made...): agents, frameworks and roles
 * that changed, offers, filters and tasks that went away, and tasks that changed (the function
 * keeps only those that ended: the state is inside the item's JSON). Five patterns, Lambda's
 * default limit.
 */
export const REACTOR_STREAM_FILTERS: readonly Record<string, unknown>[] = [
  { dynamodb: { Keys: { sk: { S: ['AGENT'] } } } },
  { dynamodb: { Keys: { sk: { S: ['FRAMEWORK'] } } } },
  { dynamodb: { Keys: { sk: { S: ['ROLE'] } } } },
  { eventName: ['REMOVE'], dynamodb: { Keys: { sk: { S: ['OFFER', { prefix: 'FILTER#' }, { prefix: 'TASK#' }] } } } },
  { eventName: ['MODIFY'], dynamodb: { Keys: { sk: { S: [{ prefix: 'TASK#' }] } } } },
];

export class LeaderReactorFunction extends Construct {
  readonly fn: MasterFunction;
  readonly timerQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: LeaderReactorProps) {
    super(scope, id);
    this.timerQueue = new sqs.Queue(this, 'Timer', {
      // A wake-up is worth nothing once the next one is armed; an hour bounds a backlog.
      retentionPeriod: Duration.hours(1),
      visibilityTimeout: Duration.seconds(props.timeout.toSeconds() * 6),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.fn = new MasterFunction(this, 'Reactor', {
      entry: props.entry ?? REACTOR_ENTRY,
      description: 'Stratus leader reactor: allocation on change, timeouts on timers, autoscaler, gossip send',
      timeout: props.timeout,
      memorySize: 1024,
      environment: { ...props.environment, [TIMER_QUEUE_ENV]: this.timerQueue.queueUrl },
      reservedConcurrentExecutions: 1,
      ...(props.roleName ? { roleName: props.roleName } : {}),
    });
    this.fn.fn.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 1000,
        // The shortest window: Lambda polls each shard four times a second, and with one
        // invocation at a time what arrives during a pass is the next batch, so bursts batch
        // anyway and a freed task is offered again within a poll (target p50 <= 200 ms).
        maxBatchingWindow: props.batchingWindow ?? Duration.seconds(0),
        // A failing pass is retried a few times, then the batch is dropped: the next change or timer runs the round anyway.
        retryAttempts: 3,
        bisectBatchOnError: false,
        reportBatchItemFailures: false,
        filters: REACTOR_STREAM_FILTERS.map((pattern) => lambda.FilterCriteria.filter(pattern)),
      }),
    );
    this.fn.fn.addEventSource(new SqsEventSource(this.timerQueue, { batchSize: 10 }));
    this.timerQueue.grantSendMessages(this.fn.fn);
  }
}
