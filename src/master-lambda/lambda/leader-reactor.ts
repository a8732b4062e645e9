import { z } from 'zod';
import { changesFromStreamRecords } from '../../state/dynamodb-change-feed.js';
import type { Master } from '../master.js';
import { LeaderReactor } from '../leader-reactor.js';
import type { WakeTimer } from '../wake-timer.js';
import { SqsWakeTimer, timerMessageDue } from './sqs-wake-timer.js';
import type { InvocationNotices } from './invocation-notices.js';
import { tickMaster } from './leader-tick.js';

// The leader in a deployed region: invoked by the table's stream (changes that matter, a short
// batching window, reserved concurrency 1) and by its timer queue (SQS delay messages), never
// on a schedule. Each invocation runs the passes its event asks for and hands the lease back
// cleanly, so the next invocation -- in this container or another -- goes on in the same term.

const lambdaEvent = z.object({ Records: z.array(z.object({ eventSource: z.string().optional(), body: z.string().optional() }).passthrough()) });

/** How early a timer message may arrive and still count as due (SQS delays are whole seconds). */
const EARLY_MS = 1_000;

export interface ReactorRun {
  readonly kind: 'changes' | 'timer' | 'ignored';
  readonly passes: number;
  readonly rearmed: number;
  readonly skipped: number;
}

/** One Lambda event for the reactor: stream records become changes; timer messages wake it or re-arm. */
export async function react(reactor: LeaderReactor, timer: WakeTimer, event: unknown, now: () => number = Date.now): Promise<ReactorRun> {
  const parsed = lambdaEvent.safeParse(event);
  if (!parsed.success) return { kind: 'ignored', passes: 0, rearmed: 0, skipped: 1 };
  const before = reactor.stats.passes;
  const records = parsed.data.Records;
  const stream = records.filter((r) => r.eventSource === 'aws:dynamodb');
  const messages = records.filter((r) => r.eventSource === 'aws:sqs');
  let rearmed = 0;
  let skipped = records.length - stream.length - messages.length;
  let wake = false;
  for (const m of messages) {
    const due = timerMessageDue(m.body ?? '');
    if (due === undefined) skipped++;
    else if (due > now() + EARLY_MS) {
      await timer.arm(due); // further out than one SQS delay: pass it on
      rearmed++;
    } else wake = true;
  }
  if (stream.length) {
    const { changes, skipped: bad } = changesFromStreamRecords(stream);
    skipped += bad;
    await reactor.onChanges(changes);
  }
  if (wake) await reactor.onTimer();
  await reactor.idle();
  const passes = reactor.stats.passes - before;
  return { kind: stream.length ? 'changes' : wake || rearmed ? 'timer' : 'ignored', passes, rearmed, skipped };
}

let built: Promise<{ master: Master; reactor: LeaderReactor; timer: WakeTimer; notices: InvocationNotices }> | undefined;

async function build(env: NodeJS.ProcessEnv): Promise<{ master: Master; reactor: LeaderReactor; timer: WakeTimer; notices: InvocationNotices }> {
  const queueUrl = env.STRATUS_TIMER_QUEUE_URL;
  if (!queueUrl) throw new Error('STRATUS_TIMER_QUEUE_URL is not set: the leader reactor needs its timer queue');
  // The same master as the tick's (federation gossip, the autoscaler waiting for its passes).
  const { master, notices } = await tickMaster(env);
  const timer = new SqsWakeTimer(queueUrl);
  const reactor = new LeaderReactor(master.ctx, master.lease, master.leader, { timer, releaseAfterPass: true });
  return { master, reactor, timer, notices };
}

export async function handler(event: unknown): Promise<ReactorRun> {
  built ??= build(process.env);
  const { reactor, timer, notices } = await built;
  try {
    return await react(reactor, timer, event);
  } finally {
    await notices.flush(); // agents whose work the passes changed (kills) are nudged
  }
}
