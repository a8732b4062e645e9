import { describe, expect, it } from 'vitest';
import type { ClusterAgent } from '../../../src/jobs/agents.js';
import { planLaunches, type LaunchPlan, type LaunchPlanInput, type PassJob } from '../../../src/jobs/launch-plan.js';
import type { InstanceDoc, JobDoc } from '../../../src/jobs/model.js';
import { parseJobSpec, type JobSpecInput } from '../../../src/jobs/spec.js';
import type { Offer } from '../../../src/sdk/index.js';

// One placement pass decided: which slots need a task, the launch records and TaskInfos of each
// ACCEPT, the pending reasons to store (and how often), and the offers that go back.

const NOW = 1_000_000;
const REASONS_MS = 500;

function job(name: string, instances: readonly InstanceDoc[], input: Partial<JobSpecInput> = {}, over: Partial<JobDoc> = {}): PassJob {
  const spec = parseJobSpec({ name, instances: instances.length, cpus: 0.5, mem: 64, command: 'serve', ...input });
  return { name, job: { spec, specVersion: 1, createdAt: 0, updatedAt: 0, rebalanceRequests: 0, ...over }, instances };
}

function pending(index: number, over: Partial<InstanceDoc> = {}): InstanceDoc {
  return { index, state: 'pending', specVersion: 1, launches: 0, failures: 0, updatedAt: NOW - 1_000, ...over };
}

function running(index: number, zone: string): InstanceDoc {
  return { index, state: 'running', specVersion: 1, taskId: `t${index}`, agentId: `A-${zone}`, hostname: `h-${zone}`, zone, launches: 1, failures: 0, updatedAt: 0 };
}

function offer(id: string, zone: string, cpus = 4): Offer {
  return { id, frameworkId: 'f', agentId: `A-${zone}`, hostname: `h-${zone}`, role: '*', resources: { cpus, mem: 4096, disk: 0, network: 0, ports: [] }, attributes: { zone }, rawResources: [] };
}

function plan(jobs: readonly PassJob[], over: Partial<LaunchPlanInput> = {}): LaunchPlan {
  let n = 0;
  return planLaunches({ jobs, offers: [], agents: new Map(), now: NOW, lastPassAt: 0, reasonsRefreshMs: REASONS_MS, newTaskId: (j, i) => `${j}.${i}.${n++}`, ...over });
}

function pass(p: LaunchPlan): Extract<LaunchPlan, { kind: 'pass' }> {
  if (p.kind !== 'pass') throw new Error(`expected a pass, got ${p.kind}`);
  return p;
}

