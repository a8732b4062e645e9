import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { planBatches } from './batching.js';
import type { GossipTransport, IncomingMessage, OutgoingMessage, ReceiveOptions, SendResult } from './transport.js';
import { awsRegionOfQueueUrl, QueueDirectory, sqsClientFromEnv, type SqsClientLike } from './sqs-queues.js';

// The SQS adapter: a round's digests go to each peer's inbox in SendMessageBatch calls (one per
// peer per round: a digest is one entry, and later message kinds would share the batch), and
// the region long-polls its own inbox. A message is deleted only after it was processed, so a
// receiver that fails midway leaves it for redelivery (and, after N tries, the dead-letter queue).

const MAX_WAIT_SECONDS = 20;

export interface SqsTransportOptions {
  /** This region: its inbox is the one received from. */
  readonly region: string;
  readonly client?: SqsClientLike;
  readonly directory?: QueueDirectory;
  /**
   * The client for a queue URL. By default a queue in another AWS region gets a client of its
   * own region (SigV4 signs per region); everything else uses `client`.
   */
  readonly clientForQueue?: (url: string) => SqsClientLike;
}

function isAbort(e: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (e as { name?: string }).name === 'AbortError';
}

export class SqsGossipTransport implements GossipTransport {
  readonly region: string;
  readonly directory: QueueDirectory;
  /** SQS calls made, by kind, for the benchmark and tests. */
  readonly requests = { send: 0, receive: 0, delete: 0 };
  private readonly client: SqsClientLike;
  private readonly clientForQueue: (url: string) => SqsClientLike;
  private readonly regionalClients = new Map<string, SqsClientLike>();

  constructor(options: SqsTransportOptions) {
    this.region = options.region;
    this.client = options.client ?? sqsClientFromEnv();
    this.directory = options.directory ?? new QueueDirectory(this.client);
    this.clientForQueue = options.clientForQueue ?? ((url) => this.defaultClientFor(url));
  }

  private defaultClientFor(url: string): SqsClientLike {
    const awsRegion = awsRegionOfQueueUrl(url);
    if (!awsRegion || process.env.AWS_ENDPOINT_URL) return this.client;
    let c = this.regionalClients.get(awsRegion);
    if (!c) this.regionalClients.set(awsRegion, (c = sqsClientFromEnv(process.env, awsRegion)));
    return c;
  }

  async send(messages: readonly OutgoingMessage[]): Promise<SendResult> {
    const failed: { to: string; error: string }[] = [];
    let bytes = 0;
    const batches = planBatches(messages);
    await Promise.all(
      batches.map(async (b) => {
        bytes += b.bytes;
        try {
          const url = await this.directory.urlOf(b.to);
          this.requests.send++;
          const out = await this.clientForQueue(url).send(
            new SendMessageBatchCommand({ QueueUrl: url, Entries: b.messages.map((m, i) => ({ Id: `m${i}`, MessageBody: m.body })) }),
          );
          for (const f of out.Failed ?? []) failed.push({ to: b.to, error: `${f.Code ?? 'error'}: ${f.Message ?? ''}`.trim() });
        } catch (e) {
          for (let i = 0; i < b.messages.length; i++) failed.push({ to: b.to, error: (e as Error).message });
        }
      }),
    );
    return { messages: messages.length, requests: batches.length, bytes, failed };
  }

  async receive(options: ReceiveOptions): Promise<IncomingMessage[]> {
    if (options.signal?.aborted) return [];
    const url = await this.directory.urlOf(this.region);
    this.requests.receive++;
    try {
      const out = await this.clientForQueue(url).send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: Math.min(10, Math.max(1, options.maxMessages)),
          WaitTimeSeconds: Math.min(MAX_WAIT_SECONDS, Math.max(0, Math.ceil(options.waitMs / 1000))),
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
        options.signal ? { abortSignal: options.signal } : {},
      );
      return (out.Messages ?? []).flatMap((m) =>
        m.MessageId && m.ReceiptHandle && m.Body !== undefined
          ? [{ id: m.MessageId, body: m.Body, handle: m.ReceiptHandle, receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1) }]
          : [],
      );
    } catch (e) {
      if (isAbort(e, options.signal)) return [];
      throw e;
    }
  }

  async ack(messages: readonly IncomingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const url = await this.directory.urlOf(this.region);
    const client = this.clientForQueue(url);
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      this.requests.delete++;
      // A failed delete only means a redelivery, which the (incarnation, seq) order makes harmless.
      await client.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: chunk.map((m, j) => ({ Id: `d${j}`, ReceiptHandle: m.handle })) }));
    }
  }
}
