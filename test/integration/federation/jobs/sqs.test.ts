import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FederatedJobsClient } from '../../../../src/federation/jobs/client.js';
import { FederatedJobsController } from '../../../../src/federation/jobs/controller.js';
import { runningJobs } from '../../../../src/federation/jobs/local-jobs.js';
import { federatedJobsRoutes } from '../../../../src/federation/jobs/routes.js';
import { RegionGossip, type GossipEvent } from '../../../../src/federation/gossip/region-gossip.js';
import { gossipRoutes } from '../../../../src/federation/gossip/routes.js';
import { deleteQueues, ensureQueues, QueueDirectory, sqsClientFromEnv } from '../../../../src/federation/gossip/sqs-queues.js';
import { SqsGossipTransport } from '../../../../src/federation/gossip/sqs-transport.js';
import type { RunningJobs } from '../../../../src/jobs/start.js';
import { createLogger, silentLogger } from '../../../../src/core/logger.js';
import type { Master } from '../../../../src/master-lambda/master.js';
import type { DynamoDbItemStore } from '../../../../src/state/dynamodb-item-store.js';
import { Registry } from '../../../../src/state/registry.js';
import { describeWith } from '../../../support/components.js';
import { dynamoLatency, freshDynamoStore } from '../../../support/dynamodb.js';
import { CutTransport, regionOf, runningPerRegion, total, waitCounts } from '../../../support/federation-jobs-regions.js';
import { TestCluster } from '../../../support/jobs-cluster.js';
import { waitUntil } from '../../../support/wait.js';
import { startJobs } from '../../../support/jobs-harness.js';

// Federated jobs across three regions on moto: three SQS inboxes (gossip), three DynamoDB
// tables (each region's peer table, incarnation and federated job definitions), three masters
// with jobs frameworks and simulated agents (in memory: moto's serialised DynamoDB would not
// keep up with three allocators), each owner reaching the other regions' jobs over HTTP at the
// API URL their digests advertise.
//
// Digests converge; a region cut off (its sends and receives stopped) turns suspect, then
// dead (never early), and its instances start in the others; restored, it
// rejoins under the same incarnation, gets its share back after the hand-back delay, and the
// job settles at its wanted count without duplicates. A region without room spills over.
//
// Waits count in intervals: when moto is slow, the interval stretches (as in gossip/sqs.test.ts).

const SUSPECT = 3;
const DEAD = 6;
/**
 * How long a wait may take before the test fails: the expected intervals, plus room for a moto
 * serving every suite on a loaded machine. Only ordering and "never early" are asserted here;
 * the exact detection bounds are proven on a fake clock (test/unit/federation/gossip/
 * region-gossip.test.ts) and measured by `npm run bench -- federation`.
 */
const patience = (ms: number): number => ms + 60_000;
const HAND_BACK = 3;
const TEST_TIMEOUT = 120_000;
const REGIONS = ['a', 'b', 'c'] as const;
type Name = (typeof REGIONS)[number];
/** Agents per region (cores each): c's are too small for the spill-over job, big enough for `web`. */
const SHAPE: Record<Name, { agents: number; cpus: number }> = { a: { agents: 2, cpus: 4 }, b: { agents: 1, cpus: 4 }, c: { agents: 2, cpus: 2 } };

interface Region {
  readonly name: Name;
  readonly cluster: TestCluster;
  readonly jobs: RunningJobs;
  readonly table: DynamoDbItemStore;
  readonly transport: CutTransport;
  gossip: RegionGossip;
  controller: FederatedJobsController;
}

interface Seen {
  readonly at: number;
  readonly observer: Name;
  readonly e: GossipEvent;
}

const prefix = `stratus-fedjobs-t${randomUUID().slice(0, 6)}`;
let sqs: SQSClient;
let INTERVAL = 500;
const regions = new Map<Name, Region>();
const masters = new Map<string, Master>();
const timeline: Seen[] = [];
const region = (n: Name): Region => regions.get(n)!;
const client = (n: Name): FederatedJobsClient => new FederatedJobsClient(region(n).cluster.url);

async function next(since: number, match: (s: Seen) => boolean, timeoutMs: number, what: string): Promise<Seen> {
  return waitUntil(() => timeline.find((s) => s.at >= since && match(s)), timeoutMs, what, 10);
}

const stateEvent = (observer: Name, peer: Name, to: string) => (s: Seen) => s.observer === observer && s.e.type === 'state' && s.e.region === peer && s.e.to === to;
const digestFrom = (observer: Name, peer: Name) => (s: Seen) => s.observer === observer && s.e.type === 'digest' && s.e.region === peer;
const lastSent = (n: Name, before: number): number => Math.max(0, ...timeline.filter((s) => s.observer === n && s.e.type === 'sent' && s.at <= before).map((s) => s.at));

