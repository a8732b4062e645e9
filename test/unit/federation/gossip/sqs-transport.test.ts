import { GetQueueUrlCommand, ReceiveMessageCommand, SendMessageBatchCommand, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { planBatches } from '../../../../src/federation/gossip/batching.js';
import { awsRegionOfQueueUrl, inboxQueueName, type SqsClientLike } from '../../../../src/federation/gossip/sqs-queues.js';
import { SqsGossipTransport } from '../../../../src/federation/gossip/sqs-transport.js';

// The SQS adapter's request shapes against a recording fake; the real queues are exercised
// by the moto integration test.

type Sent = { name: string; input: Record<string, unknown> };

function fakeClient(answer: (name: string, input: Record<string, unknown>) => unknown = () => ({})): { client: SqsClientLike; sent: Sent[] } {
  const sent: Sent[] = [];
  const client = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }, opts?: { abortSignal?: AbortSignal }) => {
      sent.push({ name: cmd.constructor.name, input: cmd.input });
      if (cmd instanceof GetQueueUrlCommand) return { QueueUrl: `http://sqs.local/000/${String(cmd.input.QueueName)}` };
      if (opts?.abortSignal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
      return answer(cmd.constructor.name, cmd.input);
    },
  } as unknown as SqsClientLike;
  return { client, sent };
}

describe('SQS gossip transport', () => {
  it('sends one SendMessageBatch per peer per round, to each peer inbox by name', async () => {
    const { client, sent } = fakeClient();
    const t = new SqsGossipTransport({ region: 'a', client });
    const r = await t.send(['b', 'c', 'd'].map((to) => ({ to, body: `digest for ${to}` })));
    const batches = sent.filter((s) => s.name === SendMessageBatchCommand.name);
    expect(batches.map((b) => [b.input.QueueUrl, (b.input.Entries as unknown[]).length])).toEqual([
      [`http://sqs.local/000/${inboxQueueName('b')}`, 1],
      [`http://sqs.local/000/${inboxQueueName('c')}`, 1],
      [`http://sqs.local/000/${inboxQueueName('d')}`, 1],
    ]);
    expect(r).toMatchObject({ messages: 3, requests: 3, failed: [] });
    // Queue URLs are looked up once.
    await t.send([{ to: 'b', body: 'x' }]);
    expect(sent.filter((s) => s.name === GetQueueUrlCommand.name)).toHaveLength(3);
  });

  it('batches up to 10 messages and 256 KiB per request', () => {
    const many = Array.from({ length: 25 }, (_, i) => ({ to: 'b', body: `m${i}` }));
    expect(planBatches(many).map((b) => b.messages.length)).toEqual([10, 10, 5]);
    const big = Array.from({ length: 3 }, () => ({ to: 'b', body: 'x'.repeat(100 * 1024) }));
    expect(planBatches(big).map((b) => b.messages.length)).toEqual([2, 1]);
    expect(planBatches([...many.slice(0, 3), { to: 'c', body: 'y' }]).map((b) => [b.to, b.messages.length])).toEqual([
      ['b', 3],
      ['c', 1],
    ]);
  });

  it('reports failed entries and failed requests without throwing', async () => {
    const { client } = fakeClient((name, input) =>
      name === SendMessageBatchCommand.name && String(input.QueueUrl).endsWith('-c')
        ? Promise.reject(new Error('AccessDenied'))
        : { Failed: [{ Id: 'm0', Code: 'InternalError', Message: 'try again', SenderFault: false }] },
    );
    const r = await new SqsGossipTransport({ region: 'a', client }).send([
      { to: 'b', body: '1' },
      { to: 'c', body: '2' },
    ]);
    expect(r.failed).toEqual([
      { to: 'b', error: 'InternalError: try again' },
      { to: 'c', error: 'AccessDenied' },
    ]);
  });

  it('long-polls its own inbox and deletes in batches of 10', async () => {
    const { client, sent } = fakeClient((name) =>
      name === ReceiveMessageCommand.name
        ? { Messages: [{ MessageId: 'i1', ReceiptHandle: 'h1', Body: 'b1', Attributes: { ApproximateReceiveCount: '3' } }, { MessageId: 'broken' }] }
        : {},
    );
    const t = new SqsGossipTransport({ region: 'a', client });
    const got = await t.receive({ waitMs: 1_500, maxMessages: 10 });
    expect(got).toEqual([{ id: 'i1', body: 'b1', handle: 'h1', receiveCount: 3 }]);
    const rx = sent.find((s) => s.name === ReceiveMessageCommand.name)!;
    expect(rx.input).toMatchObject({ QueueUrl: `http://sqs.local/000/${inboxQueueName('a')}`, WaitTimeSeconds: 2, MaxNumberOfMessages: 10 });
    await t.ack(Array.from({ length: 12 }, (_, i) => ({ id: `i${i}`, body: '', handle: `h${i}`, receiveCount: 1 })));
    expect(sent.filter((s) => s.name === DeleteMessageBatchCommand.name).map((s) => (s.input.Entries as unknown[]).length)).toEqual([10, 2]);
    expect(t.requests).toEqual({ send: 0, receive: 1, delete: 2 });
  });

  it('returns nothing when a receive is aborted (stop)', async () => {
    const { client } = fakeClient();
    const abort = new AbortController();
    abort.abort();
    expect(await new SqsGossipTransport({ region: 'a', client }).receive({ waitMs: 20_000, maxMessages: 10, signal: abort.signal })).toEqual([]);
  });

  it('names queues and reads AWS regions from queue URLs', () => {
    expect(inboxQueueName('eu-west-1', 'p')).toBe('p-eu-west-1');
    expect(() => inboxQueueName('bad/name')).toThrow(/malformed/);
    expect(awsRegionOfQueueUrl('https://sqs.eu-west-1.amazonaws.com/123/q')).toBe('eu-west-1');
    expect(awsRegionOfQueueUrl('http://127.0.0.1:4566/123/q')).toBeUndefined();
  });
});
