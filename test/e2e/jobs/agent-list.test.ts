import { afterEach, expect, it } from 'vitest';
import type { RunningJobs } from '../../../src/jobs/index.js';
import { TestCluster } from '../../support/jobs-cluster.js';
import { client, startJobs, waitRunning } from '../../support/jobs-harness.js';
import { waitUntil } from '../../support/wait.js';

// Zone spread balances over the zones of the agents the framework has listed. An offer from an
// agent missing from that list (it registered since) makes the framework list again before it
// places, instead of waiting for its next periodic refresh: otherwise a job submitted just
// after an agent joined is balanced over a stale set of zones.

let cluster: TestCluster;
let jobs: RunningJobs | undefined;

afterEach(async () => {
  await jobs?.stop();
  jobs = undefined;
  await cluster?.stop();
});

it('lists the agents again when an offer comes from an agent it has not listed', async () => {
  cluster = await TestCluster.start();
  // The periodic refresh is ten minutes away: only an unlisted agent's offer can cause a second listing.
  jobs = await startJobs(cluster, { timing: { agentRefreshMs: 600_000 } });
  const framework = jobs.framework;
  await waitUntil(() => framework.stats.agentListings >= 1 && framework.frameworkId, 10_000, 'the first listing and the subscription');
  // Agents join while the framework has nothing to run (suppressed: no offers, no listing).
  await cluster.addAgent({ hostname: 'ha', zone: 'a' });
  await cluster.addAgent({ hostname: 'hb', zone: 'b' });
  await client(cluster).submit({ name: 'web', instances: 2, cpus: 0.5, mem: 64, command: 'serve' });
  const job = await waitRunning(client(cluster), 'web', 2);
  expect(new Set(job.instances.map((i) => i.zone))).toEqual(new Set(['a', 'b']));
  // The offers came from agents it had not listed: it listed again, long before its periodic refresh.
  expect(framework.stats.agentListings).toBeGreaterThanOrEqual(2);
});
