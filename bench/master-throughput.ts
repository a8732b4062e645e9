import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { silentLogger } from '../src/core/logger.js';
import { startJobsFramework } from '../src/jobs/index.js';
import { Master } from '../src/master-lambda/master.js';
import { startLocalServer } from '../src/master-lambda/local-server.js';
import { DynamoDbItemStore } from '../src/state/dynamodb-item-store.js';
import type { ItemStore, WriteOp } from '../src/state/item-store.js';
import { MemoryItemStore } from '../src/state/memory-item-store.js';
import { Registry } from '../src/state/registry.js';
import { frameworkInfo, StreamingFramework } from '../test/support/scheduler-client.js';
import { waitUntil } from '../test/support/wait.js';
import { CountingStore, countsSince, totalRequests, type RequestCounts } from './counting-store.js';
import { percentile, type BenchSuite, type BenchTable, type Cell } from './report.js';
import { SimAgent } from './sim-agent.js';

// Master throughput (issue 14 item 5): simulated agents in 3 zones, the built-in jobs framework
// submitting zone-balanced batch jobs, the master and the jobs framework on their defaults.
// Measured: submission -> every task RUNNING as the master applied it; finishing every task ->
// its cpus offered again (to an observer framework that holds what it is offered); store
// requests per task lifecycle, counted at the client. Nothing here tunes the master.

export interface ThroughputOptions {
  readonly agents: number;
  readonly jobs: number;
  readonly instancesPerJob: number;
  readonly cpusPerAgent?: number;
  readonly taskCpus?: number;
  readonly zoneSpread?: 'hard' | 'soft';
  readonly store: ItemStore;
  /** Per phase. */
  readonly timeoutMs?: number;
}

export interface ThroughputResult {
  readonly tasks: number;
  readonly agents: number;
  readonly launchSeconds: number;
  readonly tasksPerSecond: number;
  /** Submission -> RUNNING applied by the master, per task. */
  readonly runningP50Ms: number;
  readonly runningP99Ms: number;
  readonly runningByZone: Record<string, number>;
  /** Tasks the master holds RUNNING (read after the phase, uncounted). */
  readonly masterRunning: number;
  readonly duplicateLaunches: number;
  readonly runningApplied: number;
  /** Finish command -> every freed cpu offered again. */
  readonly reofferSeconds: number;
  readonly reofferP50Ms: number;
  readonly reofferP99Ms: number;
  /** Store requests by the master and by the jobs framework, per phase. */
  readonly launch: { readonly master: RequestCounts; readonly jobs: RequestCounts };
  readonly end: { readonly master: RequestCounts; readonly jobs: RequestCounts };
  /** Agent API requests (register, work, heartbeat, status) during both phases. */
  readonly agentRequests: number;
}

const ZONES = ['a', 'b', 'c'] as const;
const cpusOf = (data: unknown): number => (((data as { resources?: { cpus?: number } }).resources?.cpus ?? 0) / 1000);

/** The live offers to one framework, per agent, as the master commits them. */
class OfferWatch {
  frameworkId = '';
  private readonly live = new Map<string, { agentId: string; cpus: number }>();
  private readonly perAgent = new Map<string, number>();
  /** After `record()`: every change of an agent's offered cpus, in order. */
  readonly series = new Map<string, { at: number; cpus: number }[]>();
  private recording = false;

  readonly watcher = (ops: readonly WriteOp[], at: number): void => {
    for (const op of ops) {
      if (op.op === 'put' && op.item.pk.startsWith('OFFER#') && op.expect === 'absent') {
        const d = op.item.data as { frameworkId?: string; agentId?: string };
        if (d.frameworkId !== this.frameworkId || !d.agentId) continue;
        this.live.set(op.item.pk, { agentId: d.agentId, cpus: cpusOf(op.item.data) });
        this.change(d.agentId, cpusOf(op.item.data), at);
      } else if (op.op === 'delete' && op.key.pk.startsWith('OFFER#')) {
        const o = this.live.get(op.key.pk);
        if (!o) continue;
        this.live.delete(op.key.pk);
        this.change(o.agentId, -o.cpus, at);
      }
    }
  };

  private change(agentId: string, delta: number, at: number): void {
    const cpus = (this.perAgent.get(agentId) ?? 0) + delta;
    this.perAgent.set(agentId, cpus);
    if (this.recording) {
      const s = this.series.get(agentId) ?? [];
      s.push({ at, cpus });
      this.series.set(agentId, s);
    }
  }

