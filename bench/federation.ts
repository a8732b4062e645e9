import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Agent } from '../src/core/agent.js';
import type { AgentId, FrameworkId, TaskId } from '../src/core/ids.js';
import { EMPTY, resources } from '../src/core/resources.js';
import type { Task } from '../src/core/task.js';
import { DEFAULT_GOSSIP_CONFIG } from '../src/federation/gossip/config.js';
import { buildDigest } from '../src/federation/gossip/digest-builder.js';
import { encodeDigest } from '../src/federation/gossip/digest-codec.js';
import { FederatedJobsController } from '../src/federation/jobs/controller.js';
import { registryJobs, type LocalJobs } from '../src/federation/jobs/local-jobs.js';
import { RegionGossip } from '../src/federation/gossip/region-gossip.js';
import { directRegionJobs } from '../src/federation/jobs/region-jobs.js';
import type { GossipTransport, IncomingMessage, OutgoingMessage, ReceiveOptions, SendResult } from '../src/federation/gossip/transport.js';
import { InProcessGossipNetwork } from '../src/federation/gossip/in-process-transport.js';
import { deleteQueues, ensureQueues, QueueDirectory, sqsClientFromEnv } from '../src/federation/gossip/sqs-queues.js';
import { SqsGossipTransport } from '../src/federation/gossip/sqs-transport.js';
import { silentLogger } from '../src/core/logger.js';
import { LOCAL_ENDPOINT } from '../src/state/aws-config.js';
import { MemoryItemStore } from '../src/state/memory-item-store.js';
import { Registry } from '../src/state/registry.js';
import { median, percentile, type BenchSuite, type BenchTable, type Cell } from './report.js';

// Federation gossip: what one round costs each region (messages, bytes, SQS requests, table
// requests) for 3, 10 and 30 regions of 1,000 agents, measured on the in-process transport with
// the SQS adapter's batching, and on moto's SQS for 3 regions; then how long a change takes to
// reach every peer and how long a lost region takes to be suspected and declared dead, on
// simulated time (default 5 s interval, random phases, 20-150 ms delivery latency); then, for
// federated jobs, how long a dead region's instances take to be placed elsewhere and to come
// back to it, and what replicating the definitions adds to the owner's digest.

const AGENTS = 1_000;
const ENDPOINTS = 250;
const INTERVAL = DEFAULT_GOSSIP_CONFIG.intervalMs;

function agent(i: number, region: string): Agent {
  return {
    id: `${region}-agent-${i}` as AgentId,
    hostname: `ip-10-${(i >> 8) & 255}-${i & 255}-17.${region}.compute.internal`,
    attributes: { zone: `${region}${String.fromCharCode(97 + (i % 3))}`, group: `group-${i % 8}` },
    total: resources({ cpus: 16, mem: 65536, disk: 500_000, network: 10_000 }),
    allocated: resources({ cpus: i % 5, mem: (i % 5) * 4096 }),
    offered: EMPTY,
    reachability: 'REACHABLE',
    deactivated: false,
    registeredAt: 0,
    session: 's',
  };
}

function task(a: Agent, i: number): Task {
  return {
    frameworkId: 'bench-fw' as FrameworkId,
    taskId: `svc-${i % 5}.${randomUUID()}` as TaskId,
    agentId: a.id,
    role: '*',
    resources: resources({ cpus: 1, mem: 1024 }),
    spec: { name: 'svc', discovery: { name: `svc-${i % 5}`, ports: [{ number: 31000 + i, name: 'main' }] } },
    state: 'RUNNING',
    status: { state: 'RUNNING', source: 'SOURCE_AGENT', timestamp: 0 },
    pendingAcks: [],
    epoch: 1,
    createdAt: 0,
    updatedAt: 0,
  };
}

