import { describe, expect, it } from 'vitest';
import type { ClusterAgent } from '../../../src/jobs/agents.js';
import { planConverge, type ConvergeInput, type JobPlan } from '../../../src/jobs/converge.js';
import { planLaunches } from '../../../src/jobs/launch-plan.js';
import { applyStatus, type InstanceBackoff } from '../../../src/jobs/lifecycle.js';
import { isAvailable, type InstanceDoc, type JobDoc } from '../../../src/jobs/model.js';
import { parseJobSpec, type JobSpecInput } from '../../../src/jobs/spec.js';
import type { Offer, TaskStatus } from '../../../src/sdk/index.js';

// What one step decides for one job: scale up and down, the rolling update within
// maxUnavailable, rebalance moves, replacement after a failure (with its backoff), batch retries
// and completion, deletion, launch timeouts and kill retries.

const NOW = 1_000_000;
const LAUNCH_TIMEOUT_MS = 10_000;
const KILL_RETRY_MS = 2_000;
const BACKOFF: InstanceBackoff = { initialMs: 1_000, maxMs: 8_000, resetAfterMs: 60_000 };

function jobDoc(input: Partial<JobSpecInput> = {}, over: Partial<JobDoc> = {}): JobDoc {
  const spec = parseJobSpec({ name: 'web', instances: 3, cpus: 0.5, mem: 64, command: 'serve', ...input });
  return { spec, specVersion: 1, createdAt: 0, updatedAt: 0, rebalanceRequests: 0, ...over };
}

/** A slot running task `t<index>` in `zone` since long ago. */
function running(index: number, zone: string, over: Partial<InstanceDoc> = {}): InstanceDoc {
  return { index, state: 'running', specVersion: 1, taskId: `t${index}`, agentId: `A-${zone}`, hostname: `h-${zone}`, zone, taskState: 'TASK_RUNNING', launches: 1, failures: 0, launchedAt: NOW - 60_000, runningSince: NOW - 59_000, updatedAt: NOW - 59_000, ...over };
}

function pending(index: number, over: Partial<InstanceDoc> = {}): InstanceDoc {
  return { index, state: 'pending', specVersion: 1, launches: 0, failures: 0, updatedAt: NOW - 1_000, ...over };
}

function plan(job: JobDoc, instances: readonly InstanceDoc[], over: Partial<ConvergeInput> = {}): JobPlan {
  return planConverge({ job, status: undefined, instances, agents: [], killSent: new Map(), now: NOW, launchTimeoutMs: LAUNCH_TIMEOUT_MS, killRetryMs: KILL_RETRY_MS, ...over });
}

/** KILLs sent at `at` for every order of the plan. */
function sentAt(p: JobPlan, at: number, before: ReadonlyMap<string, number> = new Map()): Map<string, number> {
  return new Map([...before, ...p.kills.map((k) => [k.taskId, at] as const)]);
}

function status(taskId: string, state: TaskStatus['state']): TaskStatus {
  return { taskId, state };
}

function offer(id: string, agentId: string, zone: string): Offer {
  return { id, frameworkId: 'f', agentId, hostname: `h-${zone}`, role: '*', resources: { cpus: 4, mem: 4096, disk: 0, network: 0, ports: [] }, attributes: { zone }, rawResources: [] };
}

function agent(zone: string, reachable = true): ClusterAgent {
  return { agentId: `A-${zone}`, hostname: `h-${zone}`, attributes: { zone }, total: { cpus: 4, mem: 4096, disk: 0, ports: 0 }, reachable };
}

const killed = (p: JobPlan): [number, string][] => p.kills.map((k) => [k.index, k.cause]);

