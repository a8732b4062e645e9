import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { performance } from 'node:perf_hooks';
import type { AgentId, FrameworkId, OfferId, TaskId } from '../src/core/ids.js';
import { EMPTY, resources } from '../src/core/resources.js';
import { DynamoDbItemStore } from '../src/state/dynamodb-item-store.js';
import type { ItemStore } from '../src/state/item-store.js';
import { MemoryItemStore } from '../src/state/memory-item-store.js';
import { Registry } from '../src/state/registry.js';
import { median, percentile, type BenchSuite, type BenchTable, type Cell } from './report.js';

// Registry operations per second and latency, in-memory vs DynamoDB on the local endpoint
// (moto), measured in the same run so the ratio means something.

type Op = (i: number) => Promise<void>;

async function measure(op: Op, n: number): Promise<{ opsPerSec: number; p50: number; p99: number }> {
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await op(i);
    lat.push(performance.now() - s);
  }
  const total = performance.now() - t0;
  return { opsPerSec: (n / total) * 1000, p50: median(lat), p99: percentile(lat, 99) };
}

function ops(registry: Registry): Record<string, { setup?: () => Promise<void>; op: Op }> {
  const agent = (id: string) => ({
    id: id as AgentId,
    hostname: `${id}.local`,
    attributes: { zone: 'a' },
    total: resources({ cpus: 8, mem: 16384 }),
    allocated: EMPTY,
    offered: EMPTY,
    reachability: 'REACHABLE' as const,
    deactivated: false,
    registeredAt: 0,
    session: 's',
  });
  // The listing goes first, while the table holds just its 100 agents.
  return {
    'list 100 agents (GSI query)': {
      setup: async () => {
        const tx = registry.transaction();
        for (let i = 0; i < 100; i++) tx.putAgent(agent(`l${i}`), 'absent');
        await tx.commit();
      },
      op: async () => void (await registry.listAgents()),
    },
    'put agent (conditional)': {
      op: async (i) => registry.transaction().putAgent(agent(`b${i}`), 'absent').commit(),
    },
    'get agent': {
      setup: async () => registry.transaction().putAgent(agent('g'), 'absent').commit(),
      op: async () => void (await registry.getAgent('g')),
    },
    'launch tx (offer + task + event, fenced)': {
      setup: async () => {
        await registry.store.transact([{ op: 'put', item: { pk: 'LEASE#master', sk: 'LEASE', attrs: { epoch: 1 }, data: { epoch: 1, holder: 'x', rvn: 'r', durationMs: 1 } }, expect: 'any' }]);
      },
      op: async (i) => {
        const oid = `o${i}` as OfferId;
        await registry
          .transaction()
          .putOffer({ id: oid, frameworkId: 'f' as FrameworkId, agentId: 'a' as AgentId, hostname: 'a', role: '*', resources: resources({ cpus: 1 }), attributes: {}, epoch: 1, createdAt: 0, expiresAt: 0 })
          .commit();
        const head = await registry.getEventLog('f');
        const tx = registry.transaction().fence(1).deleteOffer(oid);
        tx.putTask(
          {
            frameworkId: 'f' as FrameworkId, taskId: `t${i}` as TaskId, agentId: 'a' as AgentId, role: '*', resources: resources({ cpus: 1 }),
            spec: { name: 't' }, state: 'STAGING', status: { state: 'STAGING', source: 'SOURCE_MASTER', timestamp: 0 }, pendingAcks: [], epoch: 1, createdAt: 0, updatedAt: 0,
          },
          'absent',
        );
        tx.appendEvents('f', head, [{ type: 'UPDATE', body: { i } }]);
        await tx.commit();
      },
    },
  };
}

async function runOn(label: string, store: ItemStore, n: number, rows: Record<string, Cell>[]): Promise<void> {
  const registry = new Registry(store);
  for (const [name, { setup, op }] of Object.entries(ops(registry))) {
    await setup?.();
    const m = await measure(op, n);
    rows.push({ store: label, operation: name, n, 'ops/s': m.opsPerSec, 'p50 ms': m.p50, 'p99 ms': m.p99 } satisfies Record<string, Cell>);
  }
}

export const registrySuite: BenchSuite = {
  name: 'registry',
  description: 'Registry operations per second and latency: in-memory vs DynamoDB on moto',
  async run(args): Promise<BenchTable[]> {
    const quick = args.includes('--quick');
    const rows: Record<string, Cell>[] = [];
    await runOn('in-memory', new MemoryItemStore(), quick ? 200 : 2000, rows);
    const dynamo = new DynamoDbItemStore({ tableName: `bench-${randomUUID().slice(0, 8)}` });
    const notes: string[] = [];
    try {
      await dynamo.ensureTable();
      await runOn('DynamoDB (moto)', dynamo, quick ? 50 : 200, rows);
    } catch (e) {
      notes.push(`DynamoDB endpoint unavailable (${process.env.AWS_ENDPOINT_URL ?? 'default'}): ${(e as Error).message}`);
    } finally {
      await dynamo.client.send(new DeleteTableCommand({ TableName: dynamo.tableName })).catch(() => undefined);
    }
    // Ratio rows: how many times faster the embedded store is, per operation.
    const ratio: Record<string, Cell>[] = [];
    for (const r of rows.filter((x) => x.store === 'in-memory')) {
      const d = rows.find((x) => x.store !== 'in-memory' && x.operation === r.operation);
      if (d) ratio.push({ operation: r.operation ?? null, 'memory/dynamo ops ratio': (r['ops/s'] as number) / (d['ops/s'] as number), 'dynamo p50 / memory p50': (d['p50 ms'] as number) / (r['p50 ms'] as number) });
    }
    return [
      { title: 'Registry operations', columns: ['store', 'operation', 'n', 'ops/s', 'p50 ms', 'p99 ms'], rows, notes },
      { title: 'Registry: in-memory vs DynamoDB-on-moto', columns: ['operation', 'memory/dynamo ops ratio', 'dynamo p50 / memory p50'], rows: ratio },
    ];
  },
};
