import { beforeEach, describe, expect, it } from 'vitest';
import { Autoscaler } from '../../../src/autoscaler/autoscaler.js';
import { ScalingProviderError } from '../../../src/autoscaler/provider.js';
import { AutoscalerStore, OPS_COLLECTION } from '../../../src/autoscaler/store.js';
import type { PendingTask } from '../../../src/jobs/views.js';
import { FakeProvider } from '../../support/autoscaler-fake-provider.js';
import { SimWorld } from '../../support/autoscaler-world.js';

// The controller use case against the real Registry and master use cases (drain, mark gone),
// on a simulated clock, with a provider in memory that can fail on demand.

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
  let autoscaler: Autoscaler;
  let epoch: number;

  const pass = () => autoscaler.runOnce(world.master.ctx, epoch);
  const store = () => new AutoscalerStore(world.registry);
  const activity = async () => (await autoscaler.activity(world.registry, 1000)).reverse().map((a) => `${a.action}:${a.outcome}`);
  /** One busy host and two idle ones, past the idle time: the autoscaler starts draining one; its id. */
  const drainingIdleHost = async (): Promise<string> => {
    await world.addAgent({ busy: true });
    await world.addAgent();
    await world.addAgent();
    await pass();
    world.advance(61_000);
    await pass();
    return ((await store().operations())[0]!.doc as { agentId: string }).agentId;
  };

  beforeEach(async () => {
    world = new SimWorld();
    provider = new FakeProvider();
    pending = [];
    autoscaler = new Autoscaler({ provider, pendingTasks: () => pending, log: world.log, engine: { settleMs: 1_000 }, retry: { initialMs: 1_000, maxMs: 8_000, maxAttempts: 5 }, idleMemoryMs: 600_000 });
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

  it('retries a throttled provider with growing backoff, logs each failure, and then finishes the removal', async () => {
    await world.addAgent({ busy: true });
    const a = await world.addAgent({ zone: 'a' });
    const b = await world.addAgent({ zone: 'b' });
    await pass();
    world.advance(61_000);
    await pass();
    const chosen = (await store().operations()).map((o) => (o.doc.kind === 'scale-down' ? o.doc.agentId : ''));
    expect(chosen).toHaveLength(1);
    const victim = chosen[0]!;
    await world.markDrained(victim);
    provider.failNext('terminate', 3);
    const retryAts: number[] = [];
    for (let i = 0; i < 20 && (await store().operations()).length > 0; i++) {
      world.advance(1_000);
      const r = await pass();
      expect(r.ran).toBe(true);
      const op = (await store().operations())[0];
      if (op?.doc.retryAt !== undefined && !retryAts.includes(op.doc.retryAt)) retryAts.push(op.doc.retryAt);
    }
    expect(provider.count('terminate')).toBe(4);
    expect(provider.terminated).toEqual([victim]);
    expect(await store().operations()).toEqual([]);
    expect((await world.registry.getAgent(victim))?.reachability).toBe('GONE');
    expect([a.id, b.id]).toContain(victim);
    // The waits grow: about 1 s, 2 s, 4 s (±20%).
    const waits = retryAts.map((t, i) => t - (i === 0 ? 0 : retryAts[i - 1]!));
    expect(retryAts).toHaveLength(3);
    expect(waits[2]!).toBeGreaterThan(waits[1]! * 0.5);
    const warnings = world.log.records.filter((r) => r.level === 'warn' && /retrying with backoff/.test(r.message));
    expect(warnings).toHaveLength(3);
    expect(warnings[0]!.context).toMatchObject({ attempt: 1, provider: 'fake' });
    expect((await activity()).filter((s) => s.startsWith('terminate'))).toEqual(['terminate:retrying', 'terminate:retrying', 'terminate:retrying', 'terminate:succeeded']);
    expect(autoscaler.metrics).toMatchObject({ providerErrors: 3, providerRetries: 3, errors: 0 });
  });

  it('treats an instance already gone as terminated', async () => {
    const victim = await drainingIdleHost();
    provider.gone.add(victim);
    await world.markDrained(victim);
    world.advance(1_000);
    await pass();
    expect(await store().operations()).toEqual([]);
    expect((await world.registry.getAgent(victim))?.reachability).toBe('GONE');
    const entries = await autoscaler.activity(world.registry, 100);
    expect(entries.find((e) => e.action === 'terminate')?.reason).toMatch(/already gone/);
  });

  it('gives up after a permanent provider error: the host is reactivated and the Registry holds no half-done operation', async () => {
    const victim = await drainingIdleHost();
    await world.markDrained(victim);
    provider.failNext('terminate', 1, new ScalingProviderError('instance i-123 belongs to another Auto Scaling group', false, 'WrongGroup'));
    world.advance(1_000);
    const r = await pass();
    expect(r.ran).toBe(true);
    expect(await store().operations()).toEqual([]);
    const agent = await world.registry.getAgent(victim);
    expect(agent).toMatchObject({ reachability: 'REACHABLE' });
    expect(agent?.drain).toBeUndefined();
    expect((await activity()).filter((s) => s.startsWith('terminate'))).toEqual(['terminate:failed']);
    expect(world.log.records.some((l) => l.level === 'error' && /given up/.test(l.message))).toBe(true);
    expect(autoscaler.metrics.operationsFailed).toBe(1);
  });

  it('retries a scale-up whose provider calls are throttled, asking the same size each time', async () => {
    await world.addAgent({ busy: true });
    provider.sizes.set('general', 1);
    world.advance(10_000);
    pending = pendingTasks(4, world.now - 500);
    provider.failNext('growTo', 2);
    await pass();
    let [op] = await store().operations();
    expect(op?.doc).toMatchObject({ phase: 'requested', target: 3, attempts: 1 });
    for (let i = 0; i < 10 && op?.doc.phase === 'requested'; i++) {
      world.advance(2_000);
      pending = pendingTasks(4, world.now - 500);
      await pass();
      [op] = await store().operations();
    }
    expect(op?.doc.phase).toBe('launching');
    expect(provider.calls.filter((c) => c.op === 'growTo').map((c) => (c.op === 'growTo' ? c.size : 0))).toEqual([3, 3, 3]);
    expect(provider.count('desiredSize')).toBe(1);
  });

  it('reports a drain that exceeds its limit, then terminates the host anyway', async () => {
    await autoscaler.setRules(world.registry, { groups: [{ ...RULE, maxSize: 2, drainBusy: true, drainTimeoutSeconds: 30 }] });
    await world.addAgent({ busy: true, zone: 'a' });
    await world.addAgent({ busy: true, zone: 'a' });
    const c = await world.addAgent({ busy: true, zone: 'b' });
    await pass();
    const [op] = await store().operations();
    const victim = (op!.doc as { agentId: string }).agentId;
    expect(victim).not.toBe(c.id); // zone a has more hosts
    world.advance(20_000);
    await pass();
    expect(provider.count('terminate')).toBe(0);
    world.advance(15_000);
    await pass();
    expect(provider.terminated).toEqual([victim]);
    const overdue = (await autoscaler.activity(world.registry, 100)).find((e) => e.outcome === 'overdue');
    expect(overdue?.reason).toMatch(/exceeded its limit of 30000 ms/);
    expect(world.log.records.some((l) => l.level === 'warn' && /exceeded its limit/.test(l.message))).toBe(true);
    expect(autoscaler.metrics.drainsOverdue).toBe(1);
  });

  it('terminates a host that became unreachable during its drain without waiting for the drain', async () => {
    const victim = await drainingIdleHost();
    await world.setUnreachable(victim);
    world.advance(1_000);
    await pass();
    expect(provider.terminated).toEqual([victim]);
    expect(await store().operations()).toEqual([]);
    expect((await autoscaler.activity(world.registry, 100)).some((e) => /unreachable: terminated without a drain/.test(e.reason))).toBe(true);
  });

  it('drops its removal when an operator reactivates the host during the drain', async () => {
    const victim = await drainingIdleHost();
    const { setAgentActive } = await import('../../../src/master-lambda/use-cases/operator-actions.js');
    await setAgentActive(world.master.ctx, victim, true, 'agent_id');
    world.advance(1_000);
    await pass();
    expect(await store().operations()).toEqual([]);
    expect(provider.count('terminate')).toBe(0);
    expect((await activity()).at(-1)).toBe('drain:cancelled');
  });

  it('keeps idle times in the Registry: another process continues the count, an old observation starts over', async () => {
    await world.addAgent({ busy: true });
    await world.addAgent();
    await world.addAgent();
    await pass(); // observed idle now
    world.advance(61_000);
    const next = new Autoscaler({ provider, log: world.log, idleMemoryMs: 600_000 });
    const r = await next.runOnce(world.master.ctx, epoch);
    expect(r.result?.decisions).toHaveLength(1);

    const other = new SimWorld();
    const otherProvider = new FakeProvider();
    const forgetful = new Autoscaler({ provider: otherProvider, log: other.log, idleMemoryMs: 30_000 });
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
    const broken = new Autoscaler({ provider, pendingTasks: () => Promise.reject(new Error('jobs framework down')), log: world.log });
    const r = await broken.runOnce(world.master.ctx, epoch);
    expect(r.ran).toBe(true);
    expect(r.result?.decisions).toEqual([]);
  });
});
