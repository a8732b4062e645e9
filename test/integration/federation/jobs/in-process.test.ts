import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runningJobs } from '../../../../src/federation/jobs/local-jobs.js';
import { FederatedJobsClient } from '../../../../src/federation/jobs/client.js';
import { federateInProcess, type InProcessFederation } from '../../../../src/federation/in-process-federation.js';
import type { RunningJobs } from '../../../../src/jobs/start.js';
import type { Master } from '../../../../src/master-lambda/master.js';
import { TestCluster } from '../../../support/jobs-cluster.js';
import { waitUntil } from '../../../support/wait.js';
import { startJobs } from '../../../support/jobs-harness.js';
import { regionOf, runningPerRegion, total, waitCounts } from '../../../support/federation-jobs-regions.js';

// Federated jobs across three real regions in one process, wired as `stratus dev --regions`
// wires them (federateInProcess): masters on the local server, jobs frameworks placing with
// Fenzo, simulated agents, in-process gossip every 400 ms (suspect after 3 missed, dead after
// 6, hand-back after 4 alive intervals). The owner changes other regions' child jobs by direct calls.
//
// Capacity: a has 3 agents of 4 cores, b 2 of 4, c one agent of 1 core.

const INTERVAL = 400;
const HAND_BACK = 4;
const TIMEOUT = 90_000;

const clusters = new Map<string, TestCluster>();
const frameworks: RunningJobs[] = [];
const masters = new Map<string, Master>();
let fed: InProcessFederation;