  offered(agentId: string): number {
    return this.perAgent.get(agentId) ?? 0;
  }

  total(): number {
    let n = 0;
    for (const v of this.perAgent.values()) n += v;
    return n;
  }

  record(): void {
    this.recording = true;
  }
}

export async function runThroughput(o: ThroughputOptions): Promise<ThroughputResult> {
  const cpusPerAgent = o.cpusPerAgent ?? 8;
  const taskCpus = o.taskCpus ?? 0.5;
  const timeoutMs = o.timeoutMs ?? 600_000;
  const total = o.jobs * o.instancesPerJob;
  if (total * taskCpus > o.agents * cpusPerAgent) throw new Error(`${total} tasks of ${taskCpus} cpus do not fit ${o.agents} agents of ${cpusPerAgent}`);
  const offers = new OfferWatch();
  const masterStore = new CountingStore(o.store, offers.watcher);
  const jobsStore = new CountingStore(o.store);
  const look = new Registry(o.store); // the benchmark's own reads, not counted
  const master = new Master({ store: masterStore, log: silentLogger });
  const server = await startLocalServer(master, { port: 0 });
  master.start();
  const agents: SimAgent[] = [];
  let jobs: Awaited<ReturnType<typeof startJobsFramework>> | undefined;
  let observer: StreamingFramework | undefined;
  try {
    for (let i = 0; i < o.agents; i += 25) {
      const batch = Array.from({ length: Math.min(25, o.agents - i) }, (_, j) => new SimAgent(server.url, `sim-${i + j}`, ZONES[(i + j) % 3]!, cpusPerAgent, 16_384));
      agents.push(...(await Promise.all(batch.map((a) => a.start()))));
    }
    await waitUntil(async () => (await look.listAgents()).length === o.agents, timeoutMs, `${o.agents} agents registered`, 100);
    jobs = await startJobsFramework({ master: server.url, registry: new Registry(jobsStore), router: master.api, log: silentLogger });
    const running = jobs;
    await waitUntil(() => running.framework.frameworkId, timeoutMs, 'the jobs framework to subscribe', 50);

    // ---- launch: submission -> all RUNNING ----
    const m0 = { ...masterStore.counts };
    const j0 = { ...jobsStore.counts };
    const a0 = agents.reduce((n, a) => n + a.requests, 0);
    const t0 = performance.now();
    for (let j = 0; j < o.jobs; j++) {
      await running.api.submit({ name: `bench-${j}`, type: 'batch', instances: o.instancesPerJob, cpus: taskCpus, mem: 64, command: 'run', zoneSpread: o.zoneSpread ?? 'hard' });
    }
    const runningCount = (): number => agents.reduce((n, a) => n + a.runningApplied, 0);
    await waitUntil(() => runningCount() >= total, timeoutMs, `${total} tasks RUNNING`, 20);
    const tasks = agents.flatMap((a) => [...a.tasks.values()].map((t) => ({ t, a })));
    const tRunning = Math.max(...tasks.map(({ t }) => t.runningAt!));
    const launch = { master: countsSince(masterStore.counts, m0), jobs: countsSince(jobsStore.counts, j0) };
    const a1 = agents.reduce((n, a) => n + a.requests, 0);
    const fid = running.framework.frameworkId!;
    const masterRunning = (await look.listTasksByFramework(fid)).filter((t) => t.state === 'RUNNING').length;
    const runningByZone: Record<string, number> = {};
    for (const { a } of tasks) runningByZone[a.zone] = (runningByZone[a.zone] ?? 0) + 1;

    // ---- an observer framework takes what is left, so freed cpus have someone to be offered to ----
    observer = await new StreamingFramework(server.url).subscribe(frameworkInfo('bench-observer'));
    offers.frameworkId = observer.frameworkId;
    // Offers written before the id was known are missed: count its live offers from the table.
    for (const off of await look.listOffers()) if (off.frameworkId === observer.frameworkId) offers.watcher([{ op: 'put', item: { pk: `OFFER#${off.id}`, sk: 'OFFER', data: off as never }, expect: 'absent' }], performance.now());
    const leftover = o.agents * cpusPerAgent - total * taskCpus;
    await waitUntil(() => offers.total() >= leftover - 1e-6, timeoutMs, `the observer to be offered the ${leftover} cpus left`, 20);

    // ---- end: finish every task -> its cpus offered again ----
    const baseline = new Map(agents.map((a) => [a.agentId, offers.offered(a.agentId)]));
    offers.record();
    const m1 = { ...masterStore.counts };
    const j1 = { ...jobsStore.counts };
    const tEnd = performance.now();
    for (const a of agents) a.finishAll();
    const freedOn = (a: SimAgent): number => a.tasks.size * taskCpus;
    await waitUntil(() => agents.every((a) => offers.offered(a.agentId) >= baseline.get(a.agentId)! + freedOn(a) - 1e-6), timeoutMs, 'every freed cpu offered again', 20);
    const tReoffered = performance.now();
    const end = { master: countsSince(masterStore.counts, m1), jobs: countsSince(jobsStore.counts, j1) };
    const a2 = agents.reduce((n, a) => n + a.requests, 0);
    // A task's cpus are back when its agent's offered cpus first cover its own and those of the
    // agent's tasks that ended before it.
    const reoffer: number[] = [];
    for (const a of agents) {
      const series = offers.series.get(a.agentId) ?? [];
      const ended = [...a.tasks.values()].sort((x, y) => x.endSentAt! - y.endSentAt!);
      ended.forEach((t, k) => {
        const need = baseline.get(a.agentId)! + (k + 1) * taskCpus - 1e-6;
        const hit = series.find((s) => s.cpus >= need);
        if (hit) reoffer.push(hit.at - t.endSentAt!);
      });
    }
    const runLat = tasks.map(({ t }) => t.runningAt! - t0);
    return {
      tasks: total,
      agents: o.agents,
      launchSeconds: (tRunning - t0) / 1000,
      tasksPerSecond: total / ((tRunning - t0) / 1000),
      runningP50Ms: percentile(runLat, 50),
      runningP99Ms: percentile(runLat, 99),
      runningByZone,
      masterRunning,
      duplicateLaunches: agents.reduce((n, a) => n + a.duplicateLaunches, 0),
      runningApplied: runningCount(),
      reofferSeconds: (tReoffered - tEnd) / 1000,
      reofferP50Ms: percentile(reoffer, 50),
      reofferP99Ms: percentile(reoffer, 99),
      launch,
      end,
      agentRequests: a1 - a0 + (a2 - a1),
    };
  } finally {
    observer?.close();
    await jobs?.stop();
    await Promise.all(agents.map((a) => a.stop()));
    await master.stop();
    await server.close();
  }
}

