import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDevCluster, type DevCluster } from '../../../src/cli/dev-cluster.js';
import { EXIT_OK, runCli } from '../../../src/cli/dispatch.js';
import { FAST_JOBS } from '../../support/jobs-harness.js';
import { captureOutput } from '../../support/stdout.js';

// `-o json` / `--output json` (and the older --json) on every list command prints one JSON
// document on stdout; without it, the table. Against a local region with every part on: the jobs
// framework, the autoscaler (group 'burst') and federation (two regions).

describe('list commands with --output json', () => {
  let dev: DevCluster;
  let url: string;
  let io: ReturnType<typeof captureOutput>;

  beforeAll(async () => {
    dev = await startDevCluster({ port: 0, regions: ['east', 'west'], agentsPerRegion: 1, agentCpus: 1, agentMem: 512, containerizer: 'process', autoscaleMax: 1, logLevel: 'error', jobsTiming: FAST_JOBS, gossipIntervalMs: 200 });
    url = dev.regions[0]!.url;
    io = captureOutput();
    // One job (with a running task) for the jobs and ps lists.
    expect(await runCli(['run', '--master', url, '--name', 'web', '--cpus', '0.1', '--mem', '16', '--', 'sleep 600'])).toBe(EXIT_OK);
    io.restore();
  }, 90_000);
  afterAll(async () => dev?.stop(), 60_000);
  beforeEach(() => {
    io = captureOutput();
  });
  afterEach(() => io.restore());

  // Each list command, what its JSON holds, and the first words of its table.
  const lists: [string[], (json: unknown) => void, RegExp][] = [
    [['agents'], (j) => expect((j as { agents: unknown[] }).agents).toHaveLength(1), /^ID\s+HOSTNAME\s+ZONE/],
    [['frameworks'], (j) => expect((j as { framework_info: { name: string } }[]).map((f) => f.framework_info.name)).toContain('stratus-jobs'), /^ID\s+NAME\s+ROLES/],
    [['jobs'], (j) => expect((j as { name: string }[]).map((x) => x.name)).toEqual(['web']), /^NAME\s+TYPE\s+STATE/],
    [['jobs', 'web'], (j) => expect(j).toMatchObject({ name: 'web', instances: [{ index: 0, state: 'running' }] }), /^web: service, running/],
    [['ps'], (j) => expect(j).toMatchObject({ tasks: [{ state: 'TASK_RUNNING' }], pending: [] }), /^TASK\s+STATE\s+CPUS/],
    [['regions'], (j) => expect(j).toMatchObject({ region: 'east', peers: [{ name: 'west' }] }), /^region east: 1 peer\(s\)/],
    [['autoscaler', 'status'], (j) => expect(j).toMatchObject({ groups: [{ group: 'burst' }] }), /^provider: /],
    [['autoscaler', 'rules'], (j) => expect(j).toMatchObject({ groups: [{ group: 'burst', maxSize: 1 }] }), /^GROUP\s+SIZE\s+IDLE/],
    [['autoscaler', 'activity'], (j) => expect(Array.isArray((j as { activity: unknown[] }).activity)).toBe(true), /^(no autoscaler activity|TIME\s+GROUP)/],
  ];

  it.each(lists)('stratus %j prints parseable JSON with -o json, --output json and --json, and a table by default', async (argv, check, table) => {
    for (const flags of [['-o', 'json'], ['--output', 'json'], ['--output=json'], ['--json']]) {
      io.clear();
      expect(await runCli([...argv, ...flags, '--master', url]), flags.join(' ')).toBe(EXIT_OK);
      expect(io.stderr()).toBe('');
      check(JSON.parse(io.stdout()));
    }
    for (const flags of [[], ['-o', 'table']]) {
      io.clear();
      expect(await runCli([...argv, ...flags, '--master', url])).toBe(EXIT_OK);
      expect(io.stdout()).toMatch(table);
      expect(() => JSON.parse(io.stdout())).toThrow();
    }
  });
});
