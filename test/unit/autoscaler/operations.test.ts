import { beforeEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../../src/core/agent.js';
import { FencedError } from '../../../src/core/errors.js';
import type { ScaleDownDecision, ScaleUpDecision } from '../../../src/autoscaler/decide.js';
import { newMetrics, type AutoscalerMetrics } from '../../../src/autoscaler/metrics.js';
import { ScalingOperations } from '../../../src/autoscaler/operations.js';
import { ScalingProviderError } from '../../../src/autoscaler/provider.js';
import type { GroupRule } from '../../../src/autoscaler/rules.js';
import { AutoscalerStore } from '../../../src/autoscaler/store.js';
import { setAgentActive } from '../../../src/master-lambda/extension.js';
import { FakeProvider } from '../../support/autoscaler-fake-provider.js';
import { SimWorld } from '../../support/autoscaler-world.js';
import { rule } from './helpers.js';

// The operation state machine alone (scale-up: requested → launching → ended; scale-down:
// draining → terminating → removing → ended), against the real Registry and master use cases,
// on a simulated clock, with a provider in memory that can fail on demand. Operations are started
// from hand-made decisions; each `advance()` is what a controller pass does first.

describe('autoscaler operations', () => {
  let world: SimWorld;
  let provider: FakeProvider;
  let metrics: AutoscalerMetrics;
  let operations: ScalingOperations;
  let epoch: number;
  let general: GroupRule;

  const store = () => new AutoscalerStore(world.registry);
  const ctx = () => world.master.ctx;
  const activity = async () => (await store().activity(1000)).reverse().map((a) => `${a.action}:${a.outcome}`);
  const advance = async (): Promise<boolean> => operations.advanceAll(ctx(), epoch, await store().operations(), await world.registry.listAgents(), new Map([[general.group, general]]));
  const removal = (a: Agent, over: Partial<ScaleDownDecision> = {}): ScaleDownDecision => ({
    kind: 'scale-down',
    group: 'general',
    hosts: [{ agentId: a.id, hostname: a.hostname, zone: a.attributes.zone!, busy: false }],
    cause: 'max-idle',
    reason: 'idle beyond maxIdle',
    ...over,
  });
  const growth = (count: number): ScaleUpDecision => ({ kind: 'scale-up', group: 'general', count, zones: Array<string>(count).fill('a'), cause: 'shortfall', reason: 'tasks short of resources', tasks: count });
  /** An idle host whose removal has started: the drain was asked for. */
  const drainingIdleHost = async (): Promise<string> => {
    await world.addAgent({ busy: true });
    const a = await world.addAgent();
    await operations.start(ctx(), epoch, removal(a), general, undefined);
    expect((await world.registry.getAgent(a.id))?.drain?.state).toBe('DRAINING');
    return a.id;
  };

  beforeEach(async () => {
    world = new SimWorld();
    provider = new FakeProvider();
    metrics = newMetrics();
    general = rule({ drainTimeoutMs: 120_000 });
    operations = new ScalingOperations({ provider, metrics, log: world.log, retry: { initialMs: 1_000, maxMs: 8_000, maxAttempts: 5 }, launchTimeoutMs: 15 * 60_000, activityRetentionSeconds: 3600 });
    epoch = await world.lead();
  });

  it('removes a host step by step: drain, then terminate once drained, then mark it gone', async () => {
    const victim = await drainingIdleHost();
    const [op] = await store().operations();
    expect(op?.doc).toMatchObject({ kind: 'scale-down', phase: 'draining', drainRequested: true });
    world.advance(5_000);
    expect(await advance()).toBe(false); // the master has not seen the drain finish
    expect(provider.count('terminate')).toBe(0);
    await world.markDrained(victim);
    world.advance(1_000);
    expect(await advance()).toBe(true);
    expect(provider.terminated).toEqual([victim]);
    expect(await store().operations()).toEqual([]);
    expect((await world.registry.getAgent(victim))?.reachability).toBe('GONE');
    expect(await activity()).toEqual(['scale-down:decided', 'drain:started', 'drain:succeeded', 'terminate:succeeded', 'remove:succeeded']);
    expect(metrics).toMatchObject({ scaleDowns: 1, drainsStarted: 1, hostsRemoved: 1 });
  });

  it('retries a throttled provider with growing backoff, logs each failure, and then finishes the removal', async () => {
    const victim = await drainingIdleHost();
    await world.markDrained(victim);
    provider.failNext('terminate', 3);
    const retryAts: number[] = [];
    for (let i = 0; i < 20 && (await store().operations()).length > 0; i++) {
      world.advance(1_000);
      await advance();
      const op = (await store().operations())[0];
      if (op?.doc.retryAt !== undefined && !retryAts.includes(op.doc.retryAt)) retryAts.push(op.doc.retryAt);
    }
    expect(provider.count('terminate')).toBe(4);
    expect(provider.terminated).toEqual([victim]);
    expect(await store().operations()).toEqual([]);
    expect((await world.registry.getAgent(victim))?.reachability).toBe('GONE');
    // The waits grow: about 1 s, 2 s, 4 s (±20%).
    const waits = retryAts.map((t, i) => t - (i === 0 ? 0 : retryAts[i - 1]!));
    expect(retryAts).toHaveLength(3);
    expect(waits[2]!).toBeGreaterThan(waits[1]! * 0.5);
    const warnings = world.log.records.filter((r) => r.level === 'warn' && /retrying with backoff/.test(r.message));
    expect(warnings).toHaveLength(3);
    expect(warnings[0]!.context).toMatchObject({ attempt: 1, provider: 'fake' });
    expect((await activity()).filter((s) => s.startsWith('terminate'))).toEqual(['terminate:retrying', 'terminate:retrying', 'terminate:retrying', 'terminate:succeeded']);
    expect(metrics).toMatchObject({ providerErrors: 3, providerRetries: 3, errors: 0 });
  });

  it('treats an instance already gone as terminated', async () => {
    const victim = await drainingIdleHost();
    provider.gone.add(victim);
    await world.markDrained(victim);
    world.advance(1_000);
    await advance();
    expect(await store().operations()).toEqual([]);
    expect((await world.registry.getAgent(victim))?.reachability).toBe('GONE');
    const entries = await store().activity(100);
    expect(entries.find((e) => e.action === 'terminate')?.reason).toMatch(/already gone/);
  });

  it('gives up after a permanent provider error: the host is reactivated and the Registry holds no half-done operation', async () => {
    const victim = await drainingIdleHost();
    await world.markDrained(victim);
    provider.failNext('terminate', 1, new ScalingProviderError('instance i-123 belongs to another Auto Scaling group', false, 'WrongGroup'));
    world.advance(1_000);
    await advance();
    expect(await store().operations()).toEqual([]);
    const agent = await world.registry.getAgent(victim);
    expect(agent).toMatchObject({ reachability: 'REACHABLE' });
    expect(agent?.drain).toBeUndefined();
    expect((await activity()).filter((s) => s.startsWith('terminate'))).toEqual(['terminate:failed']);
    expect(world.log.records.some((l) => l.level === 'error' && /given up/.test(l.message))).toBe(true);
    expect(metrics.operationsFailed).toBe(1);
  });

  it('retries a scale-up whose provider calls are throttled, asking the same size each time', async () => {
    provider.sizes.set('general', 1);
    provider.failNext('growTo', 2);
    await operations.start(ctx(), epoch, growth(2), general, undefined);
    let [op] = await store().operations();
    expect(op?.doc).toMatchObject({ phase: 'requested', target: 3, attempts: 1 });
    for (let i = 0; i < 10 && op?.doc.phase === 'requested'; i++) {
      world.advance(2_000);
      await advance();
      [op] = await store().operations();
    }
    expect(op?.doc.phase).toBe('launching');
    expect(provider.calls.filter((c) => c.op === 'growTo').map((c) => (c.op === 'growTo' ? c.size : 0))).toEqual([3, 3, 3]);
    expect(provider.count('desiredSize')).toBe(1);
  });

  it('closes a scale-up once its hosts registered, and reports one whose hosts never came', async () => {
    provider.sizes.set('general', 1);
    await operations.start(ctx(), epoch, growth(2), general, undefined);
    world.advance(1_000);
    await world.addAgent();
    await advance();
    expect((await store().operations())[0]?.doc.phase).toBe('launching'); // one of two
    await world.addAgent();
    await advance();
    expect(await store().operations()).toEqual([]);
    expect(await activity()).toEqual(['scale-up:decided', 'launch:started', 'launch:succeeded']);

    world.advance(1_000); // hosts registered before a scale-up are not its own
    await operations.start(ctx(), epoch, growth(3), general, (await store().groups()).get('general'));
    world.advance(15 * 60_000 + 1);
    await advance();
    expect(await store().operations()).toEqual([]);
    expect((await store().activity(1))[0]).toMatchObject({ action: 'launch', outcome: 'timed-out', count: 3 });
    expect(metrics.launchesTimedOut).toBe(1);
  });

  it('reports a drain that exceeds its limit, then terminates the host anyway', async () => {
    general = rule({ drainBusy: true, drainTimeoutMs: 30_000 });
    const busy = await world.addAgent({ busy: true });
    await operations.start(ctx(), epoch, removal(busy, { cause: 'max-size', hosts: [{ agentId: busy.id, hostname: busy.hostname, busy: true }] }), general, undefined);
    world.advance(20_000);
    await advance();
    expect(provider.count('terminate')).toBe(0);
    world.advance(15_000);
    await advance();
    expect(provider.terminated).toEqual([busy.id]);
    const overdue = (await store().activity(100)).find((e) => e.outcome === 'overdue');
    expect(overdue?.reason).toMatch(/exceeded its limit of 30000 ms/);
    expect(world.log.records.some((l) => l.level === 'warn' && /exceeded its limit/.test(l.message))).toBe(true);
    expect(metrics.drainsOverdue).toBe(1);
  });

  it('terminates a host that became unreachable during its drain without waiting for the drain', async () => {
    const victim = await drainingIdleHost();
    await world.setUnreachable(victim);
    world.advance(1_000);
    await advance();
    expect(provider.terminated).toEqual([victim]);
    expect(await store().operations()).toEqual([]);
    expect((await store().activity(100)).some((e) => /unreachable: terminated without a drain/.test(e.reason))).toBe(true);
  });

  it('drops its removal when an operator reactivates the host during the drain', async () => {
    const victim = await drainingIdleHost();
    await setAgentActive(ctx(), victim, true, 'agent_id');
    world.advance(1_000);
    await advance();
    expect(await store().operations()).toEqual([]);
    expect(provider.count('terminate')).toBe(0);
    expect((await activity()).at(-1)).toBe('drain:cancelled');
  });

  it('keeps an idle host that took tasks before its drain began', async () => {
    const a = await world.addAgent();
    const decision = removal(a);
    await world.setBusy(a.id, true);
    await operations.start(ctx(), epoch, decision, general, undefined);
    expect(await store().operations()).toEqual([]);
    expect((await world.registry.getAgent(a.id))?.drain).toBeUndefined();
    expect((await activity()).at(-1)).toBe('drain:cancelled');
    expect(metrics.drainsCancelled).toBe(1);
  });

  it('writes nothing with a stale epoch (a deposed leader)', async () => {
    const a = await world.addAgent();
    await expect(operations.start(ctx(), epoch + 7, removal(a), general, undefined)).rejects.toBeInstanceOf(FencedError);
    expect(await store().operations()).toEqual([]);
  });
});
