import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { awsClientConfig } from '../../state/aws-config.js';
import type { Logger } from '../../core/logger.js';
import type { Notifier, Topic } from '../notifier.js';

// Behind API Gateway no process stays up to run allocation rounds, so a state change that
// needs one (a decline, a finished task, a new framework) invokes the tick Lambda
// asynchronously. At most one invocation per interval per container; the tick's reserved
// concurrency of 1 absorbs the rest.

export class TickTriggerNotifier implements Notifier {
  private last = 0;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly inner: Notifier,
    private readonly functionName: string,
    private readonly log: Logger,
    private readonly client: LambdaClient = new LambdaClient(awsClientConfig()),
    private readonly minIntervalMs = 1_000,
  ) {}

  notify(topic: Topic): void {
    this.inner.notify(topic);
    if (topic !== 'allocation') return;
    const now = Date.now();
    if (now - this.last < this.minIntervalMs) return;
    this.last = now;
    const p = this.client
      .send(new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: Buffer.from('{"source":"stratus.allocation"}') }))
      .catch((e: unknown) => this.log.warn('could not trigger the tick', { error: e, functionName: this.functionName }))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  wait(topic: Topic, ms: number, signal?: AbortSignal): Promise<void> {
    return this.inner.wait(topic, ms, signal);
  }

  subscribe(topic: Topic, fn: () => void): () => void {
    return this.inner.subscribe(topic, fn);
  }

  /** Lambda freezes the process after the response: send what is queued first. */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
