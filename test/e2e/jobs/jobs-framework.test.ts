import { afterEach, describe, expect, it } from 'vitest';
import type { JobDetail, JobsClient, RunningJobs } from '../../../src/jobs/index.js';
import { ApiError } from '../../../src/wire/api-error.js';
import { TestCluster } from '../../support/jobs-cluster.js';
import { waitUntil } from '../../support/wait.js';
import { client, masterRunning, runningByZone, startJobs, waitRunning, watchRunning } from '../../support/jobs-harness.js';

// The jobs framework end to end: a master, simulated agents over three zones, the framework
// through the SDK, its HTTP API on the master.

describe('jobs framework', () => {
  let cluster: TestCluster;
  let jobs: RunningJobs | undefined;
  let api: JobsClient;

  async function boot(perZone = 1): Promise<void> {
    cluster = await TestCluster.start();
    await cluster.addZones(['a', 'b', 'c'], perZone);
    jobs = await startJobs(cluster);
    api = client(cluster);
  }

  afterEach(async () => {
    await jobs?.stop();
    jobs = undefined;
    await cluster?.stop();
  });

  it('keeps a 6-instance service running, spread 2/2/2 over three zones', async () => {
    await boot();
    await api.submit({ name: 'web', instances: 6, cpus: 0.5, mem: 64, command: 'serve forever' });
    const job = await waitRunning(api, 'web', 6);
    expect(runningByZone(job)).toEqual({ a: 2, b: 2, c: 2 });
    expect(job.state).toBe('running');
    // The tasks carry what the spec says, and the framework stops asking for offers.
    const task = await cluster.master.registry.getTask(jobs!.framework.frameworkId!, job.instances[0]!.taskId!);
    expect(task?.spec.command?.value).toBe('serve forever');
    expect(task?.spec.labels).toMatchObject({ 'stratus.job': 'web', 'stratus.instance': '0' });
    await waitUntil(async () => (await cluster.master.registry.getFramework(jobs!.framework.frameworkId!))?.suppressedRoles.includes('*'), 5_000, 'SUPPRESS');
  });

  it('replaces an instance that keeps failing, with an exponential backoff', async () => {
    await boot();
    await api.submit({ name: 'crashy', instances: 1, cpus: 0.1, mem: 32, command: 'exit 3' });
    const fid = await waitUntil(() => jobs!.framework.frameworkId, 5_000, 'the framework id');
    const launches = await waitUntil(
      async () => {
        const tasks = (await cluster.master.registry.listTasksByFramework(fid)).filter((t) => t.taskId.startsWith('crashy.0.'));
        return tasks.length >= 4 ? tasks.map((t) => t.createdAt).sort((a, b) => a - b) : undefined;
      },
      15_000,
      'four launches',
    );
    const gaps = launches.slice(1).map((t, i) => t - launches[i]!);
    // 300 ms, 600 ms, 1200 ms (plus the time to fail and relaunch).
    expect(gaps[0]!).toBeGreaterThanOrEqual(280);
    expect(gaps[1]!).toBeGreaterThanOrEqual(580);
    expect(gaps[2]!).toBeGreaterThanOrEqual(1180);
    const job = await api.get('crashy');
    expect(job.instances[0]!.failures).toBeGreaterThanOrEqual(3);
    expect(job.instances[0]!.lastExit).toMatchObject({ state: 'TASK_FAILED', message: 'exited with code 3' });
  });

  it('replaces the instances of a lost agent in the other zones, and rebalances when the zone is back', async () => {
    await boot();
    await api.submit({ name: 'web', instances: 6, cpus: 0.5, mem: 64, command: 'serve forever', maxUnavailable: 1 });
    await waitRunning(api, 'web', 6);
    const lostAgent = cluster.agents[2]!; // zone c
    await lostAgent.stop();
    // The master marks the agent unreachable; its two instances come back in zones a and b.
    const after = await waitUntil(
      async () => {
        const job = await api.get('web');
        const z = runningByZone(job);
        return job.counts.running === 6 && z.c === undefined ? job : undefined;
      },
      15_000,
      'six running instances without zone c',
    );
    expect(runningByZone(after)).toEqual({ a: 3, b: 3 });
    // Zone c returns. Nothing moves by itself...
    await lostAgent.start();
    // The framework steps on every event (zone c's offers among them) and every tick.
    await waitUntil(async () => (await cluster.master.registry.getAgent(lostAgent.agentId!))?.reachability === 'REACHABLE', 10_000, 'zone c to be back');
    const steps = jobs!.framework.stats.steps;
    await waitUntil(() => jobs!.framework.stats.steps >= steps + 3, 10_000, 'three framework steps with zone c back');
    expect(runningByZone(await api.get('web'))).toEqual({ a: 3, b: 3 });
    // ...until a rebalance: one surplus instance leaves a and b each, the replacements go to c.
    const r = await api.rebalance('web');
    expect(r.plan.moves).toEqual({ a: 1, b: 1 });
    const balanced = await waitUntil(
      async () => {
        const job = await api.get('web');
        return job.counts.running === 6 && job.instances.length === 6 && runningByZone(job).c === 2 ? job : undefined;
      },
      15_000,
      'a 2/2/2 spread',
    );
    expect(runningByZone(balanced)).toEqual({ a: 2, b: 2, c: 2 });
    // The tasks cut off with zone c were killed when it came back: exactly six run.
    await waitUntil(async () => (await masterRunning(cluster, jobs!.framework.frameworkId!, 'web')).length === 6, 5_000, 'six tasks on the master');
  });

  it('scales up and down, keeping the zones even', async () => {
    await boot();
    await api.submit({ name: 'web', instances: 3, cpus: 0.25, mem: 32, command: 'serve forever' });
    await waitRunning(api, 'web', 3);
    const up = await api.scale('web', 9);
    expect(up.rolling).toBe(false);
    expect(runningByZone(await waitRunning(api, 'web', 9))).toEqual({ a: 3, b: 3, c: 3 });
    await api.scale('web', 4);
    const down = await waitRunning(api, 'web', 4);
    expect(Object.values(runningByZone(down)).sort()).toEqual([1, 1, 2]);
    await waitUntil(async () => (await masterRunning(cluster, jobs!.framework.frameworkId!, 'web')).length === 4, 5_000, 'four tasks on the master');
  });

  it('rolls a new command out without ever having more than maxUnavailable instances down', async () => {
    await boot();
    await api.submit({ name: 'web', instances: 6, cpus: 0.25, mem: 32, command: 'serve v1', maxUnavailable: 2 });
    const before = await waitRunning(api, 'web', 6);
    const fid = jobs!.framework.frameworkId!;
    // Every task update the master sends throughout the update, from the six running now.
    const watch = watchRunning(jobs!, 'web', before.instances.map((i) => i.taskId!));
    const res = await api.update('web', { command: 'serve v2' });
    expect(res.rolling).toBe(true);
    const after = await waitUntil(
      async () => {
        const job = await api.get('web');
        return job.counts.running === 6 && job.instances.length === 6 && job.instances.every((i) => i.specVersion === 2) ? job : undefined;
      },
      20_000,
      'all instances on version 2',
    );
    watch.stop();
    expect(watch.min).toBeGreaterThanOrEqual(4);
    expect(watch.min).toBeLessThan(6); // it did replace tasks
    const oldIds = new Set(before.instances.map((i) => i.taskId));
    expect(after.instances.every((i) => !oldIds.has(i.taskId))).toBe(true);
    expect((await masterRunning(cluster, fid, 'web')).sort()).toEqual(after.instances.map((i) => i.taskId!).sort());
    const task = await cluster.master.registry.getTask(fid, after.instances[0]!.taskId!);
    expect(task?.spec.command?.value).toBe('serve v2');
    expect(runningByZone(after)).toEqual({ a: 2, b: 2, c: 2 });
  });

  it('runs batch jobs to completion, retrying a failing one up to its limit', async () => {
    await boot();
    await api.submit({ name: 'ok', type: 'batch', instances: 3, cpus: 0.1, mem: 32, command: 'sleep 0.2' });
    await api.submit({ name: 'bad', type: 'batch', instances: 1, cpus: 0.1, mem: 32, command: 'exit 1', retries: 2 });
    const ok = await waitUntil(async () => ((await api.get('ok')).state === 'finished' ? api.get('ok') : undefined), 10_000, 'ok finished');
    expect(ok.counts.finished).toBe(3);
    expect(ok.instances.every((i) => i.launches === 1)).toBe(true);
    const bad = await waitUntil(async () => ((await api.get('bad')).state === 'failed' ? api.get('bad') : undefined), 15_000, 'bad failed');
    expect(bad.instances[0]!.launches).toBe(3); // the first run and two retries
    // Nothing more is launched for either.
    const fid = jobs!.framework.frameworkId!;
    const count = (await cluster.master.registry.listTasksByFramework(fid)).length;
    const steps = jobs!.framework.stats.steps;
    await waitUntil(() => jobs!.framework.stats.steps >= steps + 3, 10_000, 'three more framework steps');
    expect((await cluster.master.registry.listTasksByFramework(fid)).length).toBe(count);
    expect(count).toBe(6);
  });

  it('survives its own restart: resubscribes as itself and reconciles, without duplicates', async () => {
    await boot();
    await api.submit({ name: 'web', instances: 4, cpus: 0.25, mem: 32, command: 'serve forever' });
    const before = await waitRunning(api, 'web', 4);
    const fid = jobs!.framework.frameworkId!;
    await jobs!.stop();
    // While it is away: the user scales up, and a half-done launch is left behind (as if the
    // framework had died after recording a task and before sending the ACCEPT).
    await api.scale('web', 5);
    await cluster.master.registry
      .transaction()
      .putDocument('instances.web', '4', { index: 4, state: 'launching', specVersion: 1, taskId: 'web.4.deadbeef', agentId: cluster.agents[0]!.agentId!, hostname: 'a-0', zone: 'a', launches: 1, failures: 0, launchedAt: Date.now(), updatedAt: Date.now() }, 'absent')
      .commit();
    jobs = await startJobs(cluster, { mount: false });
    await waitUntil(() => jobs!.framework.driver?.subscribed, 5_000, 'resubscription');
    expect(jobs.framework.frameworkId).toBe(fid);
    const after = await waitRunning(api, 'web', 5);
    // The four running instances kept their tasks; the lost launch was relaunched under a new id.
    for (const i of before.instances) expect(after.instances.find((j) => j.index === i.index)?.taskId).toBe(i.taskId);
    expect(after.instances.find((i) => i.index === 4)?.taskId).not.toBe('web.4.deadbeef');
    expect((await masterRunning(cluster, fid, 'web')).sort()).toEqual(after.instances.map((i) => i.taskId!).sort());
    const launched = cluster.agents.flatMap((a) => a.launched).filter((k) => k.includes('/web.'));
    expect(launched).toHaveLength(5);
  });

  it('rejects bad input with a 4xx naming the field', async () => {
    await boot();
    const cases: [unknown, number, string][] = [
      [{ name: 'x', instances: 0, cpus: 1, mem: 64, command: 'c' }, 400, 'instances'],
      [{ name: 'x', instances: 1, cpus: -1, mem: 64, command: 'c' }, 400, 'cpus'],
      [{ name: 'x', instances: 1, cpus: 0.5, mem: -64, command: 'c' }, 400, 'mem'],
      [{ name: 'x', instances: 1, cpus: 64, mem: 64, command: 'c' }, 400, 'cpus'],
      [{ name: 'x', instances: 1, cpus: 1, mem: 1e6, command: 'c' }, 400, 'mem'],
      [{ name: 'x', instances: 1, cpus: 1, mem: 64, command: 'c', constraints: [{ type: 'sameRack' }] }, 400, 'constraints[0].type'],
      [{ name: 'x', instances: 1, cpus: 1, mem: 64, command: 'c', constraints: [{ type: 'hostAttribute', attribute: 'gpu', values: ['yes'] }] }, 400, 'constraints[0].attribute'],
      [{ name: 'x', instances: 1, cpus: 1, mem: 64, command: 'c', zoneSpread: 'sideways' }, 400, 'zoneSpread'],
      [{ name: 'x', instances: 1, cpus: 1, mem: 64, command: 'c', colour: 'blue' }, 400, 'colour'],
      [{ name: 'x', instances: 1, cpus: 1, mem: 64 }, 400, 'command'],
      [{ name: 'Bad_Name', instances: 1, cpus: 1, mem: 64, command: 'c' }, 400, 'name'],
      [{ name: 'x', instances: 1, cpus: 1, mem: 64, image: 'Not An Image' }, 400, 'image'],
    ];
    for (const [body, status, field] of cases) {
      const res = await fetch(`${cluster.url}/api/v1/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.json()) as { error: string; field: string };
      expect({ status: res.status, field: json.field }, JSON.stringify(body)).toEqual({ status, field });
      expect(json.error).toBeTruthy();
    }
    const malformed = await fetch(`${cluster.url}/api/v1/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"name":' });
    expect(malformed.status).toBe(400);
    await api.submit({ name: 'web', instances: 1, cpus: 0.1, mem: 32, command: 'c' });
    await expect(api.submit({ name: 'web', instances: 1, cpus: 0.1, mem: 32, command: 'c' })).rejects.toMatchObject({ status: 409, field: 'name' });
    await expect(api.get('nope')).rejects.toMatchObject({ status: 404 });
    await expect(api.update('web', { type: 'batch' })).rejects.toMatchObject({ status: 400, field: 'type' });
    await expect(api.update('web', { cpus: 0 })).rejects.toMatchObject({ status: 400, field: 'cpus' });
    await expect(api.scale('web', -1)).rejects.toBeInstanceOf(ApiError);
    // Nothing of the refused jobs was stored.
    expect((await api.list()).map((j) => j.name)).toEqual(['web']);
  });

  it('leaves a never-placeable job pending with its reasons, while other jobs run', async () => {
    await boot();
    await api.submit({ name: 'nowhere', instances: 2, cpus: 0.1, mem: 32, command: 'c', constraints: [{ type: 'hostAttribute', attribute: 'zone', values: ['z9'] }] });
    await api.submit({ name: 'web', instances: 3, cpus: 0.5, mem: 64, command: 'serve forever' });
    await waitRunning(api, 'web', 3);
    const stuck: JobDetail = await waitUntil(
      async () => {
        const j = await api.get('nowhere');
        return j.instances.every((i) => i.pending?.message.includes('HostAttrValueConstraint')) ? j : undefined;
      },
      5_000,
      'pending reasons',
    );
    expect(stuck.state).toBe('pending');
    expect(stuck.instances[0]!.pending!.message).toMatch(/HostAttrValueConstraint\[zone\]/);
    expect(stuck.instances[0]!.pending!.reasons[0]).toMatchObject({ kind: 'constraint', constraint: 'HostAttrValueConstraint[zone]', hosts: expect.any(Number) });
    expect(stuck.instances[0]!.pending!.shortfall).toBe(false);
    const pending = jobs!.pendingTasks();
    expect(pending.map((p) => [p.job, p.kind])).toEqual([
      ['nowhere', 'constraint'],
      ['nowhere', 'constraint'],
    ]);
    expect((await api.list()).find((j) => j.name === 'nowhere')?.pending[0]?.message).toMatch(/not placed/);
    // A job submitted later is not held up by the stuck one.
    await api.submit({ name: 'late', instances: 2, cpus: 0.1, mem: 32, command: 'serve forever' });
    await waitRunning(api, 'late', 2, 5_000);
  });

  it('reports a resource shortfall for the autoscaler when the cluster is full', async () => {
    await boot();
    await api.submit({ name: 'big', instances: 6, cpus: 3, mem: 64, command: 'serve forever', zoneSpread: 'soft' });
    await waitUntil(async () => (await api.get('big')).counts.running === 3, 10_000, 'three running');
    const pending = await waitUntil(() => {
      const p = jobs!.pendingTasks();
      return p.length === 3 && p.every((t) => t.kind === 'resource') ? p : undefined;
    }, 10_000, 'three pending with a resource shortfall');
    expect(pending[0]!.resources).toEqual({ cpus: 3, mem: 64, disk: 0, ports: 0 });
    expect(pending[0]!.reasons.some((r) => r.kind === 'noLeases' || (r.kind === 'resource' && r.resource === 'cpus'))).toBe(true);
    expect((await jobs!.api.pendingTasks()).length).toBe(3);
  });

  it('spreads hard or soft when one zone has no room: held even with the zone constraint reported, or 3/3/0', async () => {
    cluster = await TestCluster.start();
    await cluster.addZones(['a', 'b']);
    await cluster.addAgent({ hostname: 'c-0', zone: 'c', cpus: 0.4 });
    jobs = await startJobs(cluster);
    api = client(cluster);
    await api.submit({ name: 'hard', instances: 6, cpus: 0.5, mem: 32, command: 'serve forever' });
    await api.submit({ name: 'soft', instances: 6, cpus: 0.5, mem: 32, command: 'serve forever', zoneSpread: 'soft' });
    const soft = await waitRunning(api, 'soft', 6);
    expect(runningByZone(soft)).toEqual({ a: 3, b: 3 });
    // Hard balance never lets a zone get more than one ahead of the emptiest (zone c, full at 0).
    const hard = await waitUntil(
      async () => {
        const j = await api.get('hard');
        return j.counts.running === 2 && j.instances.filter((i) => i.pending?.message.includes('BalancedHostAttrConstraint')).length === 4 ? j : undefined;
      },
      10_000,
      'hard: two running, four explained',
    );
    expect(runningByZone(hard)).toEqual({ a: 1, b: 1 });
    const reasons = hard.instances.find((i) => i.pending)!.pending!.reasons;
    expect(reasons).toContainEqual(expect.objectContaining({ kind: 'constraint', constraint: 'BalancedHostAttrConstraint[zone]' }));
  });

  it('deletes a job: every instance killed, then the job is gone', async () => {
    await boot();
    await api.submit({ name: 'web', instances: 3, cpus: 0.1, mem: 32, command: 'serve forever' });
    const job = await waitRunning(api, 'web', 3);
    const fid = jobs!.framework.frameworkId!;
    const gone = await api.remove('web');
    expect(gone.state).toBe('deleting');
    await waitUntil(async () => (await api.list()).length === 0, 10_000, 'the job gone');
    for (const i of job.instances) expect((await cluster.master.registry.getTask(fid, i.taskId!))?.state).toBe('KILLED');
    // The name is free again.
    await api.submit({ name: 'web', instances: 1, cpus: 0.1, mem: 32, command: 'serve forever' });
    await waitRunning(api, 'web', 1);
  });

  it('works by long-poll where the master cannot stream (API Gateway)', async () => {
    cluster = await TestCluster.start({ canStream: false });
    await cluster.addZones(['a', 'b', 'c']);
    jobs = await startJobs(cluster);
    api = client(cluster);
    await api.submit({ name: 'web', instances: 3, cpus: 0.5, mem: 64, command: 'serve forever' });
    expect(runningByZone(await waitRunning(api, 'web', 3))).toEqual({ a: 1, b: 1, c: 1 });
    expect(jobs.framework.driver?.mode).toBe('poll');
  });

  it('stands down when a second jobs framework takes over its framework id', async () => {
    await boot();
    await api.submit({ name: 'web', instances: 2, cpus: 0.1, mem: 32, command: 'serve forever' });
    const before = await waitRunning(api, 'web', 2);
    const second = await startJobs(cluster, { mount: false });
    try {
      await waitUntil(() => jobs!.framework.standingDown, 5_000, 'the first framework to stand down');
      expect(second.framework.frameworkId).toBe(jobs!.framework.frameworkId);
      // The new one carries on with the same tasks, and acts on changes.
      await api.scale('web', 3);
      const after = await waitRunning(api, 'web', 3);
      for (const i of before.instances) expect(after.instances.find((j) => j.index === i.index)?.taskId).toBe(i.taskId);
    } finally {
      await second.stop();
    }
  });

  it('registers anew when the master removed the framework, and relaunches its instances', async () => {
    await boot();
    await api.submit({ name: 'web', instances: 2, cpus: 0.1, mem: 32, command: 'serve forever' });
    const before = await waitRunning(api, 'web', 2);
    const oldId = jobs!.framework.frameworkId!;
    const res = await fetch(`${cluster.url}/api/v1`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'TEARDOWN', teardown: { framework_id: { value: oldId } } }),
    });
    expect(res.status).toBeLessThan(300);
    const after = await waitUntil(
      async () => {
        const job = await api.get('web');
        return jobs!.framework.frameworkId !== oldId && job.counts.running === 2 ? job : undefined;
      },
      15_000,
      'two instances under a new framework id',
    );
    expect(after.instances.map((i) => i.taskId)).not.toContain(before.instances[0]!.taskId);
    expect(await masterRunning(cluster, jobs!.framework.frameworkId!, 'web')).toHaveLength(2);
  });
});