async function seed(registry: Registry, region: string, agents: number, endpoints: number): Promise<void> {
  const as = Array.from({ length: agents }, (_, i) => agent(i, region));
  const puts: ((tx: ReturnType<Registry['transaction']>) => unknown)[] = [
    ...as.map((a) => (tx: ReturnType<Registry['transaction']>) => tx.putAgent(a, 'any')),
    ...as.slice(0, endpoints).map((a, i) => (tx: ReturnType<Registry['transaction']>) => tx.putTask(task(a, i), 'any')),
  ];
  for (let i = 0; i < puts.length; i += 100) {
    const tx = registry.transaction();
    for (const p of puts.slice(i, i + 100)) p(tx);
    await tx.commit();
  }
}

const regionNames = (n: number): string[] => Array.from({ length: n }, (_, i) => `r${String(i).padStart(2, '0')}`);

interface SimRegion {
  name: string;
  registry: Registry;
  gossip: RegionGossip;
}

function gossipRegions(names: readonly string[], registries: Map<string, Registry>, transportOf: (n: string) => GossipTransport, clock: () => number, wall: () => number): SimRegion[] {
  return names.map((name) => ({
    name,
    registry: registries.get(name)!,
    gossip: new RegionGossip({
      region: name,
      peers: names.filter((p) => p !== name),
      registry: registries.get(name)!,
      transport: transportOf(name),
      log: silentLogger,
      clock,
      wallClock: wall,
    }),
  }));
}

async function drain(f: RegionGossip): Promise<void> {
  while ((await f.receiveOnce(0)) > 0);
}

// ---- cost of a round ----

async function roundCost(n: number): Promise<Record<string, Cell>> {
  const names = regionNames(n);
  const registries = new Map<string, Registry>();
  for (const name of names) {
    const r = new Registry(new MemoryItemStore());
    await seed(r, name, AGENTS, ENDPOINTS);
    registries.set(name, r);
  }
  let now = 0;
  const network = new InProcessGossipNetwork({ clock: () => now });
  const regions = gossipRegions(names, registries, (x) => network.transport(x), () => now, Date.now);
  // Warm-up round (incarnations, first writes), then the measured one.
  for (const r of regions) await r.gossip.tick();
  for (const r of regions) await drain(r.gossip);
  now += INTERVAL;
  const r0 = regions[0]!;
  const store = r0.registry.store;
  const st = r0.gossip.stats;
  const before = { sentMessages: st.sentMessages, received: st.received, sendRequests: st.sendRequests, sentBytes: st.sentBytes, reads: store.stats.reads, writes: store.stats.writes };
  const t = performance.now();
  for (const r of regions) await r.gossip.tick();
  const sendMs = (performance.now() - t) / n;
  for (const r of regions) await drain(r.gossip);
  const s = r0.gossip.stats;
  const msgsOut = s.sentMessages - before.sentMessages;
  const received = s.received - before.received;
  const digest = buildDigest({ region: r0.name, incarnation: 1, seq: 1, agents: await r0.registry.listAgents(), tasks: await r0.registry.listTasks() }, DEFAULT_GOSSIP_CONFIG);
  const wire = encodeDigest(digest, DEFAULT_GOSSIP_CONFIG);
  const gzipped = encodeDigest(digest, { ...DEFAULT_GOSSIP_CONFIG, compressAboveBytes: 0 });
  return {
    regions: n,
    'agents/region': AGENTS,
    'digest JSON B': wire.jsonBytes,
    'digest wire B': wire.bytes,
    'if gzipped B': gzipped.bytes,
    'msgs out': msgsOut,
    'SendMessageBatch': s.sendRequests - before.sendRequests,
    'KiB out': (s.sentBytes - before.sentBytes) / 1024,
    'msgs in': received,
    // One long-poll returns up to 10 messages and one DeleteMessageBatch deletes 10.
    'Receive+Delete (min)': 2 * Math.ceil(received / 10),
    'table reads': store.stats.reads - before.reads,
    'table writes': store.stats.writes - before.writes,
    'round ms': sendMs,
  };
}

