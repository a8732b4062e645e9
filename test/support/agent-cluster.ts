import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import type { PortRange } from '../../src/core/resources.js';
import { createLogger, silentLogger, type Logger } from '../../src/core/logger.js';
import { Master } from '../../src/master-lambda/master.js';
import { startLocalServer, type RunningServer } from '../../src/master-lambda/local-server.js';
import { MemoryItemStore } from '../../src/state/memory-item-store.js';
import { frameworkInfo, StreamingFramework, type Json, type OfferJson, type StatusJson } from './scheduler-client.js';
import { waitUntil } from './wait.js';

// A real master in-process, a raw-HTTP Mesos framework and helpers for agent daemon tests:
// a proxy between agent and master (cut the link, record heartbeats, tamper with work), the
// agent as a child process (for SIGKILL), and Docker cleanup.

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI_MAIN = join(ROOT, 'dist/src/cli/main.js');

export const testLogger = (name: string): Logger => (process.env.STRATUS_TEST_LOG ? createLogger(name, 'debug') : silentLogger);


export interface TestMaster {
  readonly master: Master;
  readonly server: RunningServer;
  readonly url: string;
  close(): Promise<void>;
}

export async function startTestMaster(): Promise<TestMaster> {
  const master = new Master({
    store: new MemoryItemStore(),
    log: testLogger('test-master'),
    config: { allocationIntervalMs: 100, pollIntervalMs: 50, leaseDurationMs: 3_000, heartbeatIntervalSeconds: 1, longPollMaxWaitMs: 5_000, maxTasksPerAccept: 64 },
  });
  const server = await startLocalServer(master, { port: 0 });
  master.start();
  return {
    master,
    server,
    url: server.url,
    close: async () => {
      await master.stop();
      await server.close();
    },
  };
}

export interface TaskDef {
  readonly id: string;
  /** A shell command; omit for an image's default command. */
  readonly command?: string;
  readonly cpus?: number;
  readonly mem?: number;
  readonly image?: string;
  readonly network?: 'HOST' | 'NONE';
  readonly graceMs?: number;
  readonly ports?: readonly PortRange[];
}

/** A Mesos TaskInfo (JSON) for the agent of the offer. */
export function taskInfo(agentId: string, t: TaskDef): Json {
  return {
    name: t.id,
    task_id: { value: t.id },
    agent_id: { value: agentId },
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: t.cpus ?? 0.1 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: t.mem ?? 32 } },
      ...(t.ports?.length ? [{ name: 'ports', type: 'RANGES', ranges: { range: t.ports } }] : []),
    ],
    ...(t.command !== undefined && { command: { shell: true, value: t.command } }),
    ...(t.image !== undefined && { container: { type: 'DOCKER', docker: { image: t.image, network: t.network ?? 'HOST' } } }),
    ...(t.graceMs !== undefined && { kill_policy: { grace_period: { nanoseconds: t.graceMs * 1e6 } } }),
  };
}

/** A framework over the RecordIO stream that launches on a given agent and acknowledges as told. */
export class TestFramework {
  private constructor(
    readonly f: StreamingFramework,
    private readonly tm: TestMaster,
  ) {}

  static async subscribe(tm: TestMaster, name: string): Promise<TestFramework> {
    const f = await new StreamingFramework(tm.url).subscribe(frameworkInfo(name));
    return new TestFramework(f, tm);
  }

  get id(): string {
    return this.f.frameworkId;
  }

  /** The agent's live offers: those OFFERS events brought that the master still holds. */
  /**
   * The agent's live offers, once together they hold `need` (cpus, MiB): resources a task
   * before released may still be on their way back (a container that just ended).
   */
  async offers(agentId: string, need: { cpus: number; mem: number } = { cpus: 0, mem: 0 }, timeoutMs = 30_000): Promise<OfferJson[]> {
    const scalar = (o: OfferJson, name: string): number => o.resources.filter((r) => r.name === name).reduce((n, r) => n + (r.scalar?.value ?? 0), 0);
    return waitUntil(
      async () => {
        const seen = new Map<string, OfferJson>();
        for (const e of this.f.events) for (const o of e.offers?.offers ?? []) if (o.agent_id.value === agentId) seen.set(o.id.value, o);
        const live: OfferJson[] = [];
        for (const o of seen.values()) if ((await this.tm.master.registry.getOffer(o.id.value)) !== undefined) live.push(o);
        const fits = live.length > 0 && live.reduce((n, o) => n + scalar(o, 'cpus'), 0) >= need.cpus - 1e-9 && live.reduce((n, o) => n + scalar(o, 'mem'), 0) >= need.mem;
        return fits && live;
      },
      timeoutMs,
      `live offers from agent ${agentId} holding ${need.cpus} cpus and ${need.mem} MiB`,
      50,
    );
  }

  /** Launches on the agent with all its live offers (Mesos lets one ACCEPT take several), once they fit the tasks. */
  async launch(agentId: string, tasks: readonly TaskDef[]): Promise<void> {
    const need = tasks.reduce((n, t) => ({ cpus: n.cpus + (t.cpus ?? 0.1), mem: n.mem + (t.mem ?? 32) }), { cpus: 0, mem: 0 });
    const offers = await this.offers(agentId, need);
    const r = await this.f.call({
      type: 'ACCEPT',
      accept: { offer_ids: offers.map((o) => o.id), operations: [{ type: 'LAUNCH', launch: { task_infos: tasks.map((t) => taskInfo(agentId, t)) } }], filters: { refuse_seconds: 0 } },
    });
    if (r.status !== 202) throw new Error(`ACCEPT failed: ${r.status} ${JSON.stringify(r.json)}`);
  }

