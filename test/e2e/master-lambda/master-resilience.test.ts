import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { Master, type MasterOptions } from '../../../src/master-lambda/master.js';
import { startLocalServer, type RunningServer } from '../../../src/master-lambda/local-server.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { frameworkInfo, launchCall, StreamingFramework } from '../../support/scheduler-client.js';
import { TestAgent } from '../../support/test-agent.js';
import { expectConsistentAccounting } from '../../support/accounting.js';
import { waitUntil } from '../../support/wait.js';

// Agent health, framework failover and drains, with short timeouts, through the HTTP API.

describe('master resilience', () => {
  let master: Master;
  let server: RunningServer;
  const agents: TestAgent[] = [];
  const frameworks: StreamingFramework[] = [];

  async function boot(config: MasterOptions['config'] = {}): Promise<void> {
    master = new Master({
      store: new MemoryItemStore(),
      log: silentLogger,
      config: {
        allocationIntervalMs: 100,
        pollIntervalMs: 50,
        agentPingTimeoutMs: 200,
        maxAgentPingTimeouts: 3,
        agentReregisterTimeoutMs: 2_000,
        frameworkDisconnectMs: 800,
        heartbeatIntervalSeconds: 1,
        ...config,
      },
    });
    server = await startLocalServer(master, { port: 0 });
    master.start();
  }

  async function agent(hostname: string): Promise<TestAgent> {
    const a = await new TestAgent({ master: server.url, hostname, heartbeatMs: 100, resendMs: 300 }).start();
    agents.push(a);
    return a;
  }

  async function framework(extra: Record<string, unknown> = {}, id?: string): Promise<StreamingFramework> {
    const f = await new StreamingFramework(server.url).subscribe(frameworkInfo('resilient', extra), id);
    frameworks.push(f);
    return f;
  }

  async function runTask(f: StreamingFramework, id: string): Promise<string> {
    const offer = await f.nextOffer();
    await f.call(launchCall(offer, [{ id, cpus: 1, mem: 64, command: 'run forever' }]));
    await f.waitForState(id, 'TASK_RUNNING');
    return offer.agent_id.value;
  }

  afterEach(async () => {
    for (const f of frameworks.splice(0)) f.close();
    for (const a of agents.splice(0)) await a.stop();
    await master.stop();
    await server.close();
    await expectConsistentAccounting(master.registry);
  });

  it('marks a silent agent UNREACHABLE within the ping timeout, and RUNNING again when it returns', async () => {
    await boot();
    const a = await agent('flaky');
    const f = await framework({ capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }] });
    await runTask(f, 'survivor');
    const offerBefore = await f.nextOffer(f.events.length - 1, 2_000).catch(() => undefined); // leftover resources are offered
    const stoppedAt = Date.now();
    await a.stop();
    const unreachable = await f.waitFor((e) => e.type === 'UPDATE' && e.update!.status.state === 'TASK_UNREACHABLE', 10_000);
    const took = Date.now() - stoppedAt;
    expect(took).toBeGreaterThanOrEqual(500); // 200 ms × 3, less a little scheduling
    expect(took).toBeLessThan(3_000);
    expect(unreachable.event.update!.status.reason).toBe('REASON_AGENT_DISCONNECTED');
    if (offerBefore) expect(f.events.some((e) => e.type === 'RESCIND' && e.rescind!.offer_id.value === offerBefore.id.value)).toBe(true);
    expect((await master.registry.getAgent(a.agentId!))?.reachability).toBe('UNREACHABLE');

    await a.start(); // reregisters with the same id and reports the task still running
    const back = await f.waitFor((e) => e.type === 'UPDATE' && e.update!.status.state === 'TASK_RUNNING' && e.update!.status.reason === 'REASON_AGENT_REREGISTERED', 10_000, unreachable.index);
    expect(back.event.update!.status.task_id.value).toBe('survivor');
    expect((await master.registry.getAgent(a.agentId!))?.reachability).toBe('REACHABLE');
  });

  it('removes an agent gone past the reregister timeout: tasks GONE, and a late return is told to kill them', async () => {
    await boot({ agentReregisterTimeoutMs: 800 });
    const a = await agent('lost');
    const f = await framework({ capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }] });
    const agentId = await runTask(f, 'doomed');
    await a.stop();
    await f.waitFor((e) => e.type === 'UPDATE' && e.update!.status.state === 'TASK_UNREACHABLE', 10_000);
    const gone = await f.waitFor((e) => e.type === 'UPDATE' && e.update!.status.state === 'TASK_GONE', 10_000);
    expect(gone.event.update!.status.reason).toBe('REASON_AGENT_REMOVED');
    await f.waitFor((e) => e.type === 'FAILURE' && (e as { failure?: { agent_id: { value: string } } }).failure?.agent_id.value === agentId, 5_000);
    expect((await master.registry.getAgent(agentId))?.reachability).toBe('GONE');
    // The agent comes back late: it gets a new id and kills the task it still ran.
    expect(a.states.get(`${f.frameworkId}/doomed`)).toBe('TASK_RUNNING');
    await a.start();
    expect(a.agentId).not.toBe(agentId);
    expect(a.states.get(`${f.frameworkId}/doomed`)).toBe('TASK_KILLED');
    expect((await master.registry.getTask(f.frameworkId, 'doomed'))?.state).toBe('GONE');
  });

  it('keeps a disconnected framework\'s tasks until its failover timeout, and continues on resubscription', async () => {
    await boot();
    await agent('a1');
    const f = await framework({ failover_timeout: 5 });
    await runTask(f, 'kept');
    f.close();
    await waitUntil(async () => (await master.registry.getFramework(f.frameworkId))?.connected === false, 5_000);
    // The leader checks failover timeouts every round: several go by, and the task stays.
    const rounds = master.leader.stats.rounds;
    await waitUntil(() => master.leader.stats.rounds >= rounds + 5, 10_000, 'five allocation rounds');
    const again = await framework({ failover_timeout: 5 }, f.frameworkId);
    expect(again.frameworkId).toBe(f.frameworkId);
    await again.call({ type: 'RECONCILE', reconcile: { tasks: [] } });
    // Updates the old stream had not acknowledged may come again first (as in Mesos): the
    // reconciliation answer is the one that says REASON_RECONCILIATION.
    const r = await again.waitFor((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === 'kept' && e.update!.status.reason === 'REASON_RECONCILIATION');
    expect(r.event.update!.status.state).toBe('TASK_RUNNING');
    expect((await master.registry.getFramework(f.frameworkId))?.connected).toBe(true);
  });

  it('kills the tasks of a framework that stays away past its failover timeout, and removes it', async () => {
    await boot();
    const a = await agent('a1');
    const f = await framework({ failover_timeout: 1 });
    await runTask(f, 'orphan');
    f.close();
    await waitUntil(async () => (await master.registry.getTask(f.frameworkId, 'orphan'))?.state === 'KILLED', 10_000);
    expect(a.states.get(`${f.frameworkId}/orphan`)).toBe('TASK_KILLED');
    expect((await master.registry.getFramework(f.frameworkId))?.removedAt).toBeDefined();
    const again = await new StreamingFramework(server.url).subscribe(frameworkInfo('resilient'), f.frameworkId).catch((e: Error) => e);
    expect(String(again)).toMatch(/403/);
  });

  it('disconnects a long-poll framework that stops polling', async () => {
    await boot({ frameworkDisconnectMs: 600 });
    const res = await fetch(`${server.url}/api/v1/scheduler`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Stratus-Event-Mode': 'poll' },
      body: JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo('quiet', { failover_timeout: 60 }) } }),
    });
    const fid = ((await res.json()) as { framework_id: { value: string } }).framework_id.value;
    expect((await master.registry.getFramework(fid))?.connected).toBe(true);
    await waitUntil(async () => (await master.registry.getFramework(fid))?.connected === false, 5_000);
    expect((await master.registry.getFramework(fid))?.removedAt).toBeUndefined(); // within its failover timeout
  });

  it('keeps an agent that comes back smaller only if its tasks fit: old offers rescinded, never offered beyond the new total', async () => {
    await boot();
    const a = await agent('shrinking');
    const f = await framework();
    const first = await f.nextOffer();
    await f.call(launchCall(first, [{ id: 's1', cpus: 1, mem: 256, command: 'run forever' }], 0));
    await f.waitForState('s1', 'TASK_RUNNING');
    // What the launch left (3 cpus) is offered again: an offer of the old size, outstanding.
    const old = await waitUntil(async () => {
      const offers = f.events.flatMap((e) => (e.type === 'OFFERS' ? e.offers!.offers : []));
      for (const o of offers.reverse()) if (o.id.value !== first.id.value && (await master.registry.getOffer(o.id.value))) return o;
      return undefined;
    }, 10_000, 'an outstanding offer of the old size');
    // Comes back with less than its task holds: refused, saying why; nothing changes.
    const before = (await master.registry.getAgent(a.agentId!))!;
    await expect(a.resize({ cpus: 0.5, mem: 64 }).register()).rejects.toThrow(/register failed: 400 .*"field":"resources"/);
    expect((await master.registry.getAgent(a.agentId!))!.total).toEqual(before.total);
    // Comes back smaller but holding its task: kept, the old offer rescinded, new offers fit the new total.
    const mark = f.events.length;
    await a.resize({ cpus: 2, mem: 512 }).register();
    const after = (await master.registry.getAgent(a.agentId!))!;
    expect(after.total.cpus).toBe(2000);
    const rescinded = await f.waitFor((e) => e.type === 'RESCIND' && e.rescind!.offer_id.value === old.id.value, 10_000, mark);
    expect(await master.registry.getOffer(old.id.value)).toBeUndefined();
    const fresh = await f.waitFor((e) => e.type === 'OFFERS' && e.offers!.offers.some((o) => o.agent_id.value === a.agentId), 10_000, rescinded.index);
    const cpus = fresh.event.offers!.offers.filter((o) => o.agent_id.value === a.agentId).flatMap((o) => o.resources).filter((r) => r.name === 'cpus').reduce((n, r) => n + (r.scalar?.value ?? 0), 0);
    expect(cpus).toBeLessThanOrEqual(1);
    // An ACCEPT of the rescinded offer launches nothing; offered + allocated stay within the total.
    await f.call(launchCall(old, [{ id: 'too-much', cpus: 1.5, mem: 64, command: 'run forever' }]));
    expect((await f.waitFor((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === 'too-much', 10_000)).event.update!.status.state).toBe('TASK_DROPPED');
    const last = (await master.registry.getAgent(a.agentId!))!;
    expect(last.total.cpus).toBeGreaterThanOrEqual(last.allocated.cpus + last.offered.cpus);
    expect(last.total.mem).toBeGreaterThanOrEqual(last.allocated.mem + last.offered.mem);
  });

  it('has every agent re-register and re-report its tasks when a new leader is elected', async () => {
    await boot();
    const a = await agent('a1');
    const f = await framework();
    await runTask(f, 'steady');
    const before = (await master.registry.getAgent(a.agentId!))!.registeredEpoch!;
    // A new term: the leader stops without handing over (as a crash would), and its lease,
    // lapsed, is taken again in a new epoch. (A clean release would keep the term.)
    await master.leader.stop({ release: false });
    master.leader.start();
    await waitUntil(async () => (await master.registry.getAgent(a.agentId!))!.registeredEpoch! > before, 10_000);
    expect((await master.registry.getTask(f.frameworkId, 'steady'))?.state).toBe('RUNNING');
    expect(a.agentId).toBe((await master.registry.getAgent(a.agentId!))!.id);
  });
});
