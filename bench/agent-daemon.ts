import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { createAgent, type AgentDaemon, type AgentEvent } from '../src/agent/index.js';
import { silentLogger } from '../src/core/logger.js';
import { Master } from '../src/master-lambda/master.js';
import { startLocalServer, type RunningServer } from '../src/master-lambda/local-server.js';
import { MemoryItemStore } from '../src/state/memory-item-store.js';
import { launchRow, percentile, type BenchSuite, type BenchTable } from './report.js';
import { readRecordIO } from '../src/wire/recordio.js';

// The agent daemon's launch latency, measured inside the agent: from the work poll answer that
// carries a launch to the task's RUNNING update (journaled; and applied by the master), with a
// real master in-process and a Mesos framework over HTTP. Next to it, in the same run and
// interleaved round by round: bare `docker run --rm --network none <image> true` (CLI, to exit).
// Then 50 tasks in one ACCEPT: time from the work answer until all are RUNNING, next to the
// same burst of bare create+start calls to the engine.

const IMAGE = 'stratus/busybox:latest';
const SOCKET = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';
const BENCH_LABEL = 'stratus.bench';

function dockerRun(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn('docker', ['run', '--rm', '--network', 'none', '--label', `${BENCH_LABEL}=1`, IMAGE, 'true'], { stdio: 'ignore' });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`docker run exited with ${code}`))));
  });
}

type Json = Record<string, unknown>;
interface Offer {
  id: { value: string };
  agent_id: { value: string };
}
interface Status {
  task_id: { value: string };
  agent_id: { value: string };
  state: string;
  uuid?: string;
}

/** Just enough of a Mesos v1 HTTP framework: SUBSCRIBE (RecordIO), ACCEPT, ACKNOWLEDGE everything. */
class Framework {
  id = '';
  private stream = '';
  readonly offers: Offer[] = [];
  /** task id -> state -> performance.now() when the framework saw it first. */
  readonly seen = new Map<string, Map<string, number>>();
  private readonly abort = new AbortController();

  constructor(private readonly master: string) {}

  async subscribe(): Promise<void> {
    const res = await fetch(`${this.master}/api/v1/scheduler`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'bench', name: 'agent-daemon-bench', roles: ['*'], capabilities: [{ type: 'MULTI_ROLE' }] } } }),
      signal: this.abort.signal,
    });
    if (res.status !== 200 || !res.body) throw new Error(`SUBSCRIBE failed: ${res.status}`);
    this.stream = res.headers.get('mesos-stream-id') ?? '';
    const body = res.body;
    let subscribed!: () => void;
    const ready = new Promise<void>((r) => (subscribed = r));
    void (async () => {
      try {
        for await (const record of readRecordIO(body)) {
          const e = record as Json;
          this.onEvent(e);
          if (e.type === 'SUBSCRIBED') subscribed();
        }
      } catch {
        // The stream ends when the benchmark aborts it.
      }
    })();
    await ready;
  }

  private onEvent(e: Json): void {
    if (e.type === 'SUBSCRIBED') this.id = (e.subscribed as { framework_id: { value: string } }).framework_id.value;
    if (e.type === 'OFFERS') this.offers.push(...(e.offers as { offers: Offer[] }).offers);
    if (e.type === 'UPDATE') {
      const s = (e.update as { status: Status }).status;
      const states = this.seen.get(s.task_id.value) ?? new Map<string, number>();
      if (!states.has(s.state)) states.set(s.state, performance.now());
      this.seen.set(s.task_id.value, states);
      if (s.uuid) void this.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: s.agent_id, task_id: s.task_id, uuid: s.uuid } }).catch(() => undefined);
    }
  }

  call(body: Json): Promise<Response> {
    return fetch(`${this.master}/api/v1/scheduler`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Mesos-Stream-Id': this.stream },
      body: JSON.stringify({ framework_id: { value: this.id }, ...body }),
    });
  }

  async launch(master: Master, agentId: string, taskIds: readonly string[]): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const live: Offer[] = [];
      for (const o of new Map(this.offers.map((x) => [x.id.value, x])).values()) {
        if (o.agent_id.value === agentId && (await master.registry.getOffer(o.id.value)) !== undefined) live.push(o);
      }
      if (live.length > 0) {
        const task_infos = taskIds.map((id) => ({
          name: id,
          task_id: { value: id },
          agent_id: { value: agentId },
          resources: [
            { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
            { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
          ],
          command: { shell: false, value: 'true' },
          container: { type: 'DOCKER', docker: { image: IMAGE, network: 'NONE' } },
        }));
        const res = await this.call({ type: 'ACCEPT', accept: { offer_ids: live.map((o) => o.id), operations: [{ type: 'LAUNCH', launch: { task_infos } }], filters: { refuse_seconds: 0 } } });
        if (res.status !== 202) throw new Error(`ACCEPT failed: ${res.status} ${await res.text()}`);
        return;
      }
      if (Date.now() > deadline) throw new Error('no offer from the agent');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.abort.abort();
  }
}