  async kill(agentId: string, taskId: string, graceMs?: number): Promise<void> {
    const r = await this.f.call({
      type: 'KILL',
      kill: { task_id: { value: taskId }, agent_id: { value: agentId }, ...(graceMs !== undefined && { kill_policy: { grace_period: { nanoseconds: graceMs * 1e6 } } }) },
    });
    if (r.status !== 202) throw new Error(`KILL failed: ${r.status} ${JSON.stringify(r.json)}`);
  }

  /** Every UPDATE of the task, in arrival order. */
  updates(taskId: string): StatusJson[] {
    return this.f.events.flatMap((e) => (e.type === 'UPDATE' && e.update!.status.task_id.value === taskId ? [e.update!.status] : []));
  }

  states(taskId: string): string[] {
    return this.updates(taskId).map((s) => s.state);
  }

  /** Waits for the task's update in `state`, acknowledging it. */
  async waitState(taskId: string, state: string, timeoutMs = 20_000): Promise<StatusJson> {
    return this.f.waitForState(taskId, state, timeoutMs);
  }

  /** Waits for any terminal update of the task, acknowledging it. */
  async waitTerminal(taskId: string, timeoutMs = 20_000): Promise<StatusJson> {
    const terminal = ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED'];
    const { event } = await this.f.waitFor((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === taskId && terminal.includes(e.update!.status.state), timeoutMs);
    const s = event.update!.status;
    if (s.uuid) await this.f.acknowledge(s);
    return s;
  }

  private acking: NodeJS.Timeout | undefined;
  private acked = new Set<string>();

  /** Acknowledges every update with a uuid as it arrives (like a Mesos scheduler driver). */
  autoAcknowledge(): void {
    this.acking = setInterval(() => {
      for (const e of this.f.events) {
        const s = e.update?.status;
        if (!s?.uuid || this.acked.has(s.uuid)) continue;
        this.acked.add(s.uuid);
        void this.f.acknowledge(s).catch(() => this.acked.delete(s.uuid!));
      }
    }, 50);
  }

  close(): void {
    if (this.acking) clearInterval(this.acking);
    this.f.close();
  }
}

/**
 * An HTTP proxy between an agent and the master: it can cut the link (requests fail as if the
 * master were unreachable), records what the agent sends, and can rewrite work answers.
 */
export class MasterProxy {
  private server: Server | undefined;
  private down = false;
  private readonly inflight = new Set<AbortController>();
  readonly requests: { path: string; body: Json }[] = [];
  /** Rewrites the JSON of work answers (to hand the agent input the master would refuse). */
  rewriteWork: ((work: Json) => Json) | undefined;
  url = '';

  /** Where requests go; a test may point it at a restarted master. */
  constructor(public target: string) {}

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  heartbeats(): Json[] {
    return this.requests.filter((r) => r.path.endsWith('/heartbeat')).map((r) => r.body);
  }

  /** The master becomes unreachable for the agent: requests in flight and new ones fail. */
  cut(): void {
    this.down = true;
    for (const a of this.inflight) a.abort();
  }

  restore(): void {
    this.down = false;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const text = Buffer.concat(chunks).toString('utf8');
    if (this.down) {
      req.socket.destroy();
      return;
    }
    const path = req.url ?? '/';
    try {
      this.requests.push({ path, body: text ? (JSON.parse(text) as Json) : {} });
    } catch {
      this.requests.push({ path, body: {} });
    }
    const abort = new AbortController();
    this.inflight.add(abort);
    try {
      const upstream = await fetch(`${this.target}${path}`, {
        method: req.method ?? 'GET',
        headers: { 'Content-Type': 'application/json' },
        ...(req.method !== 'GET' && req.method !== 'HEAD' && { body: text }),
        signal: abort.signal,
      });
      let body = await upstream.text();
      if (this.down) {
        req.socket.destroy();
        return;
      }
      if (upstream.status === 200 && path.endsWith('/work') && this.rewriteWork) body = JSON.stringify(this.rewriteWork(JSON.parse(body) as Json));
      res.writeHead(upstream.status, { 'Content-Type': 'application/json' });
      res.end(body);
    } catch {
      req.socket.destroy();
    } finally {
      this.inflight.delete(abort);
    }
  }

  async close(): Promise<void> {
    this.cut();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

/** `stratus agent` as a child process (node dist/src/cli/main.js), so that it can be SIGKILLed. */
export class AgentProcess {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: build first (npm test runs \`npm run build\`; or npx tsc -p tsconfig.build.json)`);
    this.child = spawn(process.execPath, [CLI_MAIN, 'agent', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [this.child.stdout!, this.child.stderr!]) s.on('data', (c: Buffer) => this.output.push(c.toString()));
    this.exited = new Promise((r) => this.child.once('exit', (code) => r(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Waits for the line `stratus agent` prints once registered. */
  async registered(timeoutMs = 20_000): Promise<void> {
    await waitUntil(() => this.output.join('').includes(' registered with '), timeoutMs, `the agent process to register; output:\n${this.output.join('').slice(-3000)}`);
  }

  sigkill(): Promise<number | null> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(t);
  }
}

export async function containersOfAgent(docker: Docker, agentId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`stratus.agent_id=${agentId}`] } });
}

export async function removeContainersOfAgent(docker: Docker, agentId: string | undefined): Promise<void> {
  if (agentId === undefined) return;
  for (const c of await containersOfAgent(docker, agentId)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
}
