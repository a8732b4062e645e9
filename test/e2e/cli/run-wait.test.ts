import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDevCluster, type DevCluster } from '../../../src/cli/dev-cluster.js';
import { EXIT_FAILED, EXIT_OK, runCli } from '../../../src/cli/dispatch.js';
import { JobsClient } from '../../../src/jobs/index.js';
import { FAST_JOBS } from '../../support/jobs-harness.js';
import { captureOutput } from '../../support/stdout.js';
import { waitUntil } from '../../support/wait.js';

// `stratus run` against a real local region (stratus dev's: master, three agents running tasks
// as host processes, the jobs framework): it returns once the instances are RUNNING, at once
// with --detach, and with the reason when the job cannot be placed or its task fails.

describe('stratus run waits for its instances', () => {
  let dev: DevCluster;
  let url: string;
  let jobs: JobsClient;
  let io: ReturnType<typeof captureOutput>;
  // Each run's tasks carry a marker, so nothing else on the host is mistaken for them.
  const marker = `run-wait-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    dev = await startDevCluster({ port: 0, containerizer: 'process', agentsPerRegion: 3, agentCpus: 1, agentMem: 512, logLevel: 'error', jobsTiming: FAST_JOBS });
    url = dev.regions[0]!.url;
    jobs = new JobsClient(url);
  }, 60_000);
  afterAll(async () => dev?.stop(), 60_000);
  beforeEach(() => {
    io = captureOutput();
  });
  afterEach(async () => {
    io.restore();
    // Each test starts on an empty region: its jobs' tasks are gone before the next one runs.
    for (const j of await jobs.list()) await jobs.remove(j.name);
    await waitUntil(async () => (await jobs.list()).length === 0, 30_000, 'the jobs to be removed', 100);
  }, 40_000);

  const run = (...argv: string[]): Promise<number> => runCli(['run', '--master', url, ...argv]);

  it('returns 0 once every instance is RUNNING, after progress lines', async () => {
    expect(await run('--name', 'sleepers', '--instances', '3', '--cpus', '0.1', '--mem', '16', '--', `sleep 600 # ${marker}`)).toBe(EXIT_OK);
    // Returned only when the jobs API said so: no wait needed to see it.
    const job = await jobs.get('sleepers');
    expect(job.counts.running).toBe(3);
    expect(job.instances.every((i) => i.state === 'running')).toBe(true);
    const out = io.stdout();
    expect(out).toMatch(/^service sleepers submitted: 3 instance\(s\)/);
    expect(out).toMatch(/sleepers: [0-3]\/3 running/);
    expect(out.trimEnd().split('\n').at(-1)).toBe('sleepers: all 3 instance(s) running');
    expect(io.stderr()).toBe('');
  }, 60_000);

  it('--detach returns before the instances run; --timeout bounds a wait for instances that wait for room', async () => {
    // `hog` takes most of every agent (0.8 of 1 CPU): `later` (0.5 CPU each) has no room until it goes.
    expect(await run('--name', 'hog', '--instances', '3', '--cpus', '0.8', '--mem', '16', '--', `sleep 600 # ${marker}`)).toBe(EXIT_OK);
    io.clear();
    expect(await run('--name', 'later', '--instances', '3', '--cpus', '0.5', '--mem', '16', '--detach', '--', `sleep 600 # ${marker}`)).toBe(EXIT_OK);
    expect(io.stdout()).toMatch(/^service later submitted: 3 instance\(s\) of 0\.5 cpus \/ 16 MiB \(see: stratus jobs later\)\n$/);
    expect((await jobs.get('later')).counts.running).toBe(0);

    // Waiting on it now ends at --timeout (the pending reason has not held long enough to be final).
    io.clear();
    expect(await runCli(['run', '--master', url, '--name', 'later2', '--instances', '1', '--cpus', '0.5', '--mem', '16', '--timeout', '1', '--', `sleep 600 # ${marker}`])).toBe(EXIT_FAILED);
    expect(io.stderr()).toMatch(/^stratus run: not every instance is running after 1 s \(later2: 0\/1 running.*\); the job stays submitted: stratus jobs later2\n$/);

    // Room comes back: the detached job runs without anyone waiting on it.
    expect(await runCli(['scale', 'hog', '0', '--master', url])).toBe(EXIT_OK);
    await waitUntil(async () => (await jobs.get('later')).counts.running === 3 || undefined, 30_000, 'the detached job to run');
  }, 90_000);

  it('returns non-zero with the pending reason when the job cannot be placed', async () => {
    expect(await run('--name', 'nowhere', '--attr', 'zone=z9', '--cpus', '0.1', '--mem', '16', '--', `sleep 600 # ${marker}`)).toBe(EXIT_FAILED);
    expect(io.stderr()).toMatch(/^stratus run: nowhere\/0 cannot be placed: task nowhere\/0 not placed: constraint HostAttrValueConstraint\[zone\].*; the job stays submitted: stratus jobs nowhere\n$/);
    // It stays submitted, pending.
    expect((await jobs.get('nowhere')).counts.pending).toBe(1);
  }, 60_000);

  it('returns non-zero with the exit when the task fails', async () => {
    expect(await run('--name', 'crash', '--cpus', '0.1', '--mem', '16', '--', `exit 3 # ${marker}`)).toBe(EXIT_FAILED);
    expect(io.stderr()).toMatch(/^stratus run: crash\/0 failed: TASK_FAILED.*; the job stays submitted: stratus jobs crash\n$/);
  }, 60_000);
});