describe('federated jobs: three in-process regions with jobs frameworks', () => {
  beforeAll(async () => {
    const shape: Record<string, { agents: number; cpus: number }> = { a: { agents: 3, cpus: 4 }, b: { agents: 2, cpus: 4 }, c: { agents: 1, cpus: 1 } };
    const regions = [];
    for (const [name, { agents, cpus }] of Object.entries(shape)) {
      const cluster = await TestCluster.start();
      clusters.set(name, cluster);
      masters.set(name, cluster.master);
      for (let i = 0; i < agents; i++) await cluster.addAgent({ hostname: `${name}-${i}`, zone: `${name}-z${i % 2}`, cpus, mem: 8192 });
      const jobs = await startJobs(cluster);
      frameworks.push(jobs);
      regions.push({ name, master: cluster.master, api: cluster.url, jobs: runningJobs(jobs) });
    }
    fed = federateInProcess(regions, { intervalMs: INTERVAL, suspectAfterMissed: 3, deadAfterMissed: 6, receiveWaitMs: 200 }, { handBackAfterIntervals: HAND_BACK });
    // Placement reads the peers' capacity from their digests: start once every region has them all.
    await waitUntil(
      async () => {
        for (const g of fed.gossip.values()) if ((await g.peerDigests()).filter((d) => d.state === 'alive').length < 2) return false;
        return true;
      },
      30_000,
      "every region to hold its peers' digests",
      INTERVAL / 4,
    );
  }, 60_000);

  afterAll(async () => {
    await fed?.stop();
    for (const j of frameworks) await j.stop();
    for (const c of clusters.values()) await c.stop();
  }, 30_000);

  it('spills over: a region with no room places the instances in the peer with the most free capacity', async () => {
    const a = new FederatedJobsClient(clusters.get('a')!.url);
    // Two cores each: c's single one-core agent can run none; a has the most free capacity.
    await a.submit({ name: 'spill', policy: { counts: { c: 2 } }, job: { cpus: 2, mem: 256, command: 'serve', zoneSpread: 'off' } });
    const running = await waitCounts(masters, 'spill', (c) => total(c) === 2, 30_000, 'two running instances');
    expect(running).toEqual({ a: 2, b: 0, c: 0 });
    // The owner's view: a's framework records both as running shortly after the master does.
    const view = await waitUntil(async () => {
      const v = await a.get('spill');
      return regionOf(v, 'a').child?.running === 2 ? v : undefined;
    }, 10_000, 'the owner to see both running in a');
    expect(regionOf(view, 'c')).toMatchObject({ share: 2, target: 0 });
    expect(regionOf(view, 'a')).toMatchObject({ share: 0, target: 2 });
    await a.remove('spill');
    await waitCounts(masters, 'spill', (c) => total(c) === 0, 30_000, 'the spilled instances to go');
  }, TIMEOUT);

  it('starts a dead region\'s instances elsewhere, hands them back once it stays alive, and settles without duplicates', async () => {
    const a = new FederatedJobsClient(clusters.get('a')!.url);
    await a.submit({ name: 'web', policy: { counts: { a: 1, b: 1, c: 1 } }, job: { cpus: 0.5, mem: 128, command: 'serve' } });
    expect(await waitCounts(masters, 'web', (c) => c.a === 1 && c.b === 1 && c.c === 1, 30_000, 'one instance per region')).toEqual({ a: 1, b: 1, c: 1 });

    // c stops gossiping (sends and receives): dead after 6 intervals, then its share runs in a or b.
    await fed.gossip.get('c')!.stop();
    const failed = await waitCounts(masters, 'web', (c) => (c.a ?? 0) + (c.b ?? 0) === 3, 20_000, "c's instance to start in a or b");
    expect(failed.c).toBe(1); // still running in c: c is cut off from gossip, not down
    expect(regionOf(await a.get('web'), 'c')).toMatchObject({ state: 'dead', displaced: true, target: 0 });

    // c is back: after HAND_BACK intervals alive its share returns and the extra instance goes.
    const back = Date.now();
    fed.gossip.get('c')!.start();
    const settled = await waitCounts(masters, 'web', (c) => c.a === 1 && c.b === 1 && c.c === 1, 20_000, 'the hand-back');
    expect(settled).toEqual({ a: 1, b: 1, c: 1 });
    expect(Date.now() - back).toBeGreaterThanOrEqual(HAND_BACK * INTERVAL);
    // Settled: for ten more rounds of the owner's controller, never more than wanted.
    const owner = fed.controllers.get('a')!;
    for (let i = 0; i < 10; i++) {
      expect(total(await runningPerRegion(masters, 'web'))).toBeLessThanOrEqual(3);
      const round = owner.stats.rounds;
      await waitUntil(() => owner.stats.rounds > round, 30_000, 'the next controller round', INTERVAL / 4);
    }
    expect(regionOf(await a.get('web'), 'c')).toMatchObject({ displaced: false, target: 1, child: { wanted: 1 } });
    // Exactly one owner, everywhere.
    for (const name of ['a', 'b', 'c']) expect(await new FederatedJobsClient(clusters.get(name)!.url).get('web')).toMatchObject({ owner: 'a', ownerTerm: 1 });
  }, TIMEOUT);

  it('moves ownership to the successor when the home dies; the home returns and does not reclaim it', async () => {
    const owners = async (): Promise<string[]> => Promise.all(['a', 'b', 'c'].map(async (n) => `${n}:${(await new FederatedJobsClient(clusters.get(n)!.url).get('web')).owner}`));
    await fed.gossip.get('a')!.stop();
    // b is first after the home (a) by name: it takes over with term 2, and a's instance runs elsewhere.
    const b = new FederatedJobsClient(clusters.get('b')!.url);
    await waitUntil(async () => (await b.get('web')).ownerTerm === 2, 20_000, 'b to take web over');
    expect(await b.get('web')).toMatchObject({ owner: 'b', ownerTerm: 2, role: 'owner' });
    await waitCounts(masters, 'web', (c) => (c.b ?? 0) + (c.c ?? 0) === 3, 20_000, "a's instance to start in b or c");

    fed.gossip.get('a')!.start();
    await waitUntil(async () => (await owners()).join() === 'a:b,b:b,c:b', 20_000, 'a to follow b');
    expect(await waitCounts(masters, 'web', (c) => c.a === 1 && c.b === 1 && c.c === 1, 20_000, 'the hand-back to a')).toEqual({ a: 1, b: 1, c: 1 });
    expect(await new FederatedJobsClient(clusters.get('a')!.url).get('web')).toMatchObject({ owner: 'b', ownerTerm: 2, role: 'replica' });
    expect(fed.controllers.get('a')!.stats.takeovers).toBe(0);
    // Changes now go to b; a refuses them naming the field.
    await expect(new FederatedJobsClient(clusters.get('a')!.url).update('web', { policy: { counts: { a: 2 } } })).rejects.toMatchObject({ status: 409, field: 'id' });
  }, TIMEOUT);
});
