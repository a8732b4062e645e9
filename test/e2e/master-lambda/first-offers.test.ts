import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { CredentialAuthenticator, hashSecret, hashToken } from '../../../src/http/credentials.js';
import { startLocalServer, type RunningServer } from '../../../src/master-lambda/local-server.js';
import { Master } from '../../../src/master-lambda/master.js';
import type { WriteOp } from '../../../src/state/item-store.js';
import { keys } from '../../../src/state/keys.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { frameworkInfo, StreamingFramework, type Json } from '../../support/scheduler-client.js';
import { TestAgent } from '../../support/test-agent.js';
import { waitUntil } from '../../support/wait.js';

// The first framework to subscribe, alone, under authentication, is offered the agents that
// are already registered: no second framework, no other state change needed. And an offer
// the leader makes right after the subscription is stored, before its stream has started,
// still reaches that stream (the stream starts at the log head read before the framework
// became offerable, not after).

const basic = (user: string, secret: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}` });
const FLEET = { Authorization: 'Bearer fleet-token' };
/** Bounded wait for the first offer: far above a round (debounce 50 ms), far below the offer timeout. */
const OFFER_WAIT_MS = 5_000;

/** Runs `afterFrameworkPut` once, right after the next transaction that writes a framework commits. */
class InterleavingStore extends MemoryItemStore {
  afterFrameworkPut: (() => Promise<void>) | undefined;
  override async transact(ops: readonly WriteOp[]): Promise<void> {
    await super.transact(ops);
    const hook = this.afterFrameworkPut;
    if (hook && ops.some((op) => op.op === 'put' && op.item.pk.startsWith('FRAMEWORK#') && op.item.sk === keys.framework('x').sk)) {
      this.afterFrameworkPut = undefined;
      await hook();
    }
  }
}

describe('offers to the first framework under authentication', () => {
  let master: Master | undefined;
  let server: RunningServer | undefined;
  const agents: TestAgent[] = [];
  const frameworks: StreamingFramework[] = [];

  afterEach(async () => {
    for (const f of frameworks.splice(0)) f.close();
    for (const a of agents.splice(0)) await a.stop();
    await master?.stop();
    await server?.close();
    master = server = undefined;
  });

  async function start(principalRoles: string[] | undefined, store = new MemoryItemStore(), allocationIntervalMs = 100): Promise<string> {
    const auth = new CredentialAuthenticator({
      principals: [
        { name: 'team-a', kind: 'framework', secret_hash: hashSecret('secret-a'), ...(principalRoles ? { roles: principalRoles } : {}) },
        { name: 'fleet', kind: 'agent', token_hash: hashToken('fleet-token') },
      ],
    });
    master = new Master({ store, log: silentLogger, authenticator: auth, config: { allocationIntervalMs, pollIntervalMs: 50 } });
    server = await startLocalServer(master, { port: 0 });
    master.start();
    return server.url;
  }
  const agent = async (url: string): Promise<TestAgent> => {
    const a = await new TestAgent({ master: url, hostname: `h${agents.length}`, cpus: 2, mem: 1024, headers: FLEET }).start();
    agents.push(a);
    return a;
  };
  const framework = async (url: string, info: Json): Promise<StreamingFramework> => {
    const f = await new StreamingFramework(url, basic('team-a', 'secret-a')).subscribe(frameworkInfo('A', info));
    frameworks.push(f);
    return f;
  };

  const cases: { name: string; principalRoles?: string[]; info: Json; role: string; agentFirst: boolean }[] = [
    { name: "roles ['a'], a principal allowed only 'a', agent registered first", principalRoles: ['a'], info: { roles: ['a'] }, role: 'a', agentFirst: true },
    { name: "roles ['a'], a principal allowed 'a' and 'b', agent registered first", principalRoles: ['a', 'b'], info: { roles: ['a'] }, role: 'a', agentFirst: true },
    { name: "default role '*', an unrestricted principal, agent registered first", info: {}, role: '*', agentFirst: true },
    { name: "roles ['a'], a principal allowed only 'a', agent registered after", principalRoles: ['a'], info: { roles: ['a'] }, role: 'a', agentFirst: false },
  ];
  for (const c of cases) {
    it(`offers the lone framework the agent: ${c.name}`, async () => {
      const url = await start(c.principalRoles);
      let registered: TestAgent | undefined;
      if (c.agentFirst) registered = await agent(url);
      const f = await framework(url, c.info);
      if (!c.agentFirst) registered = await agent(url);
      const offer = await f.nextOffer(0, OFFER_WAIT_MS);
      expect(offer.agent_id.value).toBe(registered!.agentId);
      expect(offer.allocation_info?.role).toBe(c.role);
    });
  }

  it('delivers an offer the leader stores between the subscription and the start of its stream', async () => {
    const store = new InterleavingStore();
    // Rounds come only when the test or a state change asks for one.
    const url = await start(['a'], store, 3_600_000);
    await waitUntil(() => master!.lease.isLeader(), OFFER_WAIT_MS, 'the master to lead');
    await agent(url);
    await waitUntil(() => master!.leader.stats.rounds > 0, OFFER_WAIT_MS, 'the round after the agent registered');
    // Right after SUBSCRIBE stores the framework, as connected, and before it answers: a round
    // (another process's leader, a DynamoDB latency apart) offers it the agent.
    store.afterFrameworkPut = () => master!.leader.runOnce();
    const f = await framework(url, { roles: ['a'] });
    expect(store.afterFrameworkPut).toBeUndefined(); // the round ran inside the subscription
    expect(await master!.registry.listOffersByFramework(f.frameworkId)).toHaveLength(1);
    const offer = await f.nextOffer(0, OFFER_WAIT_MS);
    expect(offer.allocation_info?.role).toBe('a');
  });
});
