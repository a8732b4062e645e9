import { beforeEach, describe, expect, it } from 'vitest';
import { AutoscalerController } from '../../../src/autoscaler/controller.js';
import { AutoscalerStore, OPS_COLLECTION } from '../../../src/autoscaler/store.js';
import type { PendingTask } from '../../../src/jobs/views.js';
import { FakeProvider } from '../../support/autoscaler-fake-provider.js';
import { SimWorld } from '../../support/autoscaler-world.js';

// The controller's passes against the real Registry and master use cases (drain, mark gone), on
// a simulated clock, with a provider in memory: what a pass reads, decides and starts. The
// operations' own steps, retries and failures are in operations.test.ts.

const RULE = { group: 'general', minSize: 1, maxSize: 10, minIdle: 0, maxIdle: 1, scaleUpCooldownSeconds: 30, scaleDownCooldownSeconds: 60, shape: { cpus: 4, mem: 8192 }, drainTimeoutSeconds: 120 };

function pendingTasks(n: number, at: number, over: Partial<PendingTask> = {}): PendingTask[] {
  return Array.from({ length: n }, (_, i) => ({
    job: 'batch',
    instance: i,
    resources: { cpus: 1.5, mem: 1024, disk: 0, ports: 0 },
    zoneSpread: 'off' as const,
    constraints: [],
    reasons: [{ kind: 'resource' as const, resource: 'cpus' as const, hosts: 1, requested: 1500, largestFree: 0 }],
    message: 'cpus short',
    kind: 'resource' as const,
    at,
    ...over,
  }));
}