// ---- the same on moto's SQS ----

async function motoCost(rounds: number): Promise<{ rows: Record<string, Cell>[]; note?: string }> {
  const names = regionNames(3);
  const prefix = `stratus-bench-${randomUUID().slice(0, 6)}`;
  // A benchmark only ever talks to the local endpoint, never to an AWS account.
  const client = sqsClientFromEnv({ ...process.env, AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL ?? LOCAL_ENDPOINT });
  try {
    await ensureQueues(client, names, { prefix, retentionSeconds: 60 });
    const registries = new Map<string, Registry>();
    for (const name of names) {
      const r = new Registry(new MemoryItemStore());
      await seed(r, name, AGENTS, ENDPOINTS);
      registries.set(name, r);
    }
    const transports = new Map(names.map((n) => [n, new SqsGossipTransport({ region: n, client, directory: new QueueDirectory(client, {}, prefix) })]));
    const regions = gossipRegions(names, registries, (n) => transports.get(n)!, () => performance.now(), Date.now);
    const sendLat: number[] = [];
    const deliverLat: number[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const r of regions) {
        const t = performance.now();
        await r.gossip.send(undefined);
        sendLat.push(performance.now() - t);
      }
      for (const r of regions) {
        const t = performance.now();
        let got = 0;
        while (got < names.length - 1) got += await r.gossip.receiveOnce(1_000);
        deliverLat.push(performance.now() - t);
      }
    }
    const t0 = transports.get(names[0]!)!;
    return {
      rows: [
        {
          regions: 3,
          rounds,
          'SendMessageBatch/round': t0.requests.send / rounds,
          'ReceiveMessage/round': t0.requests.receive / rounds,
          'DeleteMessageBatch/round': t0.requests.delete / rounds,
          'send p50 ms': median(sendLat),
          'receive+apply p50 ms': median(deliverLat),
        },
      ],
    };
  } catch (e) {
    return { rows: [], note: `moto SQS unavailable at ${process.env.AWS_ENDPOINT_URL ?? LOCAL_ENDPOINT}: ${(e as Error).message}` };
  } finally {
    await deleteQueues(client, names, prefix).catch(() => {});
    client.destroy();
  }
}

// ---- convergence and failure detection on simulated time ----

/** Holds each message for a random delivery latency on the simulated clock. */
class LatencyTransport implements GossipTransport {
  readonly region: string;
  constructor(
    private readonly inner: GossipTransport,
    private readonly held: { at: number; m: OutgoingMessage }[],
    private readonly now: () => number,
    private readonly latency: () => number,
  ) {
    this.region = inner.region;
  }
  async send(messages: readonly OutgoingMessage[]): Promise<SendResult> {
    for (const m of messages) this.held.push({ at: this.now() + this.latency(), m });
    return { messages: messages.length, requests: new Set(messages.map((m) => m.to)).size, bytes: 0, failed: [] };
  }
  receive(o: ReceiveOptions): Promise<IncomingMessage[]> {
    return this.inner.receive(o);
  }
  ack(m: readonly IncomingMessage[]): Promise<void> {
    return this.inner.ack(m);
  }
}

interface Trial {
  converge: number;
  suspect: number;
  dead: number;
}

