import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { silentLogger } from '../src/core/logger.js';
import { Master } from '../src/master-lambda/master.js';
import { startLocalServer } from '../src/master-lambda/local-server.js';
import { DynamoDbItemStore } from '../src/state/dynamodb-item-store.js';
import { DEFAULT_LEASE_DURATION_MS } from '../src/state/leader-lease.js';
import type { ItemStore } from '../src/state/item-store.js';
import { MemoryItemStore } from '../src/state/memory-item-store.js';
import { TestAgent } from '../test/support/test-agent.js';
import { frameworkInfo, launchCall, scalar, StreamingFramework } from '../test/support/scheduler-client.js';
import { median, type BenchSuite, type BenchTable, type Cell } from './report.js';

// Leader takeover time (masters killed without releasing their lease, as a crash does) and
// the DynamoDB requests one launched task costs end to end, counted at the client.

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function takeover(label: string, stores: () => Promise<{ make: () => ItemStore; drop: () => Promise<void> }>, leaseMs: number, kills: number): Promise<Record<string, Cell>> {
  const { make, drop } = await stores();
  const masters: Master[] = [];
  const start = (): Master => {
    const m = new Master({ store: make(), log: silentLogger, config: { leaseDurationMs: leaseMs, allocationIntervalMs: 1_000 } });
    m.start();
    masters.push(m);
    return m;
  };
  for (let i = 0; i < 3; i++) start();
  const samples: number[] = [];
  try {
    for (let k = 0; k < kills; k++) {
      let leader: Master | undefined;
      for (let i = 0; i < 400 && !leader; i++) {
        leader = masters.find((m) => m.lease.isLeader());
        if (!leader) await sleep(25);
      }
      if (!leader) throw new Error(`${label}: no leader elected`);
      const killedAt = performance.now();
      await leader.leader.stop({ release: false }); // a crash: the lease is left to expire
      masters.splice(masters.indexOf(leader), 1);
      let next: Master | undefined;
      while (!next) {
        next = masters.find((m) => m.lease.isLeader());
        if (!next) await sleep(10);
        if (performance.now() - killedAt > leaseMs * 3) throw new Error(`${label}: no takeover within 3 leases`);
      }
      samples.push(performance.now() - killedAt);
      start(); // keep three masters
    }
  } finally {
    for (const m of masters) await m.leader.stop({ release: false });
    await drop();
  }
  return {
    store: label,
    'lease ms': leaseMs,
    kills,
    'takeover p50 ms': median(samples),
    'takeover max ms': Math.max(...samples),
    'p50 − lease ms': median(samples) - leaseMs,
    'goal ≤ lease + 1 s': Math.max(...samples) <= leaseMs + 1_000 ? 'met' : 'MISSED',
  };
}

async function requestsPerTask(label: string, store: ItemStore, tasks: number): Promise<Record<string, Cell>> {
  const master = new Master({ store, log: silentLogger, config: { allocationIntervalMs: 1_000 } });
  const server = await startLocalServer(master, { port: 0 });
  master.start();
  const agent = await new TestAgent({ master: server.url, hostname: 'bench-agent', cpus: 8, mem: 8192, heartbeatMs: 15_000, resendMs: 10_000 }).start();
  const f = await new StreamingFramework(server.url).subscribe(frameworkInfo('bench'));
  await f.nextOffer();
  const before = { ...store.stats };
  const t0 = performance.now();
  let launched = 0;
  let from = 0;
  const finished = new Set<string>();
  let seen = 0;
  while (finished.size < tasks) {
    for (; seen < f.events.length; seen++) {
      const e = f.events[seen]!;
      if (e.type === 'UPDATE') {
        const s = e.update!.status;
        if (s.state === 'TASK_FINISHED') finished.add(s.task_id.value);
        if (s.uuid) await f.acknowledge(s);
      }
    }
    if (launched < tasks) {
      const { event, index } = await f.waitFor((e) => e.type === 'OFFERS', 30_000, from);
      from = index + 1;
      for (const o of event.offers!.offers) {
        const n = Math.min(tasks - launched, Math.floor(scalar(o, 'cpus') / 0.25));
        if (n <= 0) continue;
        const ids = Array.from({ length: n }, (_, i) => `t${launched + i}`);
        launched += n;
        await f.call(launchCall(o, ids.map((id) => ({ id, cpus: 0.25, mem: 16, command: 'sleep 0.2' })), 0));
      }
    } else await f.waitFor(() => true, 5_000, seen).catch(() => undefined);
  }
  const secs = (performance.now() - t0) / 1000;
  const reads = store.stats.reads - before.reads;
  const writes = store.stats.writes - before.writes;
  f.close();
  await agent.stop();
  await master.stop();
  await server.close();
  return { store: label, tasks, seconds: secs, 'reads/task': reads / tasks, 'writes/task': writes / tasks, 'requests/task': (reads + writes) / tasks };
}