describe('autoscaler controller', () => {
  let world: SimWorld;
  let provider: FakeProvider;
  let pending: PendingTask[];
  let autoscaler: AutoscalerController;
  let epoch: number;

  const pass = () => autoscaler.runOnce(world.master.ctx, epoch);
  const store = () => new AutoscalerStore(world.registry);
  const activity = async () => (await autoscaler.activity(world.registry, 1000)).reverse().map((a) => `${a.action}:${a.outcome}`);
  beforeEach(async () => {
    world = new SimWorld();
    provider = new FakeProvider();
    pending = [];
    autoscaler = new AutoscalerController({ provider, pendingTasks: () => pending, log: world.log, decide: { settleMs: 1_000 }, retry: { initialMs: 1_000, maxMs: 8_000, maxAttempts: 5 }, idleMemoryMs: 600_000 });
    epoch = await world.lead();
    await autoscaler.setRules(world.registry, { groups: [RULE] });
  });

  it('drains idle hosts beyond maxIdle, then terminates them, then removes them, step by step in the Registry', async () => {
    const busy = await world.addAgent({ zone: 'a', busy: true });
    const idle = [await world.addAgent({ zone: 'a' }), await world.addAgent({ zone: 'a' }), await world.addAgent({ zone: 'b' })];
    await pass(); // first sight: the idle time starts now
    expect(await store().operations()).toEqual([]);
    world.advance(61_000);
    const r = await pass();
    expect(r.result?.decisions).toHaveLength(1);
    const ops = await store().operations();
    // Three idle, maxIdle 1: two go, from zone a (the most hosts) first.
    expect(ops.map((o) => o.doc.kind === 'scale-down' && o.doc.agentId).sort()).toEqual([idle[0]!.id, idle[1]!.id]);
    expect(ops.every((o) => o.doc.phase === 'draining' && o.doc.kind === 'scale-down' && o.doc.drainRequested)).toBe(true);
    for (const a of idle.slice(0, 2)) expect((await world.registry.getAgent(a.id))?.drain?.state).toBe('DRAINING');
    expect(provider.count('terminate')).toBe(0);

    // Nothing moves while the master has not seen the drain finish.
    world.advance(5_000);
    await pass();
    expect(provider.count('terminate')).toBe(0);

    await world.markDrained(idle[0]!.id);
    await world.markDrained(idle[1]!.id);
    world.advance(5_000);
    await pass();
    expect(provider.terminated.sort()).toEqual([idle[0]!.id, idle[1]!.id].sort());
    expect(await store().operations()).toEqual([]);
    for (const a of idle.slice(0, 2)) expect((await world.registry.getAgent(a.id))?.reachability).toBe('GONE');
    expect((await world.registry.getAgent(idle[2]!.id))?.reachability).toBe('REACHABLE');
    expect((await world.registry.getAgent(busy.id))?.drain).toBeUndefined();

    const steps = await activity();
    expect(steps.filter((s) => s !== 'rules:succeeded')).toEqual([
      'scale-down:decided',
      'drain:started',
      'drain:started',
      'drain:succeeded',
      'terminate:succeeded',
      'remove:succeeded',
      'drain:succeeded',
      'terminate:succeeded',
      'remove:succeeded',
    ]);
    const decided = (await autoscaler.activity(world.registry, 1000)).find((a) => a.action === 'scale-down')!;
    expect(decided.hosts?.map((h) => h.zone)).toEqual(['a', 'a']);
    expect(decided.reason).toMatch(/maxIdle 1/);
    expect(autoscaler.metrics).toMatchObject({ scaleDowns: 1, hostsRemoved: 2, drainsStarted: 2 });
  });

  it('scales up once for a fresh shortfall, asks the provider for a fixed size, and closes the operation when the hosts register', async () => {
    await world.addAgent({ busy: true });
    provider.sizes.set('general', 1);
    world.advance(10_000);
    pending = pendingTasks(8, world.now - 500);
    await pass();
    expect(provider.calls.filter((c) => c.op === 'growTo')).toEqual([{ op: 'growTo', group: 'general', size: 5, zones: ['a', 'a', 'a', 'a'] }]);
    const [op] = await store().operations();
    expect(op?.doc).toMatchObject({ kind: 'scale-up', count: 4, phase: 'launching', from: 1, target: 5 });

    // Still pending and still fresh: the hosts in flight absorb it, no second request.
    world.advance(40_000);
    pending = pendingTasks(8, world.now - 500);
    await pass();
    expect(provider.count('growTo')).toBe(1);

    for (let i = 0; i < 4; i++) await world.addAgent();
    pending = [];
    world.advance(2_000);
    await pass();
    expect(await store().operations()).toEqual([]);
    expect((await activity()).filter((s) => s !== 'rules:succeeded')).toEqual(['scale-up:decided', 'launch:started', 'launch:succeeded']);
  });

  it('never scales up for constraint failures or stale reasons', async () => {
    await world.addAgent({ busy: true });
    world.advance(10_000);
    pending = [...pendingTasks(20, world.now - 500, { kind: 'constraint' }), ...pendingTasks(5, world.now - 20_000).map((t) => ({ ...t, job: 'old' }))];
    await world.addAgent({ busy: true }); // registered after the old reasons were computed
    world.advance(2_000);
    await pass();
    expect(provider.count('growTo')).toBe(0);
    expect(autoscaler.metrics).toMatchObject({ pendingConstraint: 20, pendingStale: 5 });
  });

  it('keeps idle times in the Registry: another process continues the count, an old observation starts over', async () => {
    await world.addAgent({ busy: true });
    await world.addAgent();
    await world.addAgent();
    await pass(); // observed idle now
    world.advance(61_000);
    const next = new AutoscalerController({ provider, log: world.log, idleMemoryMs: 600_000 });
    const r = await next.runOnce(world.master.ctx, epoch);
    expect(r.result?.decisions).toHaveLength(1);

    const other = new SimWorld();
    const otherProvider = new FakeProvider();
    const forgetful = new AutoscalerController({ provider: otherProvider, log: other.log, idleMemoryMs: 30_000 });
    const e = await other.lead();
    await forgetful.setRules(other.registry, { groups: [RULE] });
    await other.addAgent({ busy: true });
    await other.addAgent();
    await other.addAgent();
    await forgetful.runOnce(other.master.ctx, e);
    other.advance(61_000); // nobody looked for longer than idleMemoryMs: the hosts may have worked
    expect((await forgetful.runOnce(other.master.ctx, e)).result?.decisions).toEqual([]);
    other.advance(61_000);
    expect((await forgetful.runOnce(other.master.ctx, e)).result?.decisions).toEqual([]);
  });

  it('writes nothing with a stale epoch (a deposed leader), and never throws', async () => {
    await world.addAgent({ busy: true });
    world.advance(10_000);
    pending = pendingTasks(8, world.now - 500);
    const r = await autoscaler.runOnce(world.master.ctx, epoch + 7);
    expect(r.ran).toBe(false);
    expect(await world.registry.listDocuments(OPS_COLLECTION)).toEqual([]);
    expect(provider.count('growTo')).toBe(0);
  });

  it('keeps going when the pending-task source fails', async () => {
    await world.addAgent({ busy: true });
    const broken = new AutoscalerController({ provider, pendingTasks: () => Promise.reject(new Error('jobs framework down')), log: world.log });
    const r = await broken.runOnce(world.master.ctx, epoch);
    expect(r.ran).toBe(true);
    expect(r.result?.decisions).toEqual([]);
  });
});