function rowsOf(label: string, r: ThroughputResult, size: string): { speed: Record<string, Cell>; cost: Record<string, Cell> } {
  const m = { gets: r.launch.master.gets + r.end.master.gets, queries: r.launch.master.queries + r.end.master.queries, writes: r.launch.master.writes + r.end.master.writes, transactions: r.launch.master.transactions + r.end.master.transactions };
  const j = { gets: r.launch.jobs.gets + r.end.jobs.gets, queries: r.launch.jobs.queries + r.end.jobs.queries, writes: r.launch.jobs.writes + r.end.jobs.writes, transactions: r.launch.jobs.transactions + r.end.jobs.transactions };
  const per = (n: number): number => n / r.tasks;
  return {
    speed: {
      store: label,
      size,
      'tasks/s to RUNNING': r.tasksPerSecond,
      'target ≥ 5,000/s (memory)': label === 'in-memory' ? (r.tasksPerSecond >= 5000 ? 'met' : 'MISSED') : 'n/a (moto)',
      'RUNNING p50 ms': r.runningP50Ms,
      'RUNNING p99 ms': r.runningP99Ms,
      'all freed re-offered s': r.reofferSeconds,
      'end→re-offer p50 ms': r.reofferP50Ms,
      'end→re-offer p99 ms': r.reofferP99Ms,
      'target p50 ≤ 200 ms': r.reofferP50Ms <= 200 ? 'met' : 'MISSED',
      'zones a/b/c': ZONES.map((z) => r.runningByZone[z] ?? 0).join('/'),
      'RUNNING (master)': r.masterRunning,
      'launched twice': r.duplicateLaunches,
    },
    cost: {
      store: label,
      size,
      'master reads/task': per(m.gets + m.queries),
      'master writes/task': per(m.writes),
      'master tx/task': per(m.transactions),
      'master req/task': per(totalRequests(m)),
      'jobs req/task': per(totalRequests(j)),
      'region req/task': per(totalRequests(m) + totalRequests(j)),
      'target ≤ 15': per(totalRequests(m) + totalRequests(j)) <= 15 ? 'met' : 'MISSED',
      'launch-phase req/task': per(totalRequests(r.launch.master) + totalRequests(r.launch.jobs)),
      'end-phase req/task': per(totalRequests(r.end.master) + totalRequests(r.end.jobs)),
      'agent API calls/task': per(r.agentRequests),
    },
  };
}

