import { describe, expect, it } from 'vitest';
import type { ClusterAgent } from '../../../src/jobs/agents.js';
import type { InstanceDoc } from '../../../src/jobs/model.js';
import { eligibleZones, planRebalance } from '../../../src/jobs/rebalance.js';
import { rolloutStep } from '../../../src/jobs/rollout.js';
import { chooseScaleDownVictims } from '../../../src/jobs/scale.js';
import { parseJobSpec } from '../../../src/jobs/spec.js';

// The pure planners: rebalance moves, rolling-update steps, scale-down victims.

function inst(index: number, zone: string | undefined, over: Partial<InstanceDoc> = {}): InstanceDoc {
  return { index, state: 'running', specVersion: 1, ...(zone ? { zone, taskId: `t${index}`, hostname: `h-${zone}` } : {}), launches: 1, failures: 0, updatedAt: 0, ...over };
}

describe('planRebalance', () => {
  it('moves the surplus of crowded zones after an outage (3/3/0 → 2/2/2)', () => {
    const instances = [inst(0, 'a'), inst(1, 'a'), inst(2, 'a'), inst(3, 'b'), inst(4, 'b'), inst(5, 'b')];
    const plan = planRebalance(instances, ['a', 'b', 'c']);
    expect(plan.targets).toEqual({ a: 2, b: 2, c: 2 });
    expect(plan.moves).toEqual({ a: 1, b: 1 });
    expect(plan.victims).toEqual([2, 5]);
  });

  it('gives the remainder to the zones already holding most, and prefers moving instances not yet running', () => {
    const instances = [inst(0, 'a'), inst(1, 'a'), inst(2, 'a', { state: 'starting' }), inst(3, 'a'), inst(4, 'b'), inst(5, 'b'), inst(6, 'b')];
    const plan = planRebalance(instances, ['a', 'b', 'c']);
    expect(plan.targets).toEqual({ a: 3, b: 2, c: 2 });
    expect(plan.victims).toEqual([2, 6]);
  });

  it('moves everything out of a zone that is no longer available, and nothing when balanced', () => {
    expect(planRebalance([inst(0, 'a'), inst(1, 'x')], ['a', 'b']).victims).toEqual([1]);
    expect(planRebalance([inst(0, 'a'), inst(1, 'b'), inst(2, 'c')], ['a', 'b', 'c']).victims).toEqual([]);
    expect(planRebalance([inst(0, 'a')], []).victims).toEqual([]);
  });

  it('counts zones of reachable agents that the job may use', () => {
    const agent = (id: string, zone: string, reachable = true, extra: Record<string, string> = {}): ClusterAgent => ({
      agentId: id, hostname: id, attributes: { zone, ...extra }, total: { cpus: 1, mem: 1, disk: 0, ports: 0 }, reachable,
    });
    const agents = [agent('1', 'a'), agent('2', 'b', false), agent('3', 'c', true, { tier: 'gpu' })];
    const spec = parseJobSpec({ name: 'w', instances: 1, cpus: 1, mem: 1, command: 'c' });
    expect(eligibleZones(spec, agents)).toEqual(['a', 'c']);
    const gpu = parseJobSpec({ name: 'w', instances: 1, cpus: 1, mem: 1, command: 'c', constraints: [{ type: 'hostAttribute', attribute: 'tier', values: ['gpu'] }] });
    expect(eligibleZones(gpu, agents)).toEqual(['c']);
  });
});

describe('rolloutStep', () => {
  const spec = parseJobSpec({ name: 'w', instances: 4, cpus: 1, mem: 1, command: 'c', maxUnavailable: 2 });

  it('takes down at most maxUnavailable available instances at once', () => {
    const all = [0, 1, 2, 3].map((i) => inst(i, 'a'));
    expect(rolloutStep(all, spec, 2)).toEqual({ kill: [{ index: 0, cause: 'update' }, { index: 1, cause: 'update' }], remaining: 4 });
  });

  it('counts instances already down against the budget', () => {
    const some = [inst(0, 'a', { state: 'killing', kill: 'update' }), inst(1, 'a', { specVersion: 2, state: 'starting' }), inst(2, 'a'), inst(3, 'a')];
    expect(rolloutStep(some, spec, 2).kill).toEqual([]);
    const oneDown = [inst(0, 'a', { specVersion: 2 }), inst(1, 'a', { specVersion: 2, state: 'starting' }), inst(2, 'a'), inst(3, 'a')];
    expect(rolloutStep(oneDown, spec, 2).kill).toEqual([{ index: 2, cause: 'update' }]);
  });

  it('moves instances marked by a rebalance under the same budget, after outdated ones', () => {
    const marked = [inst(0, 'a', { move: true }), inst(1, 'a'), inst(2, 'a'), inst(3, 'a')];
    expect(rolloutStep(marked, spec, 2).kill).toEqual([{ index: 0, cause: 'update' }, { index: 1, cause: 'update' }]);
    const mixed = [inst(0, 'a', { move: true, specVersion: 2 }), inst(1, 'a'), inst(2, 'a', { specVersion: 2 }), inst(3, 'a', { specVersion: 2 })];
    expect(rolloutStep(mixed, spec, 2).kill).toEqual([{ index: 1, cause: 'update' }, { index: 0, cause: 'rebalance' }]);
    expect(rolloutStep(marked, spec, 1).kill).toEqual([{ index: 0, cause: 'rebalance' }]);
  });

  it('needs a healthy instance to count it available when the job has a health check', () => {
    const checked = parseJobSpec({ name: 'w', instances: 2, cpus: 1, mem: 1, command: 'c', maxUnavailable: 1, healthCheck: { type: 'command', command: 'true' } });
    const unhealthy = [inst(0, 'a', { specVersion: 2 }), inst(1, 'a', { healthy: true })];
    expect(rolloutStep(unhealthy, checked, 2).kill).toEqual([]);
    const healthy = [inst(0, 'a', { specVersion: 2, healthy: true }), inst(1, 'a', { healthy: true })];
    expect(rolloutStep(healthy, checked, 2).kill).toEqual([{ index: 1, cause: 'update' }]);
  });
});

describe('chooseScaleDownVictims', () => {
  it('removes instances not serving first, then from the most crowded zone, highest slot first', () => {
    const instances = [inst(0, 'a'), inst(1, 'a'), inst(2, 'b'), inst(3, 'c'), inst(4, undefined, { state: 'pending' }), inst(5, 'a', { state: 'staging' })];
    expect(chooseScaleDownVictims(instances, 1).map((i) => i.index)).toEqual([4]);
    expect(chooseScaleDownVictims(instances, 3).map((i) => i.index)).toEqual([4, 5, 1]);
    expect(chooseScaleDownVictims(instances, 5).map((i) => i.index)).toEqual([4, 5, 1, 3, 2]);
  });
});
