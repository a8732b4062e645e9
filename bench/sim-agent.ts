import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sleep } from '../src/core/sleep.js';

// A simulated agent for the master-throughput benchmark: it speaks the master's agent HTTP API
// as the agent daemon does (register, 20 s work long-polls with since_version and confirmed
// acks, heartbeats at the master's interval, status updates with uuids kept until the framework
// acknowledges them, resent after 10 s as Mesos's status update manager does), but its
// "containerizer" reaches RUNNING at once and ends a task only when told (`finishAll`). It
// timestamps what the master committed, so the benchmark needs no extra reads of the store.
// (The real Agent builds its containerizers itself and runs an HTTP endpoint and work dirs:
// a thousand of them in one process would measure the agent, not the master.)

export interface SimTask {
  readonly key: string; // framework/task
  readonly cpus: number;
  /** When the work with the launch arrived. */
  launchedAt: number;
  /** When the master answered `applied` to the RUNNING update. */
  runningAt?: number;
  /** When `finishAll` sent the terminal update. */
  endSentAt?: number;
  /** When the master answered `applied` to the terminal update. */
  endAt?: number;
}

interface Pending {
  framework_id: string;
  task_id: string;
  state: string;
  uuid: string;
  timestamp: number;
  source: 'SOURCE_EXECUTOR';
  sentAt: number;
}

const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED']);
const RESEND_MS = 10_000;

export interface SimAgentOptions {
  /** The agent token (a deployed region always authenticates). */
  readonly token?: string;
  /** The work long-poll's wait (default 20 s, as the agent daemon). */
  readonly waitSeconds?: number;
  /** Short tasks: each ends TASK_FINISHED as soon as its RUNNING is acknowledged. */
  readonly autoFinish?: boolean;
}

export class SimAgent {
  agentId = '';
  private session = '';
  /** Shown at the first registration; re-registering under the id needs it (as the agent's work dir keeps it). */
  private secret: string | undefined;
  private running = false;
  private readonly abort = new AbortController();
  private workVersion: number | undefined;
  private confirmed: { framework_id: string; task_id: string; uuid: string }[] = [];
  private readonly journal = new Map<string, Pending>(); // uuid -> update not yet acknowledged
  private readonly timers: NodeJS.Timeout[] = [];
  private sending: Promise<void> | undefined;
  private sendAgain = false;
  readonly tasks = new Map<string, SimTask>();
  /** Launches of a task already known here (a task launched twice). */
  duplicateLaunches = 0;
  /** RUNNING updates the master applied (one per task if nothing went twice). */
  runningApplied = 0;
  requests = 0;

  constructor(
    private readonly master: string,
    readonly hostname: string,
    readonly zone: string,
    private readonly cpus: number,
    private readonly mem: number,
    private readonly options: SimAgentOptions = {},
  ) {}

