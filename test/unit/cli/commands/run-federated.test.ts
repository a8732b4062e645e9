import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../../../src/cli/command.js';
import { runCommand, runSpec } from '../../../../src/cli/commands/run.js';
import { errorMessage } from '../../../../src/cli/dispatch.js';
import { FederatedJobsController } from '../../../../src/federation/jobs/controller.js';
import { registryJobs } from '../../../../src/federation/jobs/local-jobs.js';
import { federatedJobsRoutes } from '../../../../src/federation/jobs/routes.js';
import { RegionGossip } from '../../../../src/federation/gossip/region-gossip.js';
import { InProcessGossipNetwork } from '../../../../src/federation/gossip/in-process-transport.js';
import { silentLogger } from '../../../../src/core/logger.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { startLocalServer } from '../../../../src/master-lambda/local-server.js';
import { captureStdout } from '../../../support/stdout.js';

// `stratus run --regions a=3,b=2` / `--region-weights a=1,b=2 --instances N`: a federated job.

describe('stratus run for federated jobs', () => {
  afterEach(() => vi.restoreAllMocks());

  it('reads a region policy from --regions or --region-weights', () => {
    expect(runSpec(['--name', 'web', '--regions', 'eu-west-1=3,us-east-1=2', '--cpus', '0.5', '--', 'serve'])).toMatchObject({
      policy: { counts: { 'eu-west-1': 3, 'us-east-1': 2 } },
      spec: { name: 'web', cpus: 0.5, command: 'serve' },
    });
    expect(runSpec(['--name', 'api', '--region-weights', 'a=1,b=2', '--instances', '6', '--', 'serve']).policy).toEqual({ weights: { a: 1, b: 2 }, total: 6 });
    expect(runSpec(['--name', 'x', '--', 'serve']).policy).toBeUndefined();
    expect(() => runSpec(['--name', 'x', '--regions', 'a=1', '--instances', '2', '--', 'x'])).toThrow(UsageError);
    expect(() => runSpec(['--name', 'x', '--region-weights', 'a=1', '--', 'x'])).toThrow(/give --instances/);
    expect(() => runSpec(['--name', 'x', '--regions', 'a=1', '--region-weights', 'a=1', '--', 'x'])).toThrow(/not both/);
    expect(() => runSpec(['--name', 'x', '--regions', 'a=lots', '--', 'x'])).toThrow(/REGION=NUMBER/);
  });

  it('submits to the federation API, and reports a refusal with its field', async () => {
    const master = new Master({ log: silentLogger });
    const gossip = new RegionGossip({ region: 'a', peers: ['b'], registry: master.registry, transport: new InProcessGossipNetwork().transport('a'), log: silentLogger });
    federatedJobsRoutes(master.api, new FederatedJobsController({ gossip, jobs: registryJobs(master.registry), log: silentLogger }));
    const server = await startLocalServer(master, { port: 0, host: '127.0.0.1' });
    const out = captureStdout();
    try {
      expect(await runCommand.run(['--master', server.url, '--name', 'web', '--regions', 'a=3,b=2', '--', 'serve'])).toBe(0);
      expect(out.text()).toContain('federated service web submitted to region a: a=3, b=2');
      await expect(runCommand.run(['--master', server.url, '--name', 'neg', '--regions', 'a=-1', '--', 'serve']).catch(errorMessage)).resolves.toMatch(/\(field policy\.counts\.a\)/);
      await expect(runCommand.run(['--master', server.url, '--name', 'far', '--regions', 'mars=1', '--', 'serve']).catch(errorMessage)).resolves.toMatch(/\(field policy\.counts\.mars\)/);
    } finally {
      await server.close();
    }
  });
});
