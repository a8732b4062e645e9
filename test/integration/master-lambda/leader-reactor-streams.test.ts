import { afterAll, expect, it } from 'vitest';
import type { Framework } from '../../../src/core/framework.js';
import type { FrameworkId, StreamId } from '../../../src/core/ids.js';
import { silentLogger } from '../../../src/core/logger.js';
import { parseSchedulerCall } from '../../../src/master-lambda/codec/scheduler-call.js';
import { LeaderReactor } from '../../../src/master-lambda/leader-reactor.js';
import { Master } from '../../../src/master-lambda/master.js';
import { accept } from '../../../src/master-lambda/use-cases/accept.js';
import { registerAgent } from '../../../src/master-lambda/use-cases/agent-register.js';
import { applyStatusUpdates } from '../../../src/master-lambda/use-cases/agent-status.js';
import { MemoryWakeTimer } from '../../../src/master-lambda/wake-timer.js';
import type { ChangeSubscription } from '../../../src/state/change-feed.js';
import { DynamoDbStreamFeed } from '../../../src/state/dynamodb-change-feed.js';
import { describeWith } from '../../support/components.js';
import { freshDynamoStore } from '../../support/dynamodb.js';
import { waitUntil } from '../../support/wait.js';

// The emulated cloud path: DynamoDB (moto) and its stream drive the reactor. Nothing time-driven
// falls due during the test (timeouts of ten minutes), so every pass is a change's doing.

const FW = 'fw-streams';
let sub: ChangeSubscription | undefined;
afterAll(async () => sub?.close());

await describeWith(['aws'], 'the leader reactor on DynamoDB Streams', () => {
  it('offers what a task frees when its end reaches the stream, without any timer firing', async () => {
    const store = await freshDynamoStore('reactor');
    const long = 600_000;
    const m = new Master({ store, holderId: 'reactor', log: silentLogger, config: { offerTimeoutMs: long, agentPingTimeoutMs: long, frameworkDisconnectMs: long } });
    const timer = new MemoryWakeTimer({ now: m.ctx.now });
    const reactor = new LeaderReactor(m.ctx, m.lease, m.leader, { timer, releaseAfterPass: true });
    timer.connect(() => void reactor.onTimer());
    sub = await new DynamoDbStreamFeed({ tableName: store.tableName, client: store.client, pollMs: 50 }).subscribe((batch) => void reactor.onChanges(batch));

    const framework: Framework = {
      id: FW as FrameworkId,
      info: { name: 'streams', user: 'u', roles: ['*'], failoverTimeoutSeconds: 600, capabilities: [], checkpoint: false },
      streamId: 's1' as StreamId,
      connected: true,
      lastSeenAt: 0,
      registeredAt: 0,
      suppressedRoles: [],
    };
    await m.registry.transaction().putFramework(framework, 'absent').commit();
    const { agent_id: agentId } = await registerAgent(m.ctx, { hostname: 'h1', resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 2 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 512 } }] });
    const [offer] = await waitUntil(async () => {
      const o = await m.registry.listOffers();
      return o.length ? o : undefined;
    }, 60_000, 'the first offer');
    const call = parseSchedulerCall({
      type: 'ACCEPT',
      framework_id: { value: FW },
      accept: {
        offer_ids: [{ value: offer!.id }],
        operations: [{ type: 'LAUNCH', launch: { task_infos: [{ name: 't', task_id: { value: 't1' }, agent_id: { value: agentId }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 2 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 512 } }], command: { value: 'true' } }] } }],
        filters: { refuse_seconds: 0 },
      },
    });
    if (call.type !== 'ACCEPT') throw new Error('not an ACCEPT');
    expect((await accept(m.ctx, (await m.registry.getFramework(FW))!, call)).launched).toEqual(['t1']);

    const agent = (await m.registry.getAgent(agentId))!;
    await applyStatusUpdates(m.ctx, agent, [{ framework_id: FW, task_id: 't1', state: 'TASK_FINISHED', uuid: 'u-finished', timestamp: Date.now() / 1000 }]);
    const [next] = await waitUntil(async () => {
      const o = await m.registry.listOffers();
      return o.length ? o : undefined;
    }, 60_000, 'the freed resources to be offered');
    expect(next!.resources.cpus).toBe(agent.total.cpus);
    expect(next!.id).not.toBe(offer!.id);
    await reactor.idle();
    expect(timer.fired).toBe(0);
    expect(reactor.stats.timerWakes).toBe(0);
    // Woken by the agent's registration (before the first offer) and by the task's end (before the next): the ACCEPT's change may share a batch with either.
    expect(reactor.stats.changeWakes).toBeGreaterThanOrEqual(2);
    expect((await m.registry.getLease()).epoch).toBe(1); // one term throughout, the lease handed back after every pass
  }, 180_000);
});
