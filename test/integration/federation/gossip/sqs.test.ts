import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_GOSSIP_CONFIG } from '../../../../src/federation/gossip/config.js';
import { buildDigest } from '../../../../src/federation/gossip/digest-builder.js';
import { encodeDigest } from '../../../../src/federation/gossip/digest-codec.js';
import { RegionGossip, type GossipEvent } from '../../../../src/federation/gossip/region-gossip.js';
import { handler as gossipReceiver } from '../../../../src/master-lambda/lambda/gossip-receiver.js';
import { deleteQueues, ensureQueues, QueueDirectory, sqsClientFromEnv, type RegionQueues } from '../../../../src/federation/gossip/sqs-queues.js';
import { SqsGossipTransport } from '../../../../src/federation/gossip/sqs-transport.js';
import { createLogger, silentLogger } from '../../../../src/core/logger.js';
import { Master } from '../../../../src/master-lambda/master.js';
import type { DynamoDbItemStore } from '../../../../src/state/dynamodb-item-store.js';
import { Registry } from '../../../../src/state/registry.js';
import { describeWith } from '../../../support/components.js';
import { dynamoLatency, freshDynamoStore } from '../../../support/dynamodb.js';
import { fakeAgent, fakeTask, seedFleet } from '../../../support/federation-fixtures.js';
import { waitUntil } from '../../../support/wait.js';

// Three regions on moto: three DynamoDB tables, three SQS inboxes (with dead-letter queues),
// three masters, gossip every 300 ms. Convergence, failure detection in order (alive, suspect,
// dead) and never early, rejoin under the same and under a new incarnation, discovery from live
// regions.
//
// Timings come from the gossip's own events (no polling of the tables, which would load the
// shared moto). moto serialises DynamoDB requests for every suite on the machine: when it is
// slow, the interval is stretched so that a round's few requests still fit in one.

const SUSPECT = 3;
/** Generous: a slow moto stretches the interval up to 4 s, and the cut-off test waits ~10 intervals. */
const TEST_TIMEOUT = 180_000;
const DEAD = 6;
/**
 * How long a wait may take before the test fails: the expected intervals, plus room for a moto
 * serving every suite on a loaded machine. Only ordering and "never early" are asserted here;
 * the exact detection bounds are proven on a fake clock (test/unit/federation/gossip/
 * region-gossip.test.ts) and measured by `npm run bench -- federation`.
 */
const patience = (ms: number): number => ms + 60_000;
const REGIONS = ['a', 'b', 'c'] as const;
type Name = (typeof REGIONS)[number];

interface Region {
  name: Name;
  store: DynamoDbItemStore;
  master: Master;
  transport: SqsGossipTransport;
  gossip: RegionGossip;
}

interface Seen {
  readonly at: number;
  readonly observer: Name;
  readonly e: GossipEvent;
}

const prefix = `stratus-gossip-t${randomUUID().slice(0, 6)}`;
let client: SQSClient;
let queues: Map<string, RegionQueues>;
let INTERVAL = 300;
const regions = new Map<Name, Region>();
const extraStores: DynamoDbItemStore[] = [];
const timeline: Seen[] = [];

const region = (n: Name): Region => regions.get(n)!;

function newGossip(r: Pick<Region, 'name' | 'master' | 'transport'>): RegionGossip {
  const f = new RegionGossip({
    registry: r.master.registry,
    leader: r.master.lease,
    region: r.name,
    peers: REGIONS.filter((p) => p !== r.name),
    transport: r.transport,
    config: { intervalMs: INTERVAL, suspectAfterMissed: SUSPECT, deadAfterMissed: DEAD, receiveWaitMs: 1_000 },
    log: process.env.FED_DEBUG ? createLogger('federation-test', 'debug', { region: r.name }) : silentLogger,
  });
  f.subscribe((e) => timeline.push({ at: Date.now(), observer: r.name, e }));
  return f;
}

/** Waits (on the in-memory timeline) for the first event after `since` that matches. */
function next(since: number, match: (s: Seen) => boolean, timeoutMs: number, what: string): Promise<Seen> {
  return waitUntil(() => timeline.find((s) => s.at >= since && match(s)), timeoutMs, what, 10);
}

const stateEvent = (observer: Name, peer: Name, to: string) => (s: Seen) => s.observer === observer && s.e.type === 'state' && s.e.region === peer && s.e.to === to;
const digestFrom = (observer: Name, peer: Name, incarnation?: number) => (s: Seen) =>
  s.observer === observer && s.e.type === 'digest' && s.e.region === peer && (incarnation === undefined || s.e.digest.incarnation === incarnation);