describe('planLaunches', () => {
  it('records each launch (task id, agent, zone, attempt) with its TaskInfo, and declines the offers no launch uses', () => {
    const web = job('web', [pending(0), pending(1, { failures: 2, backoffUntil: NOW - 1, pending: { message: 'old', reasons: [], shortfall: true, at: 0 } }), pending(2)]);
    const p = pass(plan([web], { offers: [offer('oa', 'a'), offer('ob', 'b'), offer('oc', 'c'), offer('tiny', 'd', 0.1)] }));
    expect(p.launchable).toEqual(['web/0', 'web/1', 'web/2']);
    expect(p.launches.map((h) => [h.agentId, h.offerIds, h.tasks.map((t) => t.index)]).sort()).toEqual([
      ['A-a', ['oa'], [expect.any(Number)]],
      ['A-b', ['ob'], [expect.any(Number)]],
      ['A-c', ['oc'], [expect.any(Number)]],
    ]);
    const one = p.launches.flatMap((h) => h.tasks).find((t) => t.index === 1)!;
    expect(one.doc).toEqual({ index: 1, state: 'launching', specVersion: 1, taskId: one.taskId, agentId: one.info.agent_id.value, hostname: expect.stringMatching(/^h-/), zone: expect.any(String), launches: 1, failures: 2, launchedAt: NOW, updatedAt: NOW });
    expect(one.info.task_id.value).toBe(one.taskId);
    expect(one.info.labels!.labels).toContainEqual({ key: 'stratus.instance', value: '1' });
    expect(p.decline).toEqual(['tiny']);
    expect(p.reasons).toEqual([]);
  });

  it('needs a task only for pending slots not backing off, kept or scaled away, of jobs not being deleted, by job then slot', () => {
    const jobs = [
      job('zeta', [pending(1), pending(0, { backoffUntil: NOW + 1 })]),
      job('alpha', [pending(2), running(0, 'a'), pending(1, { remove: true }), pending(3, { backoffUntil: NOW })]),
      job('gone', [pending(0)], {}, { deleting: true }),
    ];
    expect(plan(jobs, { offers: [offer('oa', 'a')] }).launchable).toEqual(['alpha/2', 'alpha/3', 'zeta/1']);
    expect(plan([job('web', [running(0, 'a')])], { offers: [offer('oa', 'a')] })).toEqual({ kind: 'idle', launchable: [] });
  });

  it('places where the job is thin, counting its running tasks', () => {
    const web = job('web', [running(0, 'a'), running(1, 'b'), pending(2)]);
    const p = pass(plan([web], { offers: [offer('oa', 'a'), offer('ob', 'b'), offer('oc', 'c')] }));
    expect(p.launches.map((h) => h.agentId)).toEqual(['A-c']);
    expect([...p.decline].sort()).toEqual(['oa', 'ob']);
  });

  it('stores why a slot waits when the explanation changes, and the same one again after reasonsRefreshMs', () => {
    const nowhere = { constraints: [{ type: 'hostAttribute' as const, attribute: 'zone', values: ['z9'] }] };
    const offers = [offer('oa', 'a')];
    const fresh = pass(plan([job('stuck', [pending(0)], nowhere)], { offers }));
    expect(fresh.failures.get('stuck/0')?.reasons[0]).toMatchObject({ kind: 'constraint', constraint: 'HostAttrValueConstraint[zone]' });
    expect(fresh.reasons).toHaveLength(1);
    const reason = fresh.reasons[0]!.doc.pending!;
    expect(reason).toMatchObject({ shortfall: false, at: NOW });
    expect(reason.message).toMatch(/HostAttrValueConstraint\[zone\]/);
    expect(fresh.reasons[0]!.doc.updatedAt).toBe(NOW);
    expect(fresh.decline).toEqual(['oa']);
    const recent = { ...reason, at: NOW - REASONS_MS + 1 };
    expect(pass(plan([job('stuck', [pending(0, { pending: recent })], nowhere)], { offers })).reasons).toEqual([]);
    const stale = { ...reason, at: NOW - REASONS_MS };
    expect(pass(plan([job('stuck', [pending(0, { pending: stale })], nowhere)], { offers })).reasons).toHaveLength(1);
    const other = { ...recent, message: 'something else' };
    expect(pass(plan([job('stuck', [pending(0, { pending: other })], nowhere)], { offers })).reasons).toHaveLength(1);
  });

  it('without offers, runs a pass only every reasonsRefreshMs, filling in what no pass with offers explained lately', () => {
    const full: ClusterAgent = { agentId: 'A-a', hostname: 'h-a', attributes: { zone: 'a' }, total: { cpus: 4, mem: 4096, disk: 0, ports: 0 }, reachable: true };
    const agents = new Map([['A-a', full]]);
    const slots = [pending(0), pending(1, { pending: { message: 'explained', reasons: [], shortfall: true, at: NOW - 2 * REASONS_MS + 1 } }), pending(2, { pending: { message: 'explained', reasons: [], shortfall: true, at: NOW - 2 * REASONS_MS } })];
    expect(plan([job('web', slots)], { agents, lastPassAt: NOW - REASONS_MS + 1 })).toEqual({ kind: 'wait', launchable: ['web/0', 'web/1', 'web/2'] });
    const p = pass(plan([job('web', slots)], { agents, lastPassAt: NOW - REASONS_MS }));
    expect(p.launches).toEqual([]);
    expect(p.reasons.map((r) => [r.doc.index, r.doc.pending?.shortfall])).toEqual([
      [0, true],
      [2, true],
    ]);
    expect(p.decline).toEqual([]);
  });
});
