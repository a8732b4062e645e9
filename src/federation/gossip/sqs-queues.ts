import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { awsClientConfig } from '../../state/aws-config.js';
import { REGION_NAME } from './digest.js';

// Gossip inboxes: one SQS standard queue per region, named <prefix>-<region>, with a
// dead-letter queue <prefix>-<region>-dlq that takes a message after `maxReceiveCount` failed
// receives. The CDK stack creates them in a deployment; `ensureQueues` does it for tests and
// local use. Peers' queue URLs come from configuration or are looked up by name.

export const DEFAULT_QUEUE_PREFIX = 'stratus-gossip';
export const MAX_QUEUE_NAME = 80;

export type SqsClientLike = Pick<SQSClient, 'send'>;

export function inboxQueueName(region: string, prefix = DEFAULT_QUEUE_PREFIX): string {
  if (!REGION_NAME.test(region)) throw new Error(`region name ${JSON.stringify(region)} is malformed`);
  const name = `${prefix}-${region}`;
  if (!/^[A-Za-z0-9_-]+$/.test(prefix) || name.length + 4 > MAX_QUEUE_NAME) {
    throw new Error(`queue name ${name} must be at most ${MAX_QUEUE_NAME - 4} characters of A-Z a-z 0-9 _ -`);
  }
  return name;
}

export const deadLetterQueueName = (region: string, prefix = DEFAULT_QUEUE_PREFIX): string => `${inboxQueueName(region, prefix)}-dlq`;

/** The AWS region in a queue URL (https://sqs.eu-west-1.amazonaws.com/...), if it names one. */
export function awsRegionOfQueueUrl(url: string): string | undefined {
  return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\//.exec(url)?.[1];
}

/** Region name -> inbox queue URL: given ones first, then looked up by name and cached. */
export class QueueDirectory {
  private readonly cache = new Map<string, string>();

  constructor(
    private readonly client: SqsClientLike,
    known: Readonly<Record<string, string>> = {},
    readonly prefix = DEFAULT_QUEUE_PREFIX,
  ) {
    for (const [region, url] of Object.entries(known)) this.cache.set(region, url);
  }

  async urlOf(region: string): Promise<string> {
    const hit = this.cache.get(region);
    if (hit) return hit;
    const out = await this.client.send(new GetQueueUrlCommand({ QueueName: inboxQueueName(region, this.prefix) }));
    if (!out.QueueUrl) throw new Error(`no queue URL for region ${region}`);
    this.cache.set(region, out.QueueUrl);
    return out.QueueUrl;
  }
}

export interface EnsureQueuesOptions {
  readonly prefix?: string;
  /** Receives before a message moves to the dead-letter queue. */
  readonly maxReceiveCount?: number;
  /** Old gossip is worthless: keep messages briefly (SQS minimum 60 s). */
  readonly retentionSeconds?: number;
  readonly visibilityTimeoutSeconds?: number;
}

export interface RegionQueues {
  readonly url: string;
  readonly deadLetterUrl: string;
}

/** Creates (or finds, CreateQueue is idempotent) each region's inbox and dead-letter queue. */
export async function ensureQueues(client: SqsClientLike, regions: readonly string[], options: EnsureQueuesOptions = {}): Promise<Map<string, RegionQueues>> {
  const prefix = options.prefix ?? DEFAULT_QUEUE_PREFIX;
  const out = new Map<string, RegionQueues>();
  for (const region of regions) {
    const dlq = await client.send(
      new CreateQueueCommand({ QueueName: deadLetterQueueName(region, prefix), Attributes: { MessageRetentionPeriod: String(14 * 24 * 3600) } }),
    );
    const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }));
    const arn = attrs.Attributes?.QueueArn;
    if (!dlq.QueueUrl || !arn) throw new Error(`could not create the dead-letter queue of region ${region}`);
    const inbox = await client.send(
      new CreateQueueCommand({
        QueueName: inboxQueueName(region, prefix),
        Attributes: {
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: options.maxReceiveCount ?? 5 }),
          MessageRetentionPeriod: String(options.retentionSeconds ?? 300),
          VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
        },
      }),
    );
    if (!inbox.QueueUrl) throw new Error(`could not create the inbox of region ${region}`);
    out.set(region, { url: inbox.QueueUrl, deadLetterUrl: dlq.QueueUrl });
  }
  return out;
}

/** Deletes regions' inbox and dead-letter queues; missing ones are fine. */
export async function deleteQueues(client: SqsClientLike, regions: readonly string[], prefix = DEFAULT_QUEUE_PREFIX): Promise<void> {
  for (const region of regions) {
    for (const name of [inboxQueueName(region, prefix), deadLetterQueueName(region, prefix)]) {
      try {
        const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }));
        if (QueueUrl) await client.send(new DeleteQueueCommand({ QueueUrl }));
      } catch (e) {
        if (!(e instanceof QueueDoesNotExist)) throw e;
      }
    }
  }
}

/** An SQS client for the environment (AWS_ENDPOINT_URL points it at moto or LocalStack). */
export function sqsClientFromEnv(env: NodeJS.ProcessEnv = process.env, awsRegion?: string): SQSClient {
  const cfg = awsClientConfig(env);
  return new SQSClient({ ...cfg, ...(awsRegion ? { region: awsRegion } : {}) });
}