const lastSent = (n: Name, before: number): number => Math.max(0, ...timeline.filter((s) => s.observer === n && s.e.type === 'sent' && s.at <= before).map((s) => s.at));

/** Median latency of a strongly consistent read on moto's DynamoDB right now. */
await describeWith(['aws'], 'gossip: three regions on moto (DynamoDB + SQS)', () => {
  beforeAll(async () => {
    client = sqsClientFromEnv();
    queues = await ensureQueues(client, REGIONS, { prefix, maxReceiveCount: 3, visibilityTimeoutSeconds: 5, retentionSeconds: 60 });
    for (const name of REGIONS) {
      const store = await freshDynamoStore(`fed-${name}`);
      const master = new Master({ store, log: silentLogger, config: { leaseDurationMs: 15_000, allocationIntervalMs: 2_000 } });
      const agent = fakeAgent(1, name);
      await seedFleet(master.registry, { agents: [agent, fakeAgent(2, name)], tasks: [fakeTask(agent, `${name}-cass`, 'cassandra', 'RUNNING', [9042])] });
      master.start();
      const transport = new SqsGossipTransport({ region: name, client, directory: new QueueDirectory(client, {}, prefix) });
      regions.set(name, { name, store, master, transport, gossip: undefined as unknown as RegionGossip });
    }
    await waitUntil(() => [...regions.values()].every((r) => r.master.lease.isLeader()), 20_000, 'the three masters to become leaders', 50);
    // A round is ~5 DynamoDB requests per region, 15 on the one serialised moto, plus the masters'.
    INTERVAL = Math.min(4_000, Math.max(300, Math.ceil(25 * (await dynamoLatency(region('a').master.registry)))));
    if (INTERVAL > 300) console.warn(`moto is slow: gossip interval stretched to ${INTERVAL} ms`);
  }, 120_000);

  afterAll(async () => {
    for (const r of regions.values()) {
      await r.gossip?.stop();
      await r.master.stop();
    }
    await deleteQueues(client, REGIONS, prefix);
    for (const s of [...[...regions.values()].map((r) => r.store), ...extraStores]) await s.client.send(new DeleteTableCommand({ TableName: s.tableName })).catch(() => {});
    client.destroy();
  }, 60_000);

  it('creates inboxes with a dead-letter redrive', async () => {
    const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: queues.get('a')!.url, AttributeNames: ['RedrivePolicy'] }));
    expect(JSON.parse(attrs.Attributes!.RedrivePolicy!)).toMatchObject({ maxReceiveCount: 3 });
  }, TEST_TIMEOUT);

  it('converges: every region hears from every peer, and sees it alive', async () => {
    const t0 = Date.now();
    for (const r of regions.values()) r.gossip = newGossip(r).start();
    for (const o of REGIONS) for (const p of REGIONS) if (o !== p) await next(t0, digestFrom(o, p), patience(20 * INTERVAL), `${o} to hear from ${p}`);
    for (const o of REGIONS) expect((await region(o).gossip.peers()).map((p) => p.state)).toEqual(['alive', 'alive']);
    const b = (await region('a').gossip.peers()).find((p) => p.name === 'b')!;
    expect(b).toMatchObject({ agents: { total: 2, reachable: 2 }, health: { status: 'healthy' } });
    // One SQS send request per peer per round.
    const s = region('a').gossip.stats;
    expect(s.sendRequests).toBe(s.sentMessages);
    expect(s.sentMessages).toBe(2 * s.rounds);
  }, TEST_TIMEOUT);

  it('finds service endpoints in every live region', async () => {
    const found = await region('a').gossip.servicesNamed('cassandra');
    expect(found.endpoints.map((e) => `${e.region}:${e.task}:${e.port}`)).toEqual(['a:a-cass:9042', 'b:b-cass:9042', 'c:c-cass:9042']);
  }, TEST_TIMEOUT);

  it('marks a cut-off region suspect, then dead, never early, and its endpoints go', async () => {
    const cutAt = Date.now();
    await region('c').gossip.stop();
    const lastDigest = lastSent('c', Date.now());
    for (const o of ['a', 'b'] as const) {
      const suspect = await next(cutAt, stateEvent(o, 'c', 'suspect'), patience((SUSPECT + 4) * INTERVAL), `${o} to suspect c`);
      const dead = await next(cutAt, stateEvent(o, 'c', 'dead'), patience((DEAD + 4) * INTERVAL), `${o} to declare c dead`);
      // Measured from c's last digest: never early (an observer counts from when it received it).
      expect(suspect.at - lastDigest).toBeGreaterThanOrEqual(SUSPECT * INTERVAL);
      expect(dead.at - lastDigest).toBeGreaterThanOrEqual(DEAD * INTERVAL);
    }
    expect((await region('a').gossip.servicesNamed('cassandra')).endpoints.map((e) => e.region)).toEqual(['a', 'b']);
    // The verdict is in the table, for the next leader.
    expect((await region('a').gossip.store.get('c'))!.state).toBe('dead');
  }, TEST_TIMEOUT);

  it('takes the region back under the same incarnation when the same instance resumes', async () => {
    const before = (await region('a').gossip.peers()).find((p) => p.name === 'c')!;
    const t0 = Date.now();
    region('c').gossip.start();
    // No bound is promised here: c first reads its backlog and judges its own peers, then sends.
    for (const o of ['a', 'b'] as const) await next(t0, digestFrom(o, 'c', before.incarnation), patience(6 * INTERVAL), `${o} to hear from c again`);
    const after = (await region('a').gossip.peers()).find((p) => p.name === 'c')!;
    expect(after).toMatchObject({ state: 'alive', incarnation: before.incarnation });
    expect(after.seq).toBeGreaterThan(before.seq!);
    expect((await region('a').gossip.servicesNamed('cassandra')).endpoints.map((e) => e.region)).toEqual(['a', 'b', 'c']);
  }, TEST_TIMEOUT);

  it('takes a restarted region back under a new incarnation', async () => {
    const c = region('c');
    const old = c.gossip.incarnation!;
    await c.gossip.stop();
    const t0 = Date.now();
    await next(t0, stateEvent('a', 'c', 'suspect'), patience((SUSPECT + 4) * INTERVAL), 'a to suspect c');
    c.gossip = newGossip(c).start();
    const t1 = Date.now();
    for (const o of ['a', 'b'] as const) await next(t1, (s) => digestFrom(o, 'c')(s) && s.e.type === 'digest' && s.e.digest.incarnation > old, patience(6 * INTERVAL), `${o} to hear c's new incarnation`);
    const now = (await region('b').gossip.peers()).find((p) => p.name === 'c')!;
    expect(now.state).toBe('alive');
    expect(now.incarnation).toBeGreaterThan(old);
    expect(c.gossip.incarnation).toBe(now.incarnation);
  }, TEST_TIMEOUT);

  it('drops and counts invalid digests sent to an inbox', async () => {
    const a = region('a').gossip;
    const before = { ...a.stats.dropped };
    await client.send(new SendMessageCommand({ QueueUrl: queues.get('a')!.url, MessageBody: '{"version":42,"region":"x"}' }));
    await client.send(new SendMessageCommand({ QueueUrl: queues.get('a')!.url, MessageBody: 'not json' }));
    await waitUntil(() => a.stats.dropped['unknown-version'] !== before['unknown-version'] && a.stats.dropped.malformed !== before.malformed, patience(10 * INTERVAL), 'the invalid messages to be dropped', 20);
    expect(await a.store.get('x')).toBeUndefined();
  }, TEST_TIMEOUT);

  it('applies digests through the receiver Lambda handler to a DynamoDB peer table', async () => {
    const store = await freshDynamoStore('fed-d');
    extraStores.push(store);
    // In a deployment STRATUS_REGION is also the AWS region the SDK talks to.
    process.env.STRATUS_REGION = process.env.AWS_REGION ?? 'us-east-1';
    process.env.STRATUS_TABLE = store.tableName;
    try {
      const { agents, tasks } = { agents: await region('a').master.registry.listAgents(), tasks: await region('a').master.registry.listTasks() };
      const digest = buildDigest({ region: 'a', incarnation: 42, seq: 7, agents, tasks }, DEFAULT_GOSSIP_CONFIG);
      const body = encodeDigest(digest, DEFAULT_GOSSIP_CONFIG).body;
      const res = await gossipReceiver({ Records: [{ messageId: 'r1', body }, { messageId: 'r2', body: '{}' }] });
      expect(res).toEqual({ batchItemFailures: [] });
      const doc = await new Registry(store).getDocument('peers', 'a');
      expect(doc?.data).toMatchObject({ region: 'a', state: 'alive', incarnation: digest.incarnation, seq: digest.seq });
    } finally {
      delete process.env.STRATUS_REGION;
      delete process.env.STRATUS_TABLE;
    }
  }, TEST_TIMEOUT);
});
