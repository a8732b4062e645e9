import type { Logger } from '../../core/logger.js';
import type { Notifier, Topic } from '../notifier.js';

// Behind API Gateway the agents' connections are not this process's: a change to an agent's
// work (every use case that makes one notifies `agent:<id>`) is collected during the
// invocation and pushed at its end, after the commits, as a work nudge to the agent's
// connection (AgentSocketHandlers.nudge, through the Management API). Like TickTriggerNotifier.

export class AgentPushNotifier implements Notifier {
  private readonly agents = new Set<string>();
  private sink: ((agentId: string) => Promise<void>) | undefined;

  constructor(
    private readonly inner: Notifier,
    private readonly log: Logger,
  ) {}

  /** Where the nudges go (set once the master, whose registry it reads, exists). */
  attach(sink: (agentId: string) => Promise<void>): void {
    this.sink = sink;
  }

  notify(topic: Topic): void {
    this.inner.notify(topic);
    if (topic.startsWith('agent:')) this.agents.add(topic.slice('agent:'.length));
  }

  wait(topic: Topic, ms: number, signal?: AbortSignal): Promise<void> {
    return this.inner.wait(topic, ms, signal);
  }

  subscribe(topic: Topic, fn: () => void): () => void {
    return this.inner.subscribe(topic, fn);
  }

  /** Sends the nudges collected so far (Lambda freezes the process after the response). */
  async flush(): Promise<void> {
    const agents = [...this.agents];
    this.agents.clear();
    const sink = this.sink;
    if (sink === undefined || agents.length === 0) return;
    await Promise.all(agents.map((id) => sink(id).catch((e: unknown) => this.log.warn('could not push a work nudge', { agentId: id, error: e }))));
  }
}