async function dynamoStore(): Promise<DynamoDbItemStore> {
  const s = new DynamoDbItemStore({ tableName: `bench-throughput-${randomUUID().slice(0, 8)}` });
  await s.ensureTable();
  return s;
}

export const masterThroughputSuite: BenchSuite = {
  name: 'master-throughput',
  description: 'tasks/s from jobs submission to RUNNING, end → re-offer latency and store requests per task (simulated agents, 3 zones)',
  async run(args): Promise<BenchTable[]> {
    const quick = args.includes('--quick');
    const memSize = quick ? { agents: 100, jobs: 1, instancesPerJob: 1000 } : { agents: 1000, jobs: 10, instancesPerJob: 1000 };
    const motoSize = quick ? { agents: 30, jobs: 1, instancesPerJob: 200 } : { agents: 100, jobs: 1, instancesPerJob: 1000 };
    const size = (s: typeof memSize): string => `${s.agents}×8 cpus, ${s.jobs}×${s.instancesPerJob} tasks`;
    const speed: Record<string, Cell>[] = [];
    const cost: Record<string, Cell>[] = [];
    const notes: string[] = [];
    const mem = rowsOf('in-memory', await runThroughput({ ...memSize, store: new MemoryItemStore() }), size(memSize));
    speed.push(mem.speed);
    cost.push(mem.cost);
    let dynamo: DynamoDbItemStore | undefined;
    try {
      dynamo = await dynamoStore();
    } catch (e) {
      notes.push(`DynamoDB endpoint unavailable (${process.env.AWS_ENDPOINT_URL ?? 'default'}): ${(e as Error).message}`);
    }
    if (dynamo) {
      try {
        const d = rowsOf('DynamoDB (moto)', await runThroughput({ ...motoSize, store: dynamo, timeoutMs: 120_000 }), size(motoSize));
        speed.push(d.speed);
        cost.push(d.cost);
      } catch (e) {
        // Reported, not hidden: on moto the run has not reached the end (see the report).
        notes.push(`DynamoDB (moto) run (${size(motoSize)}) did not complete: ${(e as Error).message}`);
      } finally {
        await dynamo.client.send(new DeleteTableCommand({ TableName: dynamo.tableName })).catch(() => undefined);
      }
    }
    notes.push(
      'Agents are SimAgents (bench/sim-agent.ts): the master\'s agent HTTP API for real (register, 20 s work long-polls, heartbeats, status updates kept until acknowledged), a containerizer stand-in that reaches RUNNING at once and finishes on command; one process, so 1,000 real Agent daemons (each with its endpoint, work dir and containerizers) are not what is measured.',
      'Jobs: the built-in jobs framework (default timing) submits batch jobs of 0.5 cpu instances, zoneSpread hard, over agents spread round-robin over zones a/b/c; the master runs its defaults (allocation interval 1 s, debounce 50 ms). Nothing is tuned.',
      'tasks/s: count / (last RUNNING the master applied − first submission). end→re-offer: from the agent sending TASK_FINISHED to the master committing an offer (to an observer framework that holds every offer) that covers the task\'s cpus on its agent.',
      `Requests: counted at the store client, launch phase + end phase, the master's and the jobs framework's separately; reads = GetItem + Query, writes = single-item UpdateItem/DeleteItem, tx = TransactWriteItems. Background work (heartbeats, idle polls, allocation rounds) during the phases is included.${motoSize.agents < memSize.agents ? ` moto runs a smaller size (${size(motoSize)}): moto is a single-threaded Python mock, so its absolute speed does not carry over; requests per task and ratios do.` : ''}`,
      'Anchors: Kubernetes scheduler_perf ~700–800 pods/s at 5,000 nodes; Nomad C1M 3,750 placements/s. Targets (issue 14): ≥ 5,000 tasks/s in memory; ≤ 15 DynamoDB requests per task lifecycle; end→re-offer p50 ≤ 200 ms.',
    );
    return [
      { title: 'Master throughput: submission → RUNNING, end → re-offer', columns: Object.keys(mem.speed), rows: speed, notes },
      { title: 'Store requests per task lifecycle (launch → RUNNING → FINISHED → re-offered)', columns: Object.keys(mem.cost), rows: cost },
    ];
  },
};
