import { expect, it } from 'vitest';
import type { Framework } from '../../../../src/core/framework.js';
import type { AgentId, FrameworkId, OfferId, StreamId } from '../../../../src/core/ids.js';
import type { Offer } from '../../../../src/core/offer.js';
import { format, resources } from '../../../../src/core/resources.js';
import { parseSchedulerCall } from '../../../../src/master-lambda/codec/scheduler-call.js';
import { silentLogger } from '../../../../src/core/logger.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { accept } from '../../../../src/master-lambda/use-cases/accept.js';
import type { Item, ItemKey } from '../../../../src/state/item-store.js';
import { keys } from '../../../../src/state/keys.js';
import { LeaderLease } from '../../../../src/state/leader-lease.js';
import { MemoryItemStore } from '../../../../src/state/memory-item-store.js';
import { agent } from '../../../contract/state/registry.contract.js';

// An agent whose tasks keep ending has its item rewritten all the time (its `allocated`). An
// ACCEPT on it must read the agent as late as it can: here every read of the task table is
// followed by such a rewrite, and the ACCEPT still launches, at the first attempt.

class ChurningStore extends MemoryItemStore {
  churn: (() => Promise<void>) | undefined;
  agentReads = 0;
  private queue: Promise<void> = Promise.resolve();
  override async get(key: ItemKey): Promise<Item | undefined> {
    const item = await super.get(key);
    if (key.pk === keys.agent('a1').pk && key.sk === 'AGENT') this.agentReads++;
    // One rewrite at a time (the task reads run in parallel), each after the read it follows.
    if (key.sk.startsWith('TASK#') && this.churn) await (this.queue = this.queue.then(this.churn));
    return item;
  }
}

it('launches on an agent whose item changes while the ACCEPT reads the task table', async () => {
  const store = new ChurningStore();
  const master = new Master({ store, log: silentLogger });
  const registry = master.registry;
  const lease = new LeaderLease(store, { holderId: 'm1', durationMs: 60_000 });
  expect(await lease.acquire()).toBe(true);
  const offered = resources({ cpus: 2, mem: 1024 });
  const framework: Framework = {
    id: 'f1' as FrameworkId,
    info: { name: 'fw', user: 'u', roles: ['*'], failoverTimeoutSeconds: 60, capabilities: [], checkpoint: false },
    streamId: 's1' as StreamId,
    connected: true,
    lastSeenAt: 0,
    registeredAt: 0,
    suppressedRoles: [],
  };
  const offer: Offer = {
    id: 'o1' as OfferId,
    frameworkId: framework.id,
    agentId: 'a1' as AgentId,
    hostname: 'a1.local',
    role: '*',
    resources: offered,
    attributes: {},
    epoch: lease.epoch!,
    createdAt: 0,
    expiresAt: Date.now() + 60_000,
  };
  await registry.transaction().putFramework(framework, 'absent').putAgent(agent('a1', { offered }), 'absent').putOffer(offer).commit();
  // Another task on the agent ends: its item is rewritten (here, its health flips).
  let rewrites = 0;
  store.churn = async () => {
    const a = (await registry.getAgent('a1'))!;
    await registry.transaction().putAgent({ ...a, health: rewrites++ % 2 ? undefined : { healthy: true } }, { version: a.version }).commit();
  };

  const call = parseSchedulerCall({
    type: 'ACCEPT',
    framework_id: { value: 'f1' },
    accept: {
      offer_ids: [{ value: 'o1' }],
      operations: [
        {
          type: 'LAUNCH',
          launch: {
            task_infos: ['t1', 't2'].map((t) => ({
              name: t,
              task_id: { value: t },
              agent_id: { value: 'a1' },
              resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } }],
              command: { value: 'true' },
            })),
          },
        },
      ],
    },
  });
  if (call.type !== 'ACCEPT') throw new Error('not an ACCEPT');
  const result = await accept(master.ctx, (await registry.getFramework('f1'))!, call);
  expect(result.launched).toEqual(['t1', 't2']);
  expect(rewrites).toBeGreaterThan(0);
  expect(store.agentReads - rewrites).toBe(1); // the ACCEPT read the agent once: no lost race, no retry
  const a = (await registry.getAgent('a1'))!;
  expect(format(a.allocated)).toBe(format(resources({ cpus: 1 })));
  expect(format(a.offered)).toBe(format(resources({ cpus: 0, mem: 0 })));
});
