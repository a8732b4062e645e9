import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_FAILED, EXIT_OK, runCli } from '../../../src/cli/dispatch.js';
import { TestCluster } from '../../support/jobs-cluster.js';
import { captureOutput } from '../../support/stdout.js';

// A plain master (no jobs framework, no autoscaler, no federation): each command of a missing
// part says what is missing and how to turn it on, from the master's 404 for the route.

describe('commands of a part the master does not run', () => {
  let cluster: TestCluster;
  let io: ReturnType<typeof captureOutput>;

  beforeAll(async () => {
    cluster = await TestCluster.start();
    await cluster.addZones(['a']);
  });
  afterAll(async () => cluster.stop());
  beforeEach(() => {
    io = captureOutput();
  });
  afterEach(() => io.restore());

  // --master before any `--`: what follows it is the task's command line.
  const stratus = (...argv: string[]): Promise<number> => {
    const dash = argv.indexOf('--');
    return runCli(dash < 0 ? [...argv, '--master', cluster.url] : [...argv.slice(0, dash), '--master', cluster.url, ...argv.slice(dash)]);
  };

  it.each([
    [['autoscaler', 'rules'], 'GET /api/v1/autoscaler/rules'],
    [['autoscaler', 'status'], 'GET /api/v1/autoscaler/status'],
    [['autoscaler', 'activity'], 'GET /api/v1/autoscaler/activity'],
    [['autoscaler', 'rules', '-o', 'json'], 'GET /api/v1/autoscaler/rules'],
  ])('stratus %j: the autoscaler is not enabled, and how to enable it', async (argv, route) => {
    expect(await stratus(...argv)).toBe(EXIT_FAILED);
    expect(io.stderr()).toBe(
      `stratus ${argv.slice(0, 2).join(' ')}: the autoscaler is not enabled on this master (it has no ${route}); to enable it, start the dev cluster with 'stratus dev --autoscale-max N' (or --autoscaler-rules FILE), or run 'stratus master' with STRATUS_AGENT_GROUPS set (rules: --autoscaler-rules FILE)\n`,
    );
    expect(io.stdout()).toBe('');
  });

  it.each([
    [['jobs'], 'GET /api/v1/jobs'],
    [['jobs', 'web'], 'GET /api/v1/jobs/web'],
    [['scale', 'web', '2'], 'PUT /api/v1/jobs/web'],
    [['run', '--name', 'web', '--', 'serve'], 'POST /api/v1/jobs'],
  ])('stratus %j: the jobs framework is not running, and how to run it', async (argv, route) => {
    expect(await stratus(...argv)).toBe(EXIT_FAILED);
    expect(io.stderr()).toBe(`stratus ${argv[0]}: the jobs framework is not running on this master (it has no ${route}); to enable it, run 'stratus master --jobs' ('stratus dev' runs it)\n`);
  });

  it.each([
    [['regions'], 'GET /api/v1/federation/peers'],
    [['run', '--name', 'web', '--regions', 'a=1,b=1', '--', 'serve'], 'POST /api/v1/federation/jobs'],
  ])('stratus %j: federation is not enabled, and how to enable it', async (argv, route) => {
    expect(await stratus(...argv)).toBe(EXIT_FAILED);
    expect(io.stderr()).toBe(
      `stratus ${argv[0]}: federation is not enabled on this master (it has no ${route}); to enable it, start several regions with 'stratus dev --regions a,b', or run 'stratus master' with STRATUS_REGION and STRATUS_PEERS set\n`,
    );
  });

  it('stratus ps lists the tasks of a master without the jobs framework (no job instance can be pending there)', async () => {
    expect(await stratus('ps', '-o', 'json')).toBe(EXIT_OK);
    expect(JSON.parse(io.stdout())).toEqual({ tasks: [], pending: [] });
    expect(io.stderr()).toBe('');
  });

  it('the operator API answers as usual: stratus agents works on the same master', async () => {
    expect(await stratus('agents')).toBe(EXIT_OK);
    expect(io.stdout()).toMatch(/^ID\s+HOSTNAME\s+ZONE/);
  });
});