describe('planConverge: scale', () => {
  it('adds pending slots after the highest one, on the current spec', () => {
    const job = jobDoc({ instances: 4 }, { specVersion: 2 });
    const p = plan(job, [running(0, 'a', { specVersion: 2 }), running(5, 'b', { specVersion: 2 })]);
    expect(p.writes).toEqual([
      { index: 6, state: 'pending', specVersion: 2, launches: 0, failures: 0, updatedAt: NOW },
      { index: 7, state: 'pending', specVersion: 2, launches: 0, failures: 0, updatedAt: NOW },
    ]);
    expect(p.kills).toEqual([]);
    expect(p.removals).toEqual([]);
  });

  it('removes the surplus: slots without a task dropped first, then running ones killed from the most crowded zone, highest slot first', () => {
    const job = jobDoc({ instances: 4 });
    const slots = [running(0, 'a'), running(1, 'a'), running(2, 'a'), running(3, 'b'), running(4, 'b'), running(5, 'c'), pending(6)];
    const p = plan(job, slots);
    expect(p.removals).toEqual([6]);
    expect(killed(p)).toEqual([
      [2, 'scale'],
      [4, 'scale'],
    ]);
    expect(p.kills[0]).toEqual({ index: 2, taskId: 't2', agentId: 'A-a', cause: 'scale', retry: false });
    expect(p.writes.map((w) => [w.index, w.state, w.kill, w.remove])).toEqual([
      [2, 'killing', 'scale', true],
      [4, 'killing', 'scale', true],
    ]);
    // The next step waits for those tasks to end: nothing more, until the KILLs are due again.
    const again = plan(job, p.instances, { killSent: sentAt(p, NOW) });
    expect(again).toMatchObject({ writes: [], removals: [], kills: [] });
    const later = plan(job, p.instances, { killSent: sentAt(p, NOW), now: NOW + KILL_RETRY_MS });
    expect(later.kills).toEqual([
      { index: 2, taskId: 't2', agentId: 'A-a', cause: 'scale', retry: true },
      { index: 4, taskId: 't4', agentId: 'A-b', cause: 'scale', retry: true },
    ]);
    expect(later.writes).toEqual([]);
  });

  it('drops slots scaled away whose task ended meanwhile, and fills a slot number freed that way', () => {
    const job = jobDoc({ instances: 3 });
    const gone = pending(2, { remove: true, lastExit: { state: 'TASK_KILLED', at: NOW - 5 } });
    expect(plan(jobDoc({ instances: 2 }), [running(0, 'a'), running(1, 'b'), gone])).toMatchObject({ writes: [], removals: [2], kills: [] });
    // Scaled back up meanwhile: slot 2 starts over instead.
    const p = plan(job, [running(0, 'a'), running(1, 'b'), gone]);
    expect(p.removals).toEqual([]);
    expect(p.writes).toEqual([{ index: 2, state: 'pending', specVersion: 1, launches: 0, failures: 0, updatedAt: NOW }]);
  });
});

describe('planConverge: rolling update', () => {
  it('replaces every outdated instance without ever taking more than maxUnavailable down', () => {
    const job = jobDoc({ instances: 6, maxUnavailable: 2 }, { specVersion: 2 });
    let slots: InstanceDoc[] = ['a', 'a', 'b', 'b', 'c', 'c'].map((zone, i) => running(i, zone));
    let killSent = new Map<string, number>();
    const rounds: [number, string][][] = [];
    for (let round = 0, now = NOW; round < 10 && !slots.every((s) => s.specVersion === 2 && s.state === 'running'); round++, now += 100) {
      const p = plan(job, slots, { now, killSent });
      rounds.push(killed(p));
      expect(p.instances.filter((s) => isAvailable(s, job.spec)).length).toBeGreaterThanOrEqual(4);
      killSent = sentAt(p, now, killSent);
      // Then the replacements launched last round run, and the killed tasks end: their slots
      // take the new spec and are launched again.
      slots = p.instances.map((s) => {
        if (s.state === 'launching') return { ...s, state: 'running', taskState: 'TASK_RUNNING', runningSince: now };
        if (s.kill === undefined) return s;
        const t = applyStatus(s, job.spec, job.specVersion, status(s.taskId!, 'TASK_KILLED'), now, BACKOFF);
        expect(t.next).toMatchObject({ state: 'pending', specVersion: 2 });
        return t.next === 'removed' ? s : { ...t.next, state: 'launching', taskId: `n${s.index}`, launches: s.launches + 1, launchedAt: now };
      });
    }
    expect(rounds).toEqual([
      [
        [0, 'update'],
        [1, 'update'],
      ],
      [], // 0 and 1 not running yet
      [
        [2, 'update'],
        [3, 'update'],
      ],
      [],
      [
        [4, 'update'],
        [5, 'update'],
      ],
      [],
    ]);
  });

  it('waits while replacements are not running yet: they count against maxUnavailable', () => {
    const job = jobDoc({ instances: 4, maxUnavailable: 2 }, { specVersion: 2 });
    const slots = [pending(0, { specVersion: 2 }), running(1, 'a', { specVersion: 2, state: 'starting', launchedAt: NOW - 10 }), running(2, 'b'), running(3, 'c')];
    expect(plan(job, slots).kills).toEqual([]);
    const oneUp = [running(0, 'a', { specVersion: 2 }), running(1, 'a', { specVersion: 2, state: 'starting', launchedAt: NOW - 10 }), running(2, 'b'), running(3, 'c')];
    expect(killed(plan(job, oneUp))).toEqual([[2, 'update']]);
  });

  it('gives pending slots the current spec', () => {
    const job = jobDoc({ instances: 2 }, { specVersion: 3 });
    const p = plan(job, [running(0, 'a', { specVersion: 3 }), pending(1, { specVersion: 2, failures: 1, backoffUntil: NOW + 10 })]);
    expect(p.writes).toEqual([pending(1, { specVersion: 3, failures: 1, backoffUntil: NOW + 10, updatedAt: NOW })]);
    expect(p.kills).toEqual([]);
  });
});