async function dynamo(): Promise<DynamoDbItemStore> {
  const s = new DynamoDbItemStore({ tableName: `bench-failover-${randomUUID().slice(0, 8)}` });
  await s.ensureTable();
  return s;
}

export const masterFailoverSuite: BenchSuite = {
  name: 'master-failover',
  description: 'leader takeover after a crash (median over kills) and DynamoDB requests per launched task',
  async run(args): Promise<BenchTable[]> {
    const quick = args.includes('--quick');
    const kills = quick ? 5 : 20;
    const takeovers: Record<string, Cell>[] = [];
    const notes: string[] = [];
    const shared = new MemoryItemStore();
    takeovers.push(await takeover('in-memory (shared)', async () => ({ make: () => shared, drop: async () => {} }), 2_000, kills));
    const costs: Record<string, Cell>[] = [];
    costs.push(await requestsPerTask('in-memory', new MemoryItemStore(), quick ? 20 : 50));
    try {
      const probe = await dynamo();
      await probe.client.send(new DeleteTableCommand({ TableName: probe.tableName }));
      const onDynamo = async (): Promise<{ make: () => ItemStore; drop: () => Promise<void> }> => {
        const first = await dynamo();
        return {
          make: () => new DynamoDbItemStore({ tableName: first.tableName }),
          drop: async () => void (await first.client.send(new DeleteTableCommand({ TableName: first.tableName }))),
        };
      };
      takeovers.push(await takeover('DynamoDB (moto)', onDynamo, 2_000, kills));
      // The default lease, fewer kills (each costs ~10 s).
      takeovers.push(await takeover('DynamoDB (moto), default lease', onDynamo, DEFAULT_LEASE_DURATION_MS, quick ? 2 : 5));
      const d = await dynamo();
      costs.push(await requestsPerTask('DynamoDB (moto)', d, quick ? 20 : 50));
      await d.client.send(new DeleteTableCommand({ TableName: d.tableName }));
    } catch (e) {
      notes.push(`DynamoDB endpoint unavailable (${process.env.AWS_ENDPOINT_URL ?? 'default'}): ${(e as Error).message}`);
    }
    notes.push('Each kill stops the leader without releasing its lease; survivors take over only after seeing the lease unchanged for its full duration on their own clock.');
    notes.push('Requests per task include everything the master does while the tasks run: ACCEPT, three status updates, three acknowledgements, work long-polls, event delivery, allocation rounds and timeouts.');
    return [
      { title: 'Leader takeover after a crash (3 masters, one table)', columns: ['store', 'lease ms', 'kills', 'takeover p50 ms', 'takeover max ms', 'p50 − lease ms', 'goal ≤ lease + 1 s'], rows: takeovers, notes },
      { title: 'Registry requests per launched task, end to end (sleep 0.2 tasks, all acknowledged)', columns: ['store', 'tasks', 'seconds', 'reads/task', 'writes/task', 'requests/task'], rows: costs },
    ];
  },
};

