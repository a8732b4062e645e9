import { describe, expect, it } from 'vitest';
import { rulesView, statusView, storeRules } from '../../../src/autoscaler/api.js';
import { newMetrics } from '../../../src/autoscaler/metrics.js';
import { ScalingOperations } from '../../../src/autoscaler/operations.js';
import { AutoscalerStore } from '../../../src/autoscaler/store.js';
import { FakeProvider } from '../../support/autoscaler-fake-provider.js';
import { SimWorld } from '../../support/autoscaler-world.js';
import { rule } from './helpers.js';

// The operator views: the rule set with the groups the provider knows, and each group's hosts,
// operations and counters.

const GOOD = { group: 'general', minSize: 1, maxSize: 5, shape: { cpus: 2, mem: 4096 } };

describe('operator views', () => {
  it('stores a rule set with an activity entry and shows it with the provider\'s groups', async () => {
    const world = new SimWorld();
    const store = new AutoscalerStore(world.registry);
    const provider = new FakeProvider(['general', 'gpu']);
    expect(await rulesView(store, provider)).toEqual({ groups: [], version: 0, knownGroups: ['general', 'gpu'] });
    const view = await storeRules(store, provider, { groups: [GOOD] }, world.now, { activityRetentionSeconds: 60, log: world.log });
    expect(view).toMatchObject({ version: 1, updatedAt: world.now, groups: [{ group: 'general', maxIdle: 0 }] });
    expect((await store.activity(10))[0]).toMatchObject({ group: '*', action: 'rules', outcome: 'succeeded', reason: 'rules set: general size 1..5, idle 0..0' });
  });

  it('counts each group\'s hosts by what they do, those being removed, and hosts in flight', async () => {
    const world = new SimWorld();
    const epoch = await world.lead();
    const store = new AutoscalerStore(world.registry);
    const provider = new FakeProvider(['general', 'gpu']);
    const metrics = newMetrics();
    await storeRules(store, provider, { groups: [GOOD] }, world.now, { activityRetentionSeconds: 60, log: world.log });
    await world.addAgent({ busy: true });
    const idle = await world.addAgent();
    await world.addAgent();
    const lost = await world.addAgent();
    await world.setUnreachable(lost.id);
    await world.addAgent({ group: 'gpu' });
    const operations = new ScalingOperations({ provider, metrics, log: world.log, retry: { initialMs: 1, maxMs: 1, maxAttempts: 1 }, launchTimeoutMs: 60_000, activityRetentionSeconds: 60 });
    await operations.start(world.master.ctx, epoch, { kind: 'scale-down', group: 'general', hosts: [{ agentId: idle.id, hostname: idle.hostname, busy: false }], cause: 'max-idle', reason: 'idle' }, rule(), undefined);
    world.advance(1_000);
    await operations.start(world.master.ctx, epoch, { kind: 'scale-up', group: 'general', count: 2, zones: [], cause: 'min-idle', reason: 'headroom', tasks: 0 }, rule(), (await store.groups()).get('general'));
    const evaluation = { at: world.now, decisions: [], holds: [], pending: { counted: 0, stale: 0, constraint: 0, unevaluated: 0, unplaced: 0 } };

    const status = await statusView(store, provider, metrics, evaluation);
    expect(status.provider).toBe('fake');
    expect(status.groups).toEqual([
      { group: 'general', rule: expect.objectContaining({ group: 'general' }), hosts: 4, idle: 1, busy: 1, draining: 0, unreachable: 1, removing: 1, inFlight: 2, lastScaleUpAt: world.now, lastScaleDownAt: world.now - 1_000 },
      { group: 'gpu', hosts: 1, idle: 1, busy: 0, draining: 0, unreachable: 0, removing: 0, inFlight: 0 },
    ]);
    expect(status.operations.map((o) => `${o.kind}:${o.phase}`).sort()).toEqual(['scale-down:draining', 'scale-up:launching']);
    expect(status.lastEvaluation).toBe(evaluation);
    expect(status.metrics).toMatchObject({ scaleUps: 1, scaleDowns: 1 });
    expect(status.metrics).not.toBe(metrics);
  });
});