describe('planConverge: rebalance', () => {
  it('marks the surplus of crowded zones to move and moves them within maxUnavailable, once per request', () => {
    const job = jobDoc({ instances: 6, maxUnavailable: 1 }, { rebalanceRequests: 1 });
    const slots = [running(0, 'a'), running(1, 'a'), running(2, 'a'), running(3, 'b'), running(4, 'b'), running(5, 'b')];
    const agents = [agent('a'), agent('b'), agent('c')];
    const p = plan(job, slots, { agents });
    expect(p.rebalance?.status).toEqual({ rebalanceHandled: 1, lastRebalance: { at: NOW, moves: { a: 1, b: 1 } } });
    expect(p.rebalance?.plan.targets).toEqual({ a: 2, b: 2, c: 2 });
    expect(p.writes.map((w) => [w.index, w.move, w.kill])).toEqual([
      [2, true, 'rebalance'],
      [5, true, undefined],
    ]);
    expect(killed(p)).toEqual([[2, 'rebalance']]);
    // Handled: no new marks; slot 5 moves once slot 2's replacement is available.
    const handled = { rebalanceHandled: 1 };
    expect(plan(job, p.instances, { agents, status: handled, killSent: sentAt(p, NOW) })).toMatchObject({ writes: [], kills: [] });
    const replaced = p.instances.map((s) => (s.index === 2 ? running(2, 'c', { taskId: 'n2' }) : s));
    expect(killed(plan(job, replaced, { agents, status: handled }))).toEqual([[5, 'rebalance']]);
  });

  it('spreads only over zones with a reachable agent', () => {
    const job = jobDoc({ instances: 2 }, { rebalanceRequests: 1 });
    const p = plan(job, [running(0, 'a'), running(1, 'a')], { agents: [agent('a'), agent('b', false)] });
    expect(p.rebalance?.plan.moves).toEqual({});
    expect(p.kills).toEqual([]);
  });
});

describe('planConverge: failures, timeouts and kill retries', () => {
  it('replaces a failed instance after its backoff, without adding a slot', () => {
    const job = jobDoc({ instances: 1 });
    const failed = applyStatus(running(0, 'a'), job.spec, 1, status('t0', 'TASK_FAILED'), NOW, BACKOFF).next as InstanceDoc;
    expect(failed).toMatchObject({ state: 'pending', failures: 1, backoffUntil: NOW + 1_000 });
    expect(plan(job, [failed])).toMatchObject({ writes: [], removals: [], kills: [] });
    const pass = (now: number) => planLaunches({ jobs: [{ name: 'web', job, instances: [failed] }], offers: [offer('o1', 'A-a', 'a')], agents: new Map(), now, lastPassAt: 0, reasonsRefreshMs: 500, newTaskId: (j, i) => `${j}.${i}.next` });
    expect(pass(NOW + 999).kind).toBe('idle');
    const due = pass(NOW + 1_000);
    const relaunched = due.kind === 'pass' ? due.launches[0]?.tasks[0]?.doc : undefined;
    expect(relaunched).toMatchObject({ state: 'launching', taskId: 'web.0.next', launches: 2, failures: 1 });
    expect(relaunched).not.toHaveProperty('backoffUntil');
    // Failing again soon after doubles the wait.
    const again = applyStatus({ ...failed, state: 'running', taskId: 'web.0.next', runningSince: NOW + 1_100 }, job.spec, 1, status('web.0.next', 'TASK_FAILED'), NOW + 1_200, BACKOFF).next;
    expect(again).toMatchObject({ state: 'pending', failures: 2, backoffUntil: NOW + 1_200 + 2_000 });
  });

  it('kills and replaces a launch that did not start in time', () => {
    const job = jobDoc({ instances: 3 });
    const slots = [
      running(0, 'a', { state: 'launching', taskState: undefined, runningSince: undefined, launchedAt: NOW - LAUNCH_TIMEOUT_MS }),
      running(1, 'b', { state: 'starting', taskState: 'TASK_STARTING', runningSince: undefined, launchedAt: NOW - LAUNCH_TIMEOUT_MS + 1 }),
      running(2, 'c', { launchedAt: NOW - 10 * LAUNCH_TIMEOUT_MS }),
    ];
    const p = plan(job, slots);
    expect(killed(p)).toEqual([[0, 'timeout']]);
    expect(p.writes).toEqual([{ ...slots[0]!, state: 'killing', kill: 'timeout', updatedAt: NOW }]);
  });

  it('asks again for a KILL with no answer after killRetryMs', () => {
    const job = jobDoc({ instances: 1 }, { specVersion: 2 });
    const slot = running(0, 'a', { state: 'killing', kill: 'update' });
    expect(plan(job, [slot], { killSent: new Map([['t0', NOW - KILL_RETRY_MS + 1]]) }).kills).toEqual([]);
    expect(plan(job, [slot], { killSent: new Map([['t0', NOW - KILL_RETRY_MS]]) })).toMatchObject({ writes: [], kills: [{ index: 0, taskId: 't0', cause: 'update', retry: true }] });
    // Not sent at all yet (the framework restarted): sent now.
    expect(plan(job, [slot]).kills).toEqual([{ index: 0, taskId: 't0', agentId: 'A-a', cause: 'update', retry: true }]);
  });
});

