import type { SQSClient } from '@aws-sdk/client-sqs';
import { expect, it } from 'vitest';
import { silentLogger } from '../../../../src/core/logger.js';
import { react } from '../../../../src/master-lambda/lambda/leader-reactor.js';
import { MAX_DELAY_SECONDS, SqsWakeTimer, timerMessageDue } from '../../../../src/master-lambda/lambda/sqs-wake-timer.js';
import { LeaderReactor } from '../../../../src/master-lambda/leader-reactor.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { registerAgent } from '../../../../src/master-lambda/use-cases/agent-register.js';
import { MemoryItemStore } from '../../../../src/state/memory-item-store.js';

// The reactor's Lambda event handling: DynamoDB stream records wake it only when they matter;
// a timer message wakes it when due and is passed on when it is further out than SQS can delay.

function fakeSqs(): { client: SQSClient; sent: { DelaySeconds?: number; MessageBody?: string; QueueUrl?: string }[] } {
  const sent: { DelaySeconds?: number; MessageBody?: string; QueueUrl?: string }[] = [];
  const client = { send: async (cmd: { input: (typeof sent)[number] }) => void sent.push(cmd.input) } as unknown as SQSClient;
  return { client, sent };
}

it('delays a wake-up by at most 15 minutes, and does not re-arm a later time while an earlier one is pending', async () => {
  let now = 1_000_000;
  const { client, sent } = fakeSqs();
  const timer = new SqsWakeTimer('https://sqs/q', client, () => now);
  await timer.arm(now + 2_500);
  await timer.arm(now + 10_000); // later: the pending one wakes the reactor first, which re-arms
  await timer.arm(now + 3_600_000); // an hour out, after the first has passed
  expect(sent).toHaveLength(1);
  now += 3_000;
  await timer.arm(now + 3_600_000);
  await timer.arm(now + 1_000); // earlier than what is pending: armed
  expect(sent.map((s) => s.DelaySeconds)).toEqual([3, MAX_DELAY_SECONDS, 1]);
  expect(sent.map((s) => timerMessageDue(s.MessageBody!))).toEqual([1_002_500, now + 3_600_000, now + 1_000]);
  expect(timerMessageDue('not json')).toBeUndefined();
  expect(timerMessageDue('{"due":"soon"}')).toBeUndefined();
});

it('runs a pass for a stream batch that matters or a due timer, none for the rest, and re-arms a far timer', async () => {
  const store = new MemoryItemStore();
  const m = new Master({ store, holderId: 'lambda', log: silentLogger });
  const arms: number[] = [];
  const timer = { arm: async (at: number) => void arms.push(at) };
  const reactor = new LeaderReactor(m.ctx, m.lease, m.leader, { timer, releaseAfterPass: true });
  const now = Date.now();
  const sqs = (due: number) => ({ eventSource: 'aws:sqs', body: JSON.stringify({ due }) });
  const ddb = (pk: string, sk: string, image?: Record<string, unknown>) => ({
    eventSource: 'aws:dynamodb',
    eventName: image ? 'MODIFY' : 'REMOVE',
    dynamodb: { Keys: { pk: { S: pk }, sk: { S: sk } }, SequenceNumber: '1', ...(image ? { NewImage: { pk: { S: pk }, sk: { S: sk }, v: { N: '2' }, d: { S: JSON.stringify(image) } } } : {}) },
  });

  expect(await react(reactor, timer, { Records: [ddb('LIVENESS#agent#a1', 'LIVENESS', { id: 'a1' }), ddb('LEASE#master', 'LEASE', {})] })).toMatchObject({ passes: 0 });
  expect(await react(reactor, timer, { Records: [sqs(now + 7_200_000)] }, () => now)).toEqual({ kind: 'timer', passes: 0, rearmed: 1, skipped: 0 });
  expect(arms).toEqual([now + 7_200_000]);

  // An agent registers: its stream record wakes the leader, which offers nothing yet (no framework) and hands the lease back.
  const r = await registerAgent(m.ctx, { hostname: 'h', resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] });
  expect(await react(reactor, timer, { Records: [ddb(`AGENT#${r.agent_id}`, 'AGENT', { id: r.agent_id })] })).toMatchObject({ kind: 'changes', passes: 1 });
  expect(await m.registry.getLease()).toEqual({ epoch: 1, holder: '' });
  expect(await react(reactor, timer, { Records: [sqs(now)] }, () => now)).toMatchObject({ kind: 'timer', passes: 1, rearmed: 0 });
  expect(await react(reactor, timer, { nothing: true })).toMatchObject({ kind: 'ignored', passes: 0 });
  expect(await react(reactor, timer, { Records: [{ eventSource: 'aws:sqs', body: 'junk' }] })).toMatchObject({ passes: 0, skipped: 1 });
  // A second invocation in the same term: no new epoch.
  expect((await m.registry.getLease()).epoch).toBe(1);
});
