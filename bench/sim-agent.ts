import { randomBytes } from 'node:crypto';
import { sleep } from '../src/core/sleep.js';
import { DEFAULT_WORK_SAFETY_INTERVAL_MS } from '../src/agent/work-loop.js';

// A simulated agent for the master-throughput benchmark: it speaks the master's agent HTTP API
// as the agent daemon does (register, 20 s work long-polls with since_version and confirmed
// acks, heartbeats at the master's interval, status updates with uuids kept until the framework
// acknowledges them, resent after 10 s as Mesos's status update manager does), but its
// "containerizer" reaches RUNNING at once and ends a task only when told (`finishAll`). It
// timestamps what the master committed, so the benchmark needs no extra reads of the store.
// (The real Agent builds its containerizers itself and runs an HTTP endpoint and work dirs:
// a thousand of them in one process would measure the agent, not the master.)
// Two transports: the agent HTTP API (work long-polled), or the agent socket
// (sim-agent-socket.ts: the calls as frames, work asked for when the master nudges, a ping --
// the heartbeat call -- at the master's heartbeat_interval_seconds, 4 minutes on a socket).

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

export type SimAgentCall = 'register' | 'heartbeat' | 'work' | 'status';

/** How the agent's calls reach the master: each answered with the HTTP status and body it would have over HTTP. */
export interface SimAgentTransport {
  call(action: SimAgentCall, agentId: string | undefined, body: unknown): Promise<{ status: number; json: Record<string, unknown> }>;
  /** A transport that pushes work nudges: the version announced, or undefined after a reconnect. */
  onWork?(listener: (version: number | undefined) => void): void;
  close(): void;
}

/** The agent HTTP API. */
export class HttpAgentTransport implements SimAgentTransport {
  private readonly abort = new AbortController();
  constructor(
    private readonly master: string,
    private readonly token: string | undefined,
  ) {}

  async call(action: SimAgentCall, agentId: string | undefined, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const path = action === 'register' ? '/api/v1/agents/register' : `/api/v1/agents/${agentId}/${action}`;
    const res = await fetch(`${this.master}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}) }, body: JSON.stringify(body), signal: this.abort.signal });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  close(): void {
    this.abort.abort();
  }
}

export interface SimAgentOptions {
  /** The agent token (a deployed region always authenticates). */
  readonly token?: string;
  /** The work long-poll's wait (default 20 s, as the agent daemon). */
  readonly waitSeconds?: number;
  /** Short tasks: each ends TASK_FINISHED as soon as its RUNNING is acknowledged. */
  readonly autoFinish?: boolean;
  /** Another transport than the HTTP API at `master` (the agent socket). */
  readonly transport?: SimAgentTransport;
  /** Heartbeat (socket: ping) period instead of the master's heartbeat_interval_seconds (a bench compresses time). */
  readonly heartbeatIntervalMs?: number;
  /** Over a pushing transport: ask for work after this long without a nudge (the real agent's safety poll). */
  readonly workSafetyIntervalMs?: number;
}

export class SimAgent {
  agentId = '';
  private session = '';
  /** Shown at the first registration; re-registering under the id needs it (as the agent's work dir keeps it). */
  private secret: string | undefined;
  private running = false;
  private readonly transport: SimAgentTransport;
  /** Pushed nudges: the highest version announced, or 'any' after a reconnect. */
  private nudged: number | 'any' | undefined;
  private wake: (() => void) | undefined;
  private readonly stopped = new AbortController();
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
  /** Calls made, by kind (the cost meter scales each kind's units by its real rate). */
  readonly calls: Record<SimAgentCall, number> = { register: 0, heartbeat: 0, work: 0, status: 0 };
  /** The master's heartbeat_interval_seconds, in ms (socket: the ping interval). */
  heartbeatIntervalMs = 0;

  constructor(
    master: string,
    readonly hostname: string,
    readonly zone: string,
    private readonly cpus: number,
    private readonly mem: number,
    private readonly options: SimAgentOptions = {},
  ) {
    this.transport = options.transport ?? new HttpAgentTransport(master, options.token);
    this.transport.onWork?.((version) => {
      if (version === undefined) this.nudged = 'any';
      else if (this.nudged !== 'any') this.nudged = Math.max(this.nudged ?? -1, version);
      this.wake?.();
    });
  }

  private get pushed(): boolean {
    return this.transport.onWork !== undefined;
  }

  private async post(action: SimAgentCall, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    this.requests++;
    this.calls[action]++;
    return this.transport.call(action, action === 'register' ? undefined : this.agentId, body);
  }

  private async register(): Promise<void> {
    const res = await this.post('register', {
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
    this.heartbeatIntervalMs = ((res.json.heartbeat_interval_seconds as number | undefined) ?? 15) * 1000;
    const heartbeat = this.options.heartbeatIntervalMs ?? this.heartbeatIntervalMs;
    if (this.timers.length === 0) {
      this.timers.push(setInterval(() => void this.post('heartbeat', { session: this.session }).catch(() => undefined), heartbeat));
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
    this.stopped.abort();
    this.transport.close();
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
        const res = await this.post('work', {
          session: this.session,
          wait_seconds: this.pushed ? 0 : (this.options.waitSeconds ?? 20),
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
          this.confirmed.push(a);
          ended = this.acknowledged(a.uuid) || ended;
        }
        if (w.launch.length > 0 || w.kill.length > 0 || ended) void this.send(false);
        if (this.pushed) await this.untilNudged();
      } catch {
        if (!this.running) return;
        await sleep(200);
      }
    }
  }

  /** As the real agent's work loop: a nudge beyond the work applied, acks to confirm, the safety interval, or the stop. */
  private async untilNudged(): Promise<void> {
    const due = (): boolean => {
      const n = this.nudged;
      return this.confirmed.length > 0 || n === 'any' || (n !== undefined && (this.workVersion === undefined || n > this.workVersion));
    };
    if (!due()) {
      const woken = new AbortController();
      this.wake = () => due() && woken.abort();
      await sleep(this.options.workSafetyIntervalMs ?? DEFAULT_WORK_SAFETY_INTERVAL_MS, AbortSignal.any([this.stopped.signal, woken.signal]));
      this.wake = undefined;
    }
    this.nudged = undefined;
  }

  /**
   * The framework acknowledged an update: it leaves the journal, and a short task ends once its
   * RUNNING is acknowledged. Reached from the ack in the work and from a resend the master
   * answers `acknowledged` (the resend timer can beat the work that carries the ack). True if
   * a terminal update was queued.
   */
  private acknowledged(uuid: string): boolean {
    const acked = this.journal.get(uuid);
    if (!acked) return false;
    this.journal.delete(uuid);
    const t = this.options.autoFinish && acked.state === 'TASK_RUNNING' ? this.tasks.get(`${acked.framework_id}/${acked.task_id}`) : undefined;
    if (!t || t.endSentAt !== undefined) return false;
    t.endSentAt = performance.now();
    this.update(acked.framework_id, acked.task_id, 'TASK_FINISHED');
    return true;
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
    const res = await this.post('status', { session: this.session, updates: due.map(({ sentAt: _s, ...u }) => u) }).catch(() => undefined);
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
    let ended = false;
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
      if (r.result === 'acknowledged' && this.acknowledged(r.uuid)) ended = true;
      if (r.result === 'rejected' || r.result === 'unknown_task') this.journal.delete(r.uuid);
    }
    if (ended) void this.send(false);
  }
}