describe('planConverge: batch jobs', () => {
  it('retries a failing instance up to its limit and leaves finished and failed ones alone', () => {
    const job = jobDoc({ type: 'batch', instances: 3, retries: 1, command: 'run' });
    const finished = pending(0, { state: 'finished', launches: 1 });
    const first = applyStatus(running(1, 'b'), job.spec, 1, status('t1', 'TASK_FAILED'), NOW, BACKOFF).next as InstanceDoc;
    expect(first).toMatchObject({ state: 'pending', launches: 1, backoffUntil: NOW + 1_000 });
    const slots = [finished, first, running(2, 'c')];
    expect(plan(job, slots)).toMatchObject({ writes: [], removals: [], kills: [] });
    const retry = planLaunches({ jobs: [{ name: 'etl', job, instances: slots }], offers: [offer('o1', 'A-b', 'b')], agents: new Map(), now: NOW + 1_000, lastPassAt: 0, reasonsRefreshMs: 500, newTaskId: () => 'etl.1.retry' });
    expect(retry.launchable).toEqual(['etl/1']);
    // The retry fails too: out of retries, the slot stays failed.
    const last = applyStatus({ ...first, state: 'running', taskId: 'etl.1.retry', launches: 2 }, job.spec, 1, status('etl.1.retry', 'TASK_FAILED'), NOW + 2_000, BACKOFF).next as InstanceDoc;
    expect(last.state).toBe('failed');
    const done = [finished, last, pending(2, { state: 'finished', launches: 1 })];
    expect(plan(job, done)).toMatchObject({ writes: [], removals: [], kills: [] });
    expect(planLaunches({ jobs: [{ name: 'etl', job, instances: done }], offers: [offer('o1', 'A-b', 'b')], agents: new Map(), now: NOW + 10_000, lastPassAt: 0, reasonsRefreshMs: 500, newTaskId: () => 'x' }).kind).toBe('idle');
  });
});

describe('planConverge: delete', () => {
  it('kills every live task for the delete (whatever it was killed for before), drops the other slots, then the job', () => {
    const job = jobDoc({ instances: 4 }, { deleting: true, specVersion: 2 });
    const slots = [running(0, 'a'), running(1, 'b', { state: 'killing', kill: 'update' }), running(2, 'c', { state: 'killing', kill: 'delete' }), pending(3)];
    const killSent = new Map([
      ['t1', NOW - 10],
      ['t2', NOW - 10],
    ]);
    const p = plan(job, slots, { killSent });
    expect(p.removals).toEqual([3]);
    expect(killed(p)).toEqual([
      [0, 'delete'],
      [1, 'delete'],
    ]);
    expect(p.writes.map((w) => [w.index, w.state, w.kill])).toEqual([
      [0, 'killing', 'delete'],
      [1, 'killing', 'delete'],
    ]);
    expect(p.deleteJob).toBe(false);
    const ended = [pending(0, { lastExit: { state: 'TASK_KILLED', at: NOW } }), pending(1, { state: 'finished' })];
    expect(plan(job, ended)).toMatchObject({ removals: [0, 1], kills: [], deleteJob: true });
    expect(plan(job, []).deleteJob).toBe(true);
  });
});
