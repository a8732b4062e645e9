import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimAgent, type SimAgentCall, type SimAgentTransport } from '../../../bench/sim-agent.js';
import { advanceUntil } from '../../support/wait.js';

// The benchmarks' simulated agent against a scripted master: a short task (autoFinish) ends once
// its RUNNING is acknowledged, whichever way the acknowledgement reaches the agent first.

interface Update {
  readonly task_id: string;
  readonly state: string;
  readonly uuid: string;
}

/** A master that launches one task, answers status updates as told, and holds the work carrying acks until released. */
class ScriptedMaster implements SimAgentTransport {
  readonly updates: Update[] = [];
  /** uuids the framework has acknowledged: a resend of one is answered `acknowledged`. */
  readonly acked = new Set<string>();
  private works = 0;
  private releaseAcks: ((acks: readonly Update[]) => void) | undefined;

  async call(action: SimAgentCall, _agentId: string | undefined, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    if (action === 'register') return { status: 200, json: { agent_id: 'a1', session: 's1', heartbeat_interval_seconds: 15 } };
    if (action === 'heartbeat') return { status: 200, json: {} };
    if (action === 'status') {
      const us = (body as { updates: Update[] }).updates;
      this.updates.push(...us);
      return { status: 200, json: { results: us.map((u) => ({ uuid: u.uuid, result: this.acked.has(u.uuid) ? 'acknowledged' : 'applied' })) } };
    }
    this.works++;
    if (this.works === 1) return { status: 200, json: { version: 1, launch: [{ framework_id: 'f1', task_id: 't1', resources: { cpus: 250 } }], kill: [], acks: [] } };
    const acks = await new Promise<readonly Update[]>((ok) => (this.releaseAcks = ok));
    return { status: 200, json: { version: this.works, launch: [], kill: [], acks: acks.map((a) => ({ framework_id: 'f1', task_id: a.task_id, uuid: a.uuid })) } };
  }

  /** The work poll in flight answers with these acks. */
  deliverAcks(acks: readonly Update[]): boolean {
    if (!this.releaseAcks) return false;
    this.releaseAcks(acks);
    this.releaseAcks = undefined;
    return true;
  }

  sent(state: string): Update[] {
    return this.updates.filter((u) => u.state === state);
  }

  close(): void {}
}

describe('SimAgent (autoFinish)', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('ends a task when the resend of its RUNNING is answered acknowledged before the work brings the ack', async () => {
    const master = new ScriptedMaster();
    const agent = await new SimAgent('http://unused', 'h1', 'a', 4, 4096, { transport: master, autoFinish: true }).start();
    await advanceUntil(() => master.sent('TASK_RUNNING').length === 1, 1_000, 'RUNNING sent');
    const running = master.sent('TASK_RUNNING')[0]!;
    // The framework acknowledged RUNNING; the work carrying that ack is slow, so the 10 s resend comes first.
    master.acked.add(running.uuid);
    await advanceUntil(() => master.sent('TASK_FINISHED').length === 1, 20_000, 'FINISHED sent after the acknowledged resend');
    expect(master.sent('TASK_RUNNING')).toHaveLength(2);

    // The ack arrives afterwards: the task has already ended, and it ends once.
    await advanceUntil(() => master.deliverAcks([running]), 1_000, 'a work poll to hold');
    await advanceUntil(() => master.deliverAcks([]), 1_000, 'the next work poll');
    expect(master.sent('TASK_FINISHED')).toHaveLength(1);
    await agent.stop();
  });

  it('ends a task when the work brings the ack of its RUNNING', async () => {
    const master = new ScriptedMaster();
    const agent = await new SimAgent('http://unused', 'h1', 'a', 4, 4096, { transport: master, autoFinish: true }).start();
    await advanceUntil(() => master.sent('TASK_RUNNING').length === 1, 1_000, 'RUNNING sent');
    const running = master.sent('TASK_RUNNING')[0]!;
    await advanceUntil(() => master.deliverAcks([running]), 1_000, 'a work poll to hold');
    await advanceUntil(() => master.sent('TASK_FINISHED').length === 1, 1_000, 'FINISHED sent');
    expect(master.sent('TASK_RUNNING')).toHaveLength(1);
    await agent.stop();
  });
});
