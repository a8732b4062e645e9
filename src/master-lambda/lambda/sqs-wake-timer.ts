import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { awsClientConfig } from '../../state/aws-config.js';
import type { WakeTimer } from '../wake-timer.js';

// The reactor's timer in a deployed region: an SQS message delayed until the due time; the
// queue triggers the reactor function. SQS delays at most 15 minutes: a message due later
// re-arms itself when it arrives (`timerMessageDue` says which). Messages cannot be recalled,
// so one armed for a time that no longer matters still wakes the reactor once, for a pass that
// finds nothing due; within one container a later time is not armed while an earlier one is pending.

export const MAX_DELAY_SECONDS = 900;

const timerMessage = z.object({ due: z.number().finite() });

/** The due time a timer message carries (undefined when the body is not one of ours). */
export function timerMessageDue(body: string): number | undefined {
  try {
    const parsed = timerMessage.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data.due : undefined;
  } catch {
    return undefined;
  }
}

export class SqsWakeTimer implements WakeTimer {
  /** The earliest wake-up this container has armed and not yet seen pass. */
  private armed: number | undefined;
  sent = 0;

  constructor(
    private readonly queueUrl: string,
    private readonly client: SQSClient = new SQSClient(awsClientConfig()),
    private readonly now: () => number = Date.now,
  ) {}

  async arm(at: number): Promise<void> {
    if (!Number.isFinite(at)) return;
    const now = this.now();
    if (this.armed !== undefined && this.armed > now && this.armed <= at) return;
    const DelaySeconds = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((at - now) / 1000)));
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, DelaySeconds, MessageBody: JSON.stringify({ due: at }) }));
    this.sent++;
    this.armed = at;
  }
}