/** Per task: when its launch arrived in a work answer, when RUNNING was journaled, when the master applied it. */
class Timeline {
  readonly received = new Map<string, number>();
  readonly running = new Map<string, number>();
  readonly applied = new Map<string, number>();
  readonly ended = new Set<string>();

  constructor(agent: AgentDaemon) {
    agent.subscribe((e: AgentEvent) => {
      if (e.type === 'work') for (const l of e.launch) if (!this.received.has(l.task_id)) this.received.set(l.task_id, e.at);
      if (e.type === 'status' && e.update.state === 'TASK_RUNNING' && !this.running.has(e.update.task_id)) this.running.set(e.update.task_id, e.at);
      if (e.type === 'status' && ['TASK_FINISHED', 'TASK_FAILED', 'TASK_ERROR', 'TASK_KILLED'].includes(e.update.state)) this.ended.add(e.update.task_id);
      if (e.type === 'delivered' && e.update.state === 'TASK_RUNNING' && e.result === 'applied') this.applied.set(e.update.task_id, e.at);
    });
  }

  async until(pred: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}


export const agentDaemon: BenchSuite = {
  name: 'agent-daemon',
  description: 'agent daemon launch latency (work answer to RUNNING) through a real master, vs bare docker run; 50 concurrent launches',
  async run(args: readonly string[]): Promise<BenchTable[]> {
    const n = args.includes('--quick') ? 10 : 50;
    const docker = new Docker({ socketPath: SOCKET });
    await docker.ping();
    await docker.getImage(IMAGE).inspect();
    const workDir = mkdtempSync(join(tmpdir(), 'stratus-bench-agent-'));
    const master = new Master({ store: new MemoryItemStore(), log: silentLogger, config: { allocationIntervalMs: 100, pollIntervalMs: 20, heartbeatIntervalSeconds: 5, maxTasksPerAccept: 64 } });
    let server: RunningServer | undefined;
    let agent: AgentDaemon | undefined;
    let fw: Framework | undefined;
    try {
      server = await startLocalServer(master, { port: 0 });
      master.start();
      agent = createAgent({ master: server.url, workDir, zone: 'bench', cpus: 8, mem: 8192, disk: 1024, port: 0, containerizer: 'docker', dockerSocket: SOCKET, log: silentLogger, timing: { longPollSeconds: 10 } });
      const timeline = new Timeline(agent);
      await agent.start();
      const agentId = agent.agentId!;
      fw = new Framework(server.url);
      await fw.subscribe();

      const seq = { run: [] as number[], running: [] as number[], applied: [] as number[], framework: [] as number[] };
      const one = async (id: string, record: boolean): Promise<void> => {
        const sent = performance.now();
        await fw!.launch(master, agentId, [id]);
        await timeline.until(() => timeline.applied.has(id) && timeline.ended.has(id), `task ${id}`);
        await timeline.until(() => fw!.seen.get(id)?.has('TASK_RUNNING') === true, `the framework to see ${id} RUNNING`);
        if (!record) return;
        const got = timeline.received.get(id)!;
        seq.running.push(timeline.running.get(id)! - got);
        seq.applied.push(timeline.applied.get(id)! - got);
        seq.framework.push(fw!.seen.get(id)!.get('TASK_RUNNING')! - sent);
      };
      // Warm-up: the image, the event stream, the page cache.
      for (let i = 0; i < 3; i++) {
        await dockerRun();
        await one(`warm-${i}`, false);
      }
      for (let i = 0; i < n; i++) {
        seq.run.push(await dockerRun());
        await one(`seq-${i}`, true);
      }

      const ids = Array.from({ length: n }, (_, i) => `burst-${i}`);
      await fw.launch(master, agentId, ids);
      await timeline.until(() => ids.every((id) => timeline.running.has(id)), 'all concurrent tasks RUNNING', 120_000);
      const first = Math.min(...ids.map((id) => timeline.received.get(id)!));
      const allRunning = Math.max(...ids.map((id) => timeline.running.get(id)!)) - first;
      const perTask = ids.map((id) => timeline.running.get(id)! - timeline.received.get(id)!);
      await timeline.until(() => ids.every((id) => timeline.ended.has(id)), 'all concurrent tasks to end', 120_000);
      // The engine alone, the same burst: create+start through the API, no agent.
      const removals: Promise<unknown>[] = [];
      const b0 = performance.now();
      await Promise.all(
        ids.map(async () => {
          const c = await docker.createContainer({ Image: IMAGE, Cmd: ['true'], Labels: { [BENCH_LABEL]: '1' }, HostConfig: { NetworkMode: 'none' } });
          await c.start();
          removals.push(c.wait().then(() => c.remove({ force: true })).catch(() => undefined));
        }),
      );
      const bareBurst = performance.now() - b0;
      await Promise.all(removals);

      const base = percentile(seq.run, 50);
      return [
        {
          title: `Agent daemon launch latency, ${n} sequential launches (command \`true\`, ${IMAGE}, network none)`,
          columns: ['measurement', 'n', 'p50 ms', 'p99 ms', 'max ms', 'p50 / docker run'],
          rows: [
            launchRow('bare `docker run --rm --network none` (CLI, to exit)', seq.run, base),
            launchRow('agent: work answer -> RUNNING journaled', seq.running, base),
            launchRow('agent: work answer -> RUNNING applied by the master', seq.applied, base),
            launchRow('framework: ACCEPT -> RUNNING event', seq.framework, base),
          ],
          notes: [
            'goal: agent work answer -> RUNNING p50 <= 1.25x bare docker run',
            'agent tasks carry cpus 0.1 / mem 32 MiB limits, an init process, Stratus labels and a json-file log cap; RUNNING comes once the container started',
          ],
        },
        {
          title: `${n} concurrent launches (one ACCEPT): time from the work answer until all are RUNNING`,
          columns: ['measurement', 'n', 'all RUNNING ms', 'per task p50 ms', 'per task p99 ms'],
          rows: [
            { measurement: 'agent daemon, Docker containerizer', n, 'all RUNNING ms': allRunning, 'per task p50 ms': percentile(perTask, 50), 'per task p99 ms': percentile(perTask, 99) },
            { measurement: 'bare dockerode create+start (same burst, no agent)', n, 'all RUNNING ms': bareBurst, 'per task p50 ms': null, 'per task p99 ms': null },
          ],
        },
      ];
    } finally {
      fw?.close();
      await agent?.stop({ destroyTasks: true });
      await master.stop();
      await server?.close();
      for (const label of [`${BENCH_LABEL}=1`, ...(agent?.agentId ? [`stratus.agent_id=${agent.agentId}`] : [])]) {
        for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
      }
      rmSync(workDir, { recursive: true, force: true });
    }
  },
};