async function trial(n: number, trialSeed: number): Promise<Trial> {
  // mulberry32, so every run simulates the same trials.
  let a = trialSeed >>> 0;
  const random = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const names = regionNames(n);
  const registries = new Map<string, Registry>();
  for (const name of names) {
    const r = new Registry(new MemoryItemStore());
    await seed(r, name, 20, 0);
    registries.set(name, r);
  }
  let now = 0;
  const network = new InProcessGossipNetwork({ clock: () => now });
  const held: { at: number; m: OutgoingMessage }[] = [];
  const regions = gossipRegions(names, registries, (x) => new LatencyTransport(network.transport(x), held, () => now, () => 20 + random() * 130), () => now, () => 1e12 + now);
  const nextTick = new Map(regions.map((r) => [r.name, random() * INTERVAL]));
  const cut = new Set<string>();
  const step = async (until: number, done: () => Promise<boolean>): Promise<number | undefined> => {
    while (now < until) {
      const t = Math.min(until, ...[...nextTick.values()], ...held.map((h) => h.at));
      now = Math.max(now, t);
      for (let i = held.length - 1; i >= 0; i--) {
        if (held[i]!.at > now) continue;
        if (!cut.has(held[i]!.m.to)) network.deliver(held[i]!.m);
        held.splice(i, 1);
      }
      for (const r of regions) if (!cut.has(r.name)) await drain(r.gossip);
      for (const r of regions) {
        if (nextTick.get(r.name)! > now) continue;
        nextTick.set(r.name, nextTick.get(r.name)! + INTERVAL);
        if (!cut.has(r.name)) await r.gossip.tick();
      }
      if (await done()) return now;
    }
    return undefined;
  };
  // Warm up: everyone knows everyone.
  await step(3 * INTERVAL, async () => false);
  // A change in region 0 (10 more agents) at a random moment.
  await step(now + random() * INTERVAL, async () => false);
  const r0 = regions[0]!;
  let lastSent = 0;
  r0.gossip.subscribe((e) => {
    if (e.type === 'sent') lastSent = now;
  });
  const changedAt = now;
  const tx = r0.registry.transaction();
  for (let i = 0; i < 10; i++) tx.putAgent(agent(1000 + i, r0.name), 'any');
  await tx.commit();
  const seen = async (): Promise<boolean> => {
    for (const r of regions.slice(1)) {
      const p = (await r.gossip.peerDigests()).find((d) => d.name === r0.name);
      if (!p || p.digest.agents.total !== 30) return false;
    }
    return true;
  };
  const converged = (await step(changedAt + 4 * INTERVAL, seen)) ?? NaN;
  // Region 0 drops off the network: when do all others suspect it, then declare it dead?
  cut.add(r0.name);
  const cutAt = now;
  const all = (state: string) => async (): Promise<boolean> => {
    for (const r of regions.slice(1)) if ((await r.gossip.peers()).find((p) => p.name === r0.name)?.state !== state) return false;
    return true;
  };
  const suspect = (await step(cutAt + 10 * INTERVAL, all('suspect'))) ?? NaN;
  const dead = (await step(cutAt + 10 * INTERVAL, all('dead'))) ?? NaN;
  // Failure detection counts from the region's last digest (the receivers' clocks start there).
  return { converge: converged - changedAt, suspect: suspect - lastSent, dead: dead - lastSent };
}

async function convergence(n: number, trials: number): Promise<Record<string, Cell>> {
  const results: Trial[] = [];
  for (let i = 0; i < trials; i++) results.push(await trial(n, 1000 * n + i));
  const c = results.map((r) => r.converge);
  const s = results.map((r) => r.suspect);
  const d = results.map((r) => r.dead);
  return {
    regions: n,
    trials,
    'converge p50 s': median(c) / 1000,
    'converge max s': Math.max(...c) / 1000,
    'converge max (intervals)': Math.max(...c) / INTERVAL,
    'all suspect p50 s': median(s) / 1000,
    'all suspect max s': Math.max(...s) / 1000,
    'all dead p50 s': median(d) / 1000,
    'all dead max s': percentile(d, 100) / 1000,
  };
}

// ---- federated jobs: failover and hand-back on simulated time ----

interface FailoverResult {
  replaced: number;
  handedBack: number;
  ownerDigestBytes: number;
  plainDigestBytes: number;
}

