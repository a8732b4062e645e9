import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../../src/cli/command.js';
import { errorMessage } from '../../../src/cli/dispatch.js';
import { jobsCommand } from '../../../src/cli/commands/jobs.js';
import { psCommand } from '../../../src/cli/commands/ps.js';
import { runCommand, runSpec } from '../../../src/cli/commands/run.js';
import { scaleCommand } from '../../../src/cli/commands/scale.js';
import type { RunningJobs } from '../../../src/jobs/index.js';
import { TestCluster } from '../../support/jobs-cluster.js';
import { waitUntil } from '../../support/wait.js';
import { client, runningByZone, startJobs, waitRunning } from '../../support/jobs-harness.js';
import { captureStdout } from '../../support/stdout.js';

// `stratus run`, `jobs`, `scale` and `ps` against a running region, in process.

describe('jobs CLI', () => {
  let cluster: TestCluster;
  let jobs: RunningJobs;
  let stdout: ReturnType<typeof captureStdout>;

  beforeEach(async () => {
    cluster = await TestCluster.start();
    await cluster.addZones(['a', 'b', 'c']);
    jobs = await startJobs(cluster);
    process.env.STRATUS_MASTER = cluster.url;
    stdout = captureStdout();
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    delete process.env.STRATUS_MASTER;
    await jobs.stop();
    await cluster.stop();
  });

  const output = (): string => stdout.text();

  it('parses run flags: the command after --, repeatable env and attribute constraints', () => {
    const { spec } = runSpec(['--name', 'web', '--instances', '6', '--cpus', '0.5', '--mem', '64', '--image', 'stratus/busybox:latest', '--env', 'A=1', '--attr', 'zone=a,b', '--unique-host', '--zone-spread', 'soft', '--', 'sh', '-c', 'httpd -f']);
    expect(spec).toEqual({
      name: 'web',
      instances: 6,
      cpus: 0.5,
      mem: 64,
      image: 'stratus/busybox:latest',
      zoneSpread: 'soft',
      command: ['sh', '-c', 'httpd -f'],
      env: { A: '1' },
      constraints: [{ type: 'uniqueHost' }, { type: 'hostAttribute', attribute: 'zone', values: ['a', 'b'] }],
    });
    expect(runSpec(['--name', 'b', '--type', 'batch', '--retries', '2', '--', 'sleep 5']).spec).toMatchObject({ type: 'batch', retries: 2, command: 'sleep 5' });
    expect(() => runSpec(['--instances', '2', '--', 'x'])).toThrow(UsageError);
    expect(() => runSpec(['--name', 'x', '--cpus', 'lots', '--', 'x'])).toThrow(/--cpus must be a number/);
    expect(() => runSpec(['--name', 'x'])).toThrow(/command after --/);
  });

  it('runs a service, lists it, shows its instances, scales it, and lists tasks and pending instances', async () => {
    expect(await runCommand.run(['--name', 'web', '--instances', '6', '--cpus', '0.5', '--mem', '64', '--image', 'stratus/busybox:latest', '--', 'sh', '-c', 'httpd -f'])).toBe(0);
    expect(output()).toMatch(/service web submitted: 6 instance\(s\)/);
    expect(runningByZone(await waitRunning(client(cluster), 'web', 6))).toEqual({ a: 2, b: 2, c: 2 });

    stdout.clear();
    expect(await jobsCommand.run([])).toBe(0);
    expect(output()).toMatch(/^NAME\s+TYPE\s+STATE\s+RUNNING/m);
    expect(output()).toMatch(/^web\s+service\s+running\s+6\/6/m);

    stdout.clear();
    expect(await jobsCommand.run(['web'])).toBe(0);
    expect(output()).toMatch(/^web: service, running, 6\/6 running/m);
    expect(output().match(/^\d+\s+running\s+[abc]-0\s+[abc]\s+web\.\d+\./gm)).toHaveLength(6);

    stdout.clear();
    expect(await scaleCommand.run(['web', '3'])).toBe(0);
    expect(output()).toMatch(/web scaled to 3 instance\(s\)/);
    await waitRunning(client(cluster), 'web', 3);

    await runCommand.run(['--name', 'nowhere', '--attr', 'zone=z9', '--detach', '--', 'serve']);
    await waitUntil(async () => (await client(cluster).get('nowhere')).instances[0]?.pending?.message.includes('HostAttrValueConstraint'), 5_000, 'the pending reason');
    stdout.clear();
    expect(await psCommand.run([])).toBe(0);
    const ps = output();
    expect(ps).toMatch(/^TASK\s+STATE\s+CPUS\s+MEM\s+AGENT\s+FRAMEWORK/m);
    expect(ps.match(/^web\.\d+\.\S+\s+RUNNING\s+0\.5\s+64/gm)).toHaveLength(3);
    expect(ps).toMatch(/^nowhere\/0\s+task nowhere\/0 not placed: constraint HostAttrValueConstraint\[zone\]/m);
  });

  it('reports refused input with the field the API names', async () => {
    await expect(runCommand.run(['--name', 'web', '--instances', '0', '--', 'serve']).catch(errorMessage)).resolves.toMatch(/\(field instances\)/);
    await expect(runCommand.run(['--name', 'web', '--cpus', '64', '--', 'serve']).catch(errorMessage)).resolves.toMatch(/\(field cpus\)/);
    await expect(scaleCommand.run(['nope', '2'])).rejects.toThrow(/no job named 'nope'/);
    await expect(scaleCommand.run(['web'])).rejects.toThrow(UsageError);
  });
});
