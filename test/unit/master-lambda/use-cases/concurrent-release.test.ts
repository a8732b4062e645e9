import { expect, it } from 'vitest';
import type { Offer } from '../../../../src/core/offer.js';
import { EMPTY, format, resources } from '../../../../src/core/resources.js';
import type { AgentId, FrameworkId, OfferId } from '../../../../src/core/ids.js';
import { silentLogger } from '../../../../src/core/logger.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { releaseOffers } from '../../../../src/master-lambda/use-cases/release-offers.js';
import type { Item, ItemKey } from '../../../../src/state/item-store.js';
import { keys } from '../../../../src/state/keys.js';
import { MemoryItemStore } from '../../../../src/state/memory-item-store.js';
import { agent } from '../../../contract/state/registry.contract.js';

// Releasing offers reads the offers, then their agent. When another writer consumes the offers
// in between (an ACCEPT, a DECLINE on another master), the agent's `offered` no longer holds
// them: that is a lost race to retry on fresh reads, not an error (it used to fail a new
// leader's voiding of the old epoch's offers with InsufficientResourcesError).

/** Runs `between` once, just before the agent is first read. */
class RacingStore extends MemoryItemStore {
  between: (() => Promise<void>) | undefined;
  override async get(key: ItemKey): Promise<Item | undefined> {
    if (key.pk === keys.agent('a1').pk && this.between) {
      const run = this.between;
      this.between = undefined;
      await run();
    }
    return super.get(key);
  }
}

it('retries when the offers are consumed between reading them and reading their agent', async () => {
  const store = new RacingStore();
  const master = new Master({ store, log: silentLogger });
  const registry = master.registry;
  const offered = resources({ cpus: 2, mem: 1024 });
  const offer: Offer = {
    id: 'o1' as OfferId,
    frameworkId: 'f1' as FrameworkId,
    agentId: 'a1' as AgentId,
    hostname: 'a1.local',
    role: '*',
    resources: offered,
    attributes: {},
    epoch: 1,
    createdAt: 0,
    expiresAt: 60_000,
  };
  await registry.transaction().putAgent(agent('a1', { offered }), 'absent').putOffer(offer).commit();
  // The concurrent writer: consumes the offer and the agent's `offered` with it.
  store.between = async () => {
    const a = (await registry.getAgent('a1'))!;
    await registry.transaction().deleteOffer('o1').putAgent({ ...a, offered: EMPTY }, { version: a.version }).commit();
  };
  await expect(releaseOffers(master.ctx, [offer], { rescind: true })).resolves.toBe(0);
  expect(format((await registry.getAgent('a1'))!.offered)).toBe(format(EMPTY));
  expect(await registry.getOffer('o1')).toBeUndefined();
});
