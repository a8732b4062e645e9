import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, TEST_IMAGE } from '../../support/components.js';
import { CLI } from '../../support/master-process.js';
import { waitUntil } from '../../support/wait.js';

// `stratus dev` as a user runs it: the CLI starts a region, `stratus run` submits a 6-instance
// service, an agent's containers are killed, the instances come back still spread over the
// zones, and Ctrl-C leaves no container behind.

const exec = promisify(execFile);

interface InstanceView {
  index: number;
  state: string;
  zone?: string;
  agentId?: string;
  launches: number;
}

await describeWith(['docker'], 'stratus dev end to end', () => {
  let dev: ChildProcess;
  let out = '';
  let url = '';

  const stratus = async (command: string, ...args: string[]): Promise<string> =>
    (await exec(process.execPath, [CLI, command, '--master', url, ...args], { timeout: 30_000 })).stdout;
  const job = async (name: string): Promise<{ instances: InstanceView[] }> => {
    const res = await fetch(`${url}/api/v1/jobs/${name}`);
    return ((await res.json()) as { job: { instances: InstanceView[] } }).job;
  };
  const runningByZone = async (name: string): Promise<Record<string, number>> => {
    const counts: Record<string, number> = {};
    for (const i of (await job(name)).instances) if (i.state === 'running' || i.state === 'TASK_RUNNING') counts[i.zone ?? '?'] = (counts[i.zone ?? '?'] ?? 0) + 1;
    return counts;
  };
  const containers = async (filter: string): Promise<string[]> =>
    (await exec('docker', ['ps', '-aq', '--filter', filter])).stdout.split('\n').filter(Boolean);

  beforeAll(async () => {
    dev = spawn(process.execPath, [CLI, 'dev', '--port', '0', '--containerizer', 'docker'], { stdio: ['ignore', 'pipe', 'pipe'] });
    dev.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    dev.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitUntil(() => /Ctrl-C stops everything/.test(out) || dev.exitCode !== null, 60_000, 'the dev cluster to start', 100);
    const m = /master (http:\/\/[\d.]+:\d+)/.exec(out);
    if (!m) throw new Error(`stratus dev did not start:\n${out}`);
    url = m[1]!;
  }, 90_000);

  afterAll(async () => {
    if (dev.exitCode === null) dev.kill('SIGKILL');
  });

  it('prints what it started: three agents in zones a, b, c, in Docker', () => {
    expect(out).toMatch(/agent \S+ +zone a/);
    expect(out).toMatch(/agent \S+ +zone b/);
    expect(out).toMatch(/agent \S+ +zone c/);
    expect(out).toMatch(/image run in Docker/);
  });

  it('runs a 6-instance service 2/2/2 over the zones and brings killed instances back, still balanced', async () => {
    const submitted = await stratus('run', '--name', 'web', '--instances', '6', '--cpus', '0.1', '--mem', '32', '--image', TEST_IMAGE, '--detach', '--', 'sh', '-c', 'sleep 600');
    expect(submitted).toMatch(/web/);
    await waitUntil(async () => JSON.stringify(await runningByZone('web')) === JSON.stringify({ a: 2, b: 2, c: 2 }), 60_000, 'two web instances RUNNING in each zone', 250);
    const ps = await stratus('ps');
    expect(ps.split('\n').filter((l) => /^web\./.test(l) && /RUNNING/.test(l))).toHaveLength(6);

    // Kill every container of the zone-a agent behind Stratus's back.
    const placed = (await job('web')).instances;
    const zoneA = placed.find((i) => i.zone === 'a')!.agentId!;
    const launchesBefore = new Map(placed.map((i) => [i.index, i.launches]));
    const victims = await containers(`label=stratus.agent_id=${zoneA}`);
    expect(victims.length).toBeGreaterThanOrEqual(2);
    await exec('docker', ['kill', ...victims]);
    // The kill is noticed: a zone-a instance seen down, or already launched again (a quick replacement can fall between two probes).
    await waitUntil(
      async () => (await job('web')).instances.some((i) => (i.zone === 'a' && i.state !== 'running' && i.state !== 'TASK_RUNNING') || i.launches > (launchesBefore.get(i.index) ?? 0)),
      30_000,
      'a zone-a instance down or launched again',
      200,
    );
    await waitUntil(async () => JSON.stringify(await runningByZone('web')) === JSON.stringify({ a: 2, b: 2, c: 2 }), 90_000, 'zone a replaced: two web instances RUNNING in each zone again', 250);
  }, 240_000);

  it('stops everything on Ctrl-C and leaves no container behind', async () => {
    const ours = (await exec(process.execPath, [CLI, 'agents', '--master', url, '--json'])).stdout;
    const agentIds = (JSON.parse(ours) as { agents: { agent_info: { id: { value: string } } }[] }).agents.map((a) => a.agent_info.id.value);
    expect(agentIds).toHaveLength(3);
    dev.kill('SIGINT');
    await waitUntil(() => dev.exitCode !== null, 60_000, 'the dev cluster to stop', 100);
    expect(dev.exitCode).toBe(0);
    expect(out).toMatch(/stopped; nothing left running/);
    for (const id of agentIds) expect(await containers(`label=stratus.agent_id=${id}`)).toEqual([]);
  }, 90_000);
});