await describeWith(['aws'], 'federated jobs: three regions on moto (SQS + DynamoDB) with jobs frameworks', () => {
  beforeAll(async () => {
    sqs = sqsClientFromEnv();
    await ensureQueues(sqs, REGIONS, { prefix, maxReceiveCount: 3, visibilityTimeoutSeconds: 5, retentionSeconds: 60 });
    const tables = await Promise.all(REGIONS.map((n) => freshDynamoStore(`fedjobs-${n}`)));
    // A round is ~6 DynamoDB requests per region, 18 on the one serialised moto: room for them and the other suites'.
    INTERVAL = Math.min(3_000, Math.max(500, Math.ceil(30 * (await dynamoLatency(new Registry(tables[0]!))))));
    if (INTERVAL > 500) console.warn(`moto is slow: gossip interval stretched to ${INTERVAL} ms`);
    for (const [i, name] of REGIONS.entries()) {
      const cluster = await TestCluster.start();
      masters.set(name, cluster.master);
      for (let k = 0; k < SHAPE[name].agents; k++) await cluster.addAgent({ hostname: `${name}-${k}`, zone: `${name}-z${k}`, cpus: SHAPE[name].cpus, mem: 8192 });
      const jobs = await startJobs(cluster);
      const table = tables[i]!;
      const peerTable = new Registry(table);
      const transport = new CutTransport(new SqsGossipTransport({ region: name, client: sqs, directory: new QueueDirectory(sqs, {}, prefix) }));
      const log = process.env.FED_DEBUG ? createLogger('fedjobs-test', 'debug', { region: name }) : silentLogger;
      // Wired by hand, not by attachFederation: the peer table is on DynamoDB (moto) while the
      // master runs in memory, so nothing here is fenced by a lease (a single process per region).
      const ref: { controller?: FederatedJobsController } = {};
      const gossip = new RegionGossip({
        region: name,
        peers: REGIONS.filter((p) => p !== name),
        registry: cluster.master.registry,
        peerRegistry: peerTable,
        transport,
        config: { intervalMs: INTERVAL, suspectAfterMissed: SUSPECT, deadAfterMissed: DEAD, receiveWaitMs: 1_000 },
        api: cluster.url,
        federatedJobs: () => ref.controller?.summaries() ?? Promise.resolve([]),
        log,
      });
      const controller = (ref.controller = new FederatedJobsController({ gossip, jobs: runningJobs(jobs), registry: peerTable, config: { handBackAfterIntervals: HAND_BACK }, log }));
      gossip.subscribe((e) => timeline.push({ at: Date.now(), observer: name, e }));
      gossipRoutes(cluster.master.api, gossip);
      federatedJobsRoutes(cluster.master.api, controller);
      regions.set(name, { name, cluster, jobs, table, transport, gossip, controller });
    }
  }, 120_000);

  afterAll(async () => {
    for (const r of regions.values()) {
      await r.controller.stop();
      await r.gossip.stop();
      await r.jobs.stop();
      await r.cluster.stop();
    }
    await deleteQueues(sqs, REGIONS, prefix).catch(() => {});
    for (const r of regions.values()) await r.table.client.send(new DeleteTableCommand({ TableName: r.table.tableName })).catch(() => {});
    sqs?.destroy();
  }, 60_000);

  it('converges: every region hears from every peer, and sees it alive', async () => {
    const t0 = Date.now();
    for (const r of regions.values()) {
      r.gossip.start();
      r.controller.start();
    }
    for (const o of REGIONS) for (const p of REGIONS) if (o !== p) await next(t0, digestFrom(o, p), patience(20 * INTERVAL), `${o} to hear from ${p}`);
    for (const o of REGIONS) expect((await region(o).gossip.peers()).map((p) => p.state)).toEqual(['alive', 'alive']);
  }, TEST_TIMEOUT);

  it('runs a federated job submitted once with its counts in each region', async () => {
    const job = await client('a').submit({ name: 'web', policy: { counts: { a: 2, b: 1, c: 2 } }, job: { cpus: 0.5, mem: 128, command: 'serve', zoneSpread: 'soft' } });
    expect(job).toMatchObject({ id: 'web', owner: 'a', ownerTerm: 1 });
    expect(await waitCounts(masters, 'web', (c) => c.a === 2 && c.b === 1 && c.c === 2, patience(30 * INTERVAL), 'the counts of the policy')).toEqual({ a: 2, b: 1, c: 2 });
    // Every region keeps the definition (a replica in b and c, learnt from a's digest: it may
    // arrive after the children the owner created directly) and names the same single owner.
    for (const n of REGIONS) {
      const view = await waitUntil(() => client(n).get('web').catch(() => undefined), patience(10 * INTERVAL), `region ${n}'s copy of web`, 100);
      expect(view).toMatchObject({ owner: 'a', ownerTerm: 1, role: n === 'a' ? 'owner' : 'replica' });
    }
  }, TEST_TIMEOUT);

  it("marks a cut-off region suspect, then dead, never early, and starts its instances in the others", async () => {
    const c = region('c');
    const incarnation = c.gossip.incarnation;
    const cutAt = Date.now();
    c.transport.cut = true;
    const lastDigest = lastSent('c', cutAt);
    for (const o of ['a', 'b'] as const) {
      const suspect = await next(cutAt, stateEvent(o, 'c', 'suspect'), patience((SUSPECT + 4) * INTERVAL), `${o} to suspect c`);
      const dead = await next(cutAt, stateEvent(o, 'c', 'dead'), patience((DEAD + 4) * INTERVAL), `${o} to declare c dead`);
      expect(suspect.at - lastDigest).toBeGreaterThanOrEqual(SUSPECT * INTERVAL - 50);
      expect(dead.at - lastDigest).toBeGreaterThanOrEqual(DEAD * INTERVAL - 50);
    }
    // c's two instances start in a and b (where there is room); c's own keep running, cut off from gossip only.
    const failed = await waitCounts(masters, 'web', (n) => (n.a ?? 0) + (n.b ?? 0) === 5, patience(20 * INTERVAL), "c's share to run in a and b");
    expect(failed.c).toBe(2);
    expect(regionOf(await client('a').get('web'), 'c')).toMatchObject({ state: 'dead', displaced: true, target: 0 });
    expect(c.gossip.incarnation).toBe(incarnation);
  }, TEST_TIMEOUT);

  it('takes the region back under the same incarnation, hands its share back, and settles without duplicates', async () => {
    const c = region('c');
    const incarnation = c.gossip.incarnation!;
    const t0 = Date.now();
    c.transport.cut = false;
    for (const o of ['a', 'b'] as const) await next(t0, digestFrom(o, 'c'), patience(10 * INTERVAL), `${o} to hear from c again`);
    // Hearing one digest is not yet being judged alive everywhere (a and b write the peer record
    // and re-judge its age in their own rounds): wait for a's view, then check the incarnation.
    const back = await waitUntil(
      async () => (await region('a').gossip.peers()).find((p) => p.name === 'c' && p.state === 'alive'),
      patience(10 * INTERVAL),
      'a to judge c alive again',
      50,
    );
    expect(back).toMatchObject({ state: 'alive', incarnation });
    const settled = await waitCounts(masters, 'web', (n) => n.a === 2 && n.b === 1 && n.c === 2, patience((HAND_BACK + 20) * INTERVAL), 'the hand-back');
    expect(settled).toEqual({ a: 2, b: 1, c: 2 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(HAND_BACK * INTERVAL);
    // Settled: never more than wanted (no surge configured) for three more rounds of the owner.
    const owner = region('a').controller;
    for (let i = 0; i < 3; i++) {
      expect(total(await runningPerRegion(masters, 'web'))).toBeLessThanOrEqual(5);
      const round = owner.stats.rounds;
      await waitUntil(() => owner.stats.rounds > round, patience(5 * INTERVAL), 'the next controller round', INTERVAL / 4);
    }
    for (const n of REGIONS) expect(await client(n).get('web')).toMatchObject({ owner: 'a', ownerTerm: 1 });
  }, TEST_TIMEOUT);

  it('spills over: a region without room places the instances in the peer with the most free capacity', async () => {
    // Three cores: c's two-core agents can run none; a has the most free capacity left.
    // The owner (b) judges a's room by a's digests: wait for two received from now on, so the
    // second was sent after the hand-back settled (a stale one may still count c's share in a).
    const heard = await next(Date.now(), digestFrom('b', 'a'), patience(10 * INTERVAL), 'b to hear from a');
    await next(heard.at + 1, digestFrom('b', 'a'), patience(10 * INTERVAL), "b to hear a's current capacity");
    await client('b').submit({ name: 'big', policy: { counts: { c: 1 } }, job: { cpus: 3, mem: 256, command: 'serve', zoneSpread: 'off' } });
    expect(await waitCounts(masters, 'big', (n) => total(n) === 1, patience(30 * INTERVAL), 'the spilled instance')).toEqual({ a: 1, b: 0, c: 0 });
    expect(regionOf(await client('b').get('big'), 'a')).toMatchObject({ share: 0, target: 1 });
    await client('b').remove('big');
    await waitCounts(masters, 'big', (n) => total(n) === 0, patience(30 * INTERVAL), 'the deleted job to go');
    // Each look is two DynamoDB reads on the shared moto: look once per half interval.
    await waitUntil(async () => (await client('b').list()).every((j) => j.id !== 'big'), patience(30 * INTERVAL), 'the definition to go', INTERVAL / 2);
  }, TEST_TIMEOUT);
});