async function jobsFailover(n: number, jobs: number): Promise<FailoverResult> {
  const names = regionNames(n);
  let now = 0;
  const network = new InProcessGossipNetwork({ clock: () => now });
  const local = new Map<string, LocalJobs>();
  const controllers = new Map<string, FederatedJobsController>();
  const feds = new Map<string, RegionGossip>();
  for (const name of names) {
    const registry = new Registry(new MemoryItemStore(), undefined, () => 1e12 + now);
    await seed(registry, name, 20, 0);
    local.set(name, registryJobs(registry));
    const f = new RegionGossip({
      region: name,
      peers: names.filter((p) => p !== name),
      registry,
      transport: network.transport(name),
      log: silentLogger,
      clock: () => now,
      wallClock: () => 1e12 + now,
      federatedJobs: () => controllers.get(name)!.summaries(),
    });
    feds.set(name, f);
    controllers.set(
      name,
      new FederatedJobsController({ gossip: f, jobs: local.get(name)!, regionJobs: (r) => directRegionJobs(local.get(r)!.api), log: silentLogger, clock: () => now, wallClock: () => 1e12 + now }),
    );
  }
  const cut = new Set<string>();
  const round = async (): Promise<void> => {
    for (const name of names) if (!cut.has(name)) await feds.get(name)!.tick();
    for (const name of names) if (!cut.has(name)) await drain(feds.get(name)!);
    for (const c of controllers.values()) await c.round();
    now += INTERVAL;
  };
  const owner = names[0]!;
  const lost = names[names.length - 1]!;
  for (let i = 0; i < 6; i++) await round();
  for (let j = 0; j < jobs; j++) {
    await controllers.get(owner)!.submit({ name: `job-${j}`, policy: { counts: Object.fromEntries(names.map((r) => [r, 2])) }, job: { cpus: 0.25, mem: 256, command: `serve --shard ${j}`, env: { SHARD: String(j) } } });
  }
  const counts = async (j: number): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const r of names) out[r] = (await local.get(r)!.api.get(`fed-job-${j}`).catch(() => undefined))?.spec.instances ?? 0;
    return out;
  };
  const all = async (pred: (c: Record<string, number>) => boolean): Promise<boolean> => {
    for (let j = 0; j < jobs; j++) if (!pred(await counts(j))) return false;
    return true;
  };
  for (let i = 0; i < 4; i++) await round();
  const digestOf = async (name: string, withJobs: boolean): Promise<number> => {
    const registry = local.get(name)!.store.registry;
    const d = buildDigest({ region: name, incarnation: 1, seq: 1, agents: await registry.listAgents(), tasks: [], jobs: withJobs ? await controllers.get(name)!.summaries() : [] }, DEFAULT_GOSSIP_CONFIG);
    return encodeDigest(d, DEFAULT_GOSSIP_CONFIG).bytes;
  };
  const ownerDigestBytes = await digestOf(owner, true);
  const plainDigestBytes = await digestOf(owner, false);
  // The lost region's share (2 per job) must run in the others: 2n in total, none asked of it.
  const total = 2 * n;
  cut.add(lost);
  const cutAt = now - INTERVAL; // its last digest went out in the previous round
  let replaced = NaN;
  for (let i = 0; i < 20; i++) {
    await round();
    if (await all((c) => names.filter((r) => r !== lost).reduce((a, r) => a + c[r]!, 0) === total)) {
      replaced = now - cutAt;
      break;
    }
  }
  cut.delete(lost);
  const backAt = now;
  let handedBack = NaN;
  for (let i = 0; i < 20; i++) {
    await round();
    if (await all((c) => names.every((r) => c[r] === 2))) {
      handedBack = now - backAt;
      break;
    }
  }
  return { replaced, handedBack, ownerDigestBytes, plainDigestBytes };
}