  private async post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    this.requests++;
    const res = await fetch(`${this.master}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...(this.options.token ? { Authorization: `Bearer ${this.options.token}` } : {}) }, body: JSON.stringify(body), signal: this.abort.signal });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  private async register(): Promise<void> {
    const res = await this.post('/api/v1/agents/register', {
      ...(this.agentId ? { agent_id: this.agentId } : {}),
      ...(this.secret ? { agent_secret: this.secret } : {}),
      hostname: this.hostname,
      resources: [
        { name: 'cpus', type: 'SCALAR', scalar: { value: this.cpus } },
        { name: 'mem', type: 'SCALAR', scalar: { value: this.mem } },
        { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31099 }] } },
      ],
      attributes: { zone: this.zone },
      tasks: [...this.tasks.values()].map((t) => {
        const [framework_id, task_id] = t.key.split('/');
        return { framework_id, task_id, state: t.endSentAt ? 'TASK_FINISHED' : 'TASK_RUNNING' };
      }),
    });
    if (res.status !== 200) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.json)}`);
    this.agentId = res.json.agent_id as string;
    this.session = res.json.session as string;
    if (typeof res.json.agent_secret === 'string') this.secret = res.json.agent_secret;
    this.workVersion = undefined;
    const heartbeat = ((res.json.heartbeat_interval_seconds as number | undefined) ?? 15) * 1000;
    if (this.timers.length === 0) {
      this.timers.push(setInterval(() => void this.post(`/api/v1/agents/${this.agentId}/heartbeat`, { session: this.session }).catch(() => undefined), heartbeat));
      this.timers.push(setInterval(() => void this.send(true), RESEND_MS));
    }
  }

  private registering: Promise<void> | undefined;

  /** A new session (the master asked for it: a new leader, or a superseded session); pending updates go again at once. */
  private reregister(): Promise<void> {
    this.registering ??= this.register()
      .then(() => {
        for (const p of this.journal.values()) p.sentAt = 0;
        this.sendAgain = true;
        if (!this.sending) void this.send(false);
      })
      .finally(() => (this.registering = undefined));
    return this.registering;
  }

  async start(): Promise<this> {
    await this.register();
    this.running = true;
    void this.workLoop();
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    this.abort.abort();
    await this.sending?.catch(() => undefined);
  }

  /** Ends every running task here as TASK_FINISHED (the containers exit). */
  finishAll(): number {
    let n = 0;
    for (const t of this.tasks.values()) {
      if (t.endSentAt !== undefined) continue;
      t.endSentAt = performance.now();
      const [fid, tid] = t.key.split('/');
      this.update(fid!, tid!, 'TASK_FINISHED');
      n++;
    }
    void this.send(false);
    return n;
  }

  private async workLoop(): Promise<void> {
    while (this.running) {
      try {
        const confirmed = this.confirmed;
        this.confirmed = [];
        const res = await this.post(`/api/v1/agents/${this.agentId}/work`, {
          session: this.session,
          wait_seconds: this.options.waitSeconds ?? 20,
          ...(confirmed.length > 0 && { confirmed_acks: confirmed }),
          ...(this.workVersion !== undefined && { since_version: this.workVersion }),
        });
        if (res.status === 409 || res.status === 404) {
          await this.reregister();
          continue;
        }
        if (res.status !== 200) throw new Error(`work: ${res.status}`);
        this.workVersion = res.json.version as number;
        const w = res.json as {
          launch: { framework_id: string; task_id: string; resources?: { cpus?: number } }[];
          kill: { framework_id: string; task_id: string }[];
          acks: { framework_id: string; task_id: string; uuid: string }[];
        };
        for (const l of w.launch) this.launch(l.framework_id, l.task_id, (l.resources?.cpus ?? 0) / 1000); // fixed-point millicpus
        for (const k of w.kill) this.update(k.framework_id, k.task_id, 'TASK_KILLED');
        let ended = false;
        for (const a of w.acks) {
          const acked = this.journal.get(a.uuid);
          this.journal.delete(a.uuid);
          this.confirmed.push(a);
          // A short task ends once the framework has its RUNNING.
          const t = acked && this.options.autoFinish && acked.state === 'TASK_RUNNING' ? this.tasks.get(`${acked.framework_id}/${acked.task_id}`) : undefined;
          if (t && t.endSentAt === undefined) {
            t.endSentAt = performance.now();
            this.update(acked!.framework_id, acked!.task_id, 'TASK_FINISHED');
            ended = true;
          }
        }
        if (w.launch.length > 0 || w.kill.length > 0 || ended) void this.send(false);
      } catch {
        if (!this.running) return;
        await sleep(200);
      }
    }
  }

  private launch(fid: string, tid: string, cpus: number): void {
    const key = `${fid}/${tid}`;
    if (this.tasks.has(key)) {
      this.duplicateLaunches++;
      return;
    }
    this.tasks.set(key, { key, cpus, launchedAt: performance.now() });
    this.update(fid, tid, 'TASK_STARTING');
    this.update(fid, tid, 'TASK_RUNNING');
  }

  private update(fid: string, tid: string, state: string): void {
    const uuid = randomBytes(16).toString('base64');
    this.journal.set(uuid, { framework_id: fid, task_id: tid, state, uuid, timestamp: Date.now() / 1000, source: 'SOURCE_EXECUTOR', sentAt: 0 });
  }

  /** One status request at a time, in journal order (each task's updates arrive in order). */
  private send(resend: boolean): Promise<void> {
    if (this.sending) {
      this.sendAgain = true;
      return this.sending;
    }
    this.sending = this.sendOnce(resend).finally(() => {
      this.sending = undefined;
      if (this.sendAgain) {
        this.sendAgain = false;
        void this.send(false);
      }
    });
    return this.sending;
  }

  private async sendOnce(resend: boolean): Promise<void> {
    if (!this.running) return;
    const now = performance.now();
    const due = [...this.journal.values()].filter((p) => p.sentAt === 0 || (resend && now - p.sentAt >= RESEND_MS));
    if (due.length === 0) return;
    for (const p of due) p.sentAt = now;
    const res = await this.post(`/api/v1/agents/${this.agentId}/status`, { session: this.session, updates: due.map(({ sentAt: _s, ...u }) => u) }).catch(() => undefined);
    if (res && (res.status === 409 || res.status === 404)) {
      for (const p of due) p.sentAt = 1;
      void this.reregister().catch(() => undefined); // resent under the new session
      return;
    }
    if (!res || res.status !== 200) {
      for (const p of due) p.sentAt = 1; // resent by the timer
      return;
    }
    const at = performance.now();
    for (const r of res.json.results as { uuid: string; result: string }[]) {
      const p = this.journal.get(r.uuid);
      if (!p) continue;
      const t = this.tasks.get(`${p.framework_id}/${p.task_id}`);
      if (r.result === 'applied' && t) {
        if (p.state === 'TASK_RUNNING') {
          t.runningAt = at;
          this.runningApplied++;
        } else if (TERMINAL.has(p.state)) t.endAt = at;
      }
      if (r.result === 'acknowledged' || r.result === 'rejected' || r.result === 'unknown_task') this.journal.delete(r.uuid);
    }
  }
}
