import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACTIVITY_COLLECTION, type ActivityEntry } from '../../../src/autoscaler/activity.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { TestFramework, type TestMaster } from '../../support/agent-cluster.js';
import { localProvider, openOperations, startAutoscaledMaster, type AutoscaledMaster } from '../../support/autoscaler-cluster.js';
import { waitUntil } from '../../support/wait.js';

// Two masters on one shared in-memory store, each with its own autoscaler duty. The leader
// starts draining a busy host (the group was lowered below its size); it is stopped abruptly in
// the middle of the drain (its leader loop stops without releasing the lease, its server
// closes). The other master takes the lease over and finishes the removal from the persisted
// state: terminate, then removed.

const LEASE_MS = 1_500;
const GRACE_S = 4;

describe('autoscaler: a leader killed in the middle of a drain', () => {
  const store = new MemoryItemStore();
  let m1: AutoscaledMaster;
  let m2: AutoscaledMaster;
  let local: ReturnType<typeof localProvider>;
  let fw: TestFramework | undefined;
  let m1Stopped = false;

  beforeAll(async () => {
    let agentsMaster = '';
    local = localProvider(() => agentsMaster, { general: { cpus: 1, mem: 512, zones: ['a', 'b', 'c'] } });
    const common = { store, config: { leaseDurationMs: LEASE_MS }, autoscaler: { provider: local.provider, intervalMs: 200 } };
    m1 = await startAutoscaledMaster({ ...common, holderId: 'm1' });
    m2 = await startAutoscaledMaster({ ...common, holderId: 'm2' });
    // Agents and the framework talk to the master that survives.
    agentsMaster = m2.url;
    m1.master.start();
    await waitUntil(async () => (await m1.master.registry.getLease()).holder === 'm1', 10_000, 'm1 to lead');
    m2.master.start();
    await local.provider.growTo('general', 3, ['a', 'b', 'c']);
    const tm: TestMaster = { master: m2.master, server: m2.server, url: m2.url, close: async () => {} };
    fw = await TestFramework.subscribe(tm, 'failover-fw');
    fw.autoAcknowledge();
    // Every host runs a task that ignores SIGTERM: its drain lasts the whole kill grace.
    for (const h of local.provider.hosts('general')) {
      await fw.launch(h.agentId!, [{ id: `stubborn-${h.hostname}`, command: 'trap "" TERM; sleep 600', cpus: 0.5, mem: 64, graceMs: 60_000 }]);
    }
    for (const h of local.provider.hosts('general')) await fw.waitState(`stubborn-${h.hostname}`, 'TASK_RUNNING', 30_000);
  }, 90_000);

  afterAll(async () => {
    fw?.close();
    await m2?.autoscaler.stop();
    await m2?.master.stop();
    if (!m1Stopped) {
      await m1?.autoscaler.stop();
      await m1?.master.stop();
      await m1?.server.close();
    }
    await local?.cleanup();
    await m2?.server.close();
  }, 60_000);

  it('the new leader finishes the drain: terminate, then removed', async () => {
    const epoch1 = (await m1.master.registry.getLease()).epoch;
    // Lower the group below its size; draining busy hosts is allowed, with a kill grace of 4 s.
    const res = await fetch(`${m2.url}/api/v1/autoscaler/rules`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ groups: [{ group: 'general', minSize: 1, maxSize: 2, maxIdle: 3, shape: { cpus: 1, mem: 512 }, drainBusy: true, drainGraceSeconds: GRACE_S, drainTimeoutSeconds: 120 }] }),
    });
    expect(res.status).toBe(200);

    const draining = await waitUntil(
      async () => (await openOperations(m2.master.registry)).find((o) => o.kind === 'scale-down' && o.phase === 'draining' && o.drainRequested),
      20_000,
      'the leader to start a drain',
      20,
    );
    const victim = draining.kind === 'scale-down' ? draining.agentId : '';

    // m1 dies abruptly: no lease release, no more duties, its server gone.
    vi.spyOn(m1.master.lease, 'release').mockResolvedValue();
    await m1.master.stop();
    await m1.autoscaler.stop();
    await m1.server.close();
    m1Stopped = true;

    // Mid-drain: the host still has its task (it ignores SIGTERM for the 4 s grace).
    const now = await m2.master.registry.getAgent(victim);
    expect(now?.drain?.state).toBe('DRAINING');
    expect((await openOperations(m2.master.registry)).find((o) => o.id === draining.id)?.phase).toBe('draining');

    await waitUntil(async () => (await m2.master.registry.getLease()).holder === 'm2', 20_000, 'm2 to take the lease over');
    const epoch2 = (await m2.master.registry.getLease()).epoch;
    expect(epoch2).toBeGreaterThan(epoch1);

    await waitUntil(async () => (await openOperations(m2.master.registry)).length === 0, 60_000, 'the new leader to finish the removal', 100);
    expect((await m2.master.registry.getAgent(victim))?.reachability).toBe('GONE');
    expect(local.provider.hosts('general').map((h) => h.agentId)).not.toContain(victim);
    expect(local.provider.hosts('general')).toHaveLength(2);

    const entries = (await m2.master.registry.listDocuments(ACTIVITY_COLLECTION)).map((d) => d.data as unknown as ActivityEntry).filter((e) => e.hosts?.some((h) => h.agentId === victim));
    const steps = entries.map((e) => [`${e.action}:${e.outcome}`, e.epoch] as const);
    expect(steps.find(([s]) => s === 'drain:started')?.[1]).toBe(epoch1);
    expect(steps.find(([s]) => s === 'terminate:succeeded')?.[1]).toBe(epoch2);
    expect(steps.find(([s]) => s === 'remove:succeeded')?.[1]).toBe(epoch2);
    // Exactly one removal: the other hosts keep running their tasks.
    for (const h of local.provider.hosts('general')) expect((await m2.master.registry.getAgent(h.agentId!))?.drain).toBeUndefined();
  }, 120_000);
});