async function federatedJobsTable(quick: boolean): Promise<Record<string, Cell>[]> {
  const rows: Record<string, Cell>[] = [];
  for (const [n, jobs] of quick ? [[3, 10]] : [[3, 10], [10, 50], [10, 200]]) {
    const r = await jobsFailover(n!, jobs!);
    rows.push({
      regions: n!,
      'federated jobs': jobs!,
      're-placed after s': r.replaced / 1000,
      're-placed (intervals)': r.replaced / INTERVAL,
      'handed back after s': r.handedBack / 1000,
      'handed back (intervals)': r.handedBack / INTERVAL,
      'owner digest B': r.ownerDigestBytes,
      'without jobs B': r.plainDigestBytes,
    });
  }
  return rows;
}

export const federationBench: BenchSuite = {
  name: 'federation',
  description: 'gossip cost per round per region, convergence and failure-detection times',
  async run(args): Promise<BenchTable[]> {
    const quick = args.includes('--quick');
    const sizes = [3, 10, 30];
    const cost: Record<string, Cell>[] = [];
    for (const n of sizes) cost.push(await roundCost(n));
    const moto = await motoCost(quick ? 3 : 10);
    const conv: Record<string, Cell>[] = [];
    for (const n of sizes) conv.push(await convergence(n, quick ? 4 : 12));
    const failover = await federatedJobsTable(quick);
    return [
      {
        title: `Gossip cost per round, per region (${AGENTS} agents and ${ENDPOINTS} service endpoints per region; in-process transport, SQS batching)`,
        columns: ['regions', 'agents/region', 'digest JSON B', 'digest wire B', 'if gzipped B', 'msgs out', 'SendMessageBatch', 'KiB out', 'msgs in', 'Receive+Delete (min)', 'table reads', 'table writes', 'round ms'],
        rows: cost,
        notes: [
          'SendMessageBatch: requests one region makes per round (one per peer; goal: at most one per peer).',
          'table reads/writes: the region\'s Registry requests per round (listing agents, tasks and peers; one conditional write per newer peer digest).',
          `digests are sent as plain JSON up to ${DEFAULT_GOSSIP_CONFIG.compressAboveBytes / 1024} KiB (compressAboveBytes); "if gzipped" is the size compression would give.`,
        ],
      },
      {
        title: 'Gossip cost on moto SQS (3 regions, measured requests per region per round)',
        columns: ['regions', 'rounds', 'SendMessageBatch/round', 'ReceiveMessage/round', 'DeleteMessageBatch/round', 'send p50 ms', 'receive+apply p50 ms'],
        rows: moto.rows,
        ...(moto.note ? { notes: [moto.note] } : {}),
      },
      {
        title: `Convergence after a change and failure detection (simulated time, ${INTERVAL / 1000} s interval, 20-150 ms delivery, random phases)`,
        columns: ['regions', 'trials', 'converge p50 s', 'converge max s', 'converge max (intervals)', 'all suspect p50 s', 'all suspect max s', 'all dead p50 s', 'all dead max s'],
        rows: conv,
        notes: [
          'converge: from a change in one region until every peer holds a digest showing it.',
          'suspect/dead: from the lost region\'s last digest until every peer marks it (configured: 3 and 6 missed intervals).',
        ],
      },
      {
        title: `Federated jobs: failover of a lost region and hand-back (simulated time, ${INTERVAL / 1000} s interval; 2 instances per region per job)`,
        columns: ['regions', 'federated jobs', 're-placed after s', 're-placed (intervals)', 'handed back after s', 'handed back (intervals)', 'owner digest B', 'without jobs B'],
        rows: failover,
        notes: [
          're-placed: from the lost region\'s last digest until every job\'s child jobs in the other regions ask for all its instances (dead after 6 missed intervals, then one controller round).',
          `handed back: from its first digest after coming back until every job asks its share of it again (hand-back after ${6} alive intervals).`,
          'owner digest: the owning region\'s digest with every job\'s summary and definition (the replica a successor takes over from), against the same digest without federated jobs.',
        ],
      },
    ];
  },
};
