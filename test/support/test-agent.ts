import { randomBytes } from 'node:crypto';
import { sleep } from '../../src/core/sleep.js';

// A minimal agent for master tests: it speaks the agent-facing HTTP API for real (register,
// heartbeat, long-poll work, status updates with uuids, a resend journal, acknowledgements)
// but simulates tasks instead of running them:
//   "sleep N"  runs N seconds, then FINISHED     "exit K"  FAILED (FINISHED when K = 0)
//   "echo ..." FINISHED at once                   anything else runs until killed

export interface TestAgentOptions {
  readonly master: string;
  readonly hostname: string;
  readonly cpus?: number;
  readonly mem?: number;
  readonly ports?: { begin: number; end: number };
  readonly attributes?: Record<string, string>;
  /** Resend unacknowledged updates this often. */
  readonly resendMs?: number;
  readonly heartbeatMs?: number;
  readonly headers?: Record<string, string>;
}

interface Pending {
  framework_id: string;
  task_id: string;
  state: string;
  uuid: string;
  reason?: string;
  message?: string;
  timestamp: number;
  sentAt: number;
  /** Resends back off: the wait doubles each time, as an agent's status update manager does. */
  backoffMs: number;
}

export class TestAgent {
  agentId: string | undefined;
  /** The secret the master gave the agent id: sent back when registering again, as agents do. */
  agentSecret: string | undefined;
  session = '';
  readonly states = new Map<string, string>(); // framework/task -> state
  readonly journal: Pending[] = [];
  readonly launched: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private running = false;
  private abort = new AbortController();
  private confirmed: { framework_id: string; task_id: string; uuid: string }[] = [];
  private workVersion: number | undefined;
  private workSession = '';

  /** What it registers with: the options' size, until `resize` (an agent restarted with other flags). */
  private size: { cpus: number; mem: number };

  constructor(readonly options: TestAgentOptions) {
    this.size = { cpus: options.cpus ?? 4, mem: options.mem ?? 4096 };
  }

  /** Registers from now on with these resources. */
  resize(size: { cpus: number; mem: number }): this {
    this.size = size;
    return this;
  }

  private async post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${this.options.master}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...this.options.headers },
      body: JSON.stringify(body),
      signal: this.abort.signal,
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async register(): Promise<void> {
    const o = this.options;
    const res = await this.post('/api/v1/agents/register', {
      ...(this.agentId ? { agent_id: this.agentId, ...(this.agentSecret ? { agent_secret: this.agentSecret } : {}) } : {}),
      hostname: o.hostname,
      resources: [
        { name: 'cpus', type: 'SCALAR', scalar: { value: this.size.cpus } },
        { name: 'mem', type: 'SCALAR', scalar: { value: this.size.mem } },
        { name: 'ports', type: 'RANGES', ranges: { range: [o.ports ?? { begin: 31000, end: 31099 }] } },
      ],
      attributes: o.attributes ?? {},
      tasks: [...this.states].map(([k, state]) => {
        const [framework_id, task_id] = k.split('/');
        return { framework_id, task_id, state };
      }),
    });
    if (res.status !== 200) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.json)}`);
    this.agentId = res.json.agent_id as string;
    this.agentSecret = (res.json.agent_secret as string | undefined) ?? this.agentSecret;
    this.session = res.json.session as string;
    for (const k of res.json.kill_tasks as { framework_id: string; task_id: string }[]) this.finish(k.framework_id, k.task_id, 'TASK_KILLED');
  }

  async start(): Promise<this> {
    await this.register();
    this.running = true;
    void this.workLoop();
    this.every(this.options.heartbeatMs ?? 1000, () => this.post(`/api/v1/agents/${this.agentId}/heartbeat`, { session: this.session }).then(() => undefined));
    this.every(Math.min(this.options.resendMs ?? 1000, 500), () => this.flush(true));
    return this;
  }

  /** Stops talking to the master (as if the agent died); its tasks' states stay in memory. */
  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    this.abort = new AbortController();
  }

  private every(ms: number, fn: () => Promise<void>): void {
    this.timers.add(setInterval(() => void fn().catch(() => undefined), ms));
  }

  private async workLoop(): Promise<void> {
    while (this.running) {
      try {
        const confirmed = this.confirmed;
        this.confirmed = [];
        const since = this.workSession === this.session ? this.workVersion : undefined;
        const res = await this.post(`/api/v1/agents/${this.agentId}/work`, { session: this.session, confirmed_acks: confirmed, wait_seconds: 2, ...(since !== undefined ? { since_version: since } : {}) });
        if (res.status === 409 || res.status === 404) {
          await this.register();
          continue;
        }
        if (res.status !== 200) throw new Error(`work: ${res.status}`);
        this.workSession = this.session;
        this.workVersion = res.json.version as number;
        const w = res.json as {
          launch: { framework_id: string; task_id: string; spec: { command?: { value?: string } } }[];
          kill: { framework_id: string; task_id: string }[];
          acks: { framework_id: string; task_id: string; uuid: string }[];
        };
        for (const l of w.launch) this.launch(l.framework_id, l.task_id, l.spec.command?.value ?? '');
        for (const k of w.kill) this.finish(k.framework_id, k.task_id, 'TASK_KILLED');
        for (const a of w.acks) {
          const i = this.journal.findIndex((p) => p.uuid === a.uuid);
          if (i >= 0) this.journal.splice(i, 1);
          this.confirmed.push(a);
        }
      } catch {
        if (!this.running) return;
        await sleep(200); // the master is away: try again shortly
      }
    }
  }

  private launch(fid: string, tid: string, command: string): void {
    const key = `${fid}/${tid}`;
    if (this.states.has(key)) return; // already launched (a repeated work item)
    this.launched.push(key);
    this.update(fid, tid, 'TASK_STARTING');
    this.update(fid, tid, 'TASK_RUNNING');
    const sleep = /^sleep ([\d.]+)/.exec(command);
    const exit = /^exit (\d+)/.exec(command);
    if (sleep) setTimeout(() => this.finish(fid, tid, 'TASK_FINISHED'), Number(sleep[1]) * 1000);
    else if (exit) this.finish(fid, tid, exit[1] === '0' ? 'TASK_FINISHED' : 'TASK_FAILED', `exited with code ${exit[1]}`);
    else if (command.startsWith('echo')) this.finish(fid, tid, 'TASK_FINISHED');
  }

  /** Ends a running task now, as its process exiting would (the test decides when). */
  completeTask(frameworkId: string, taskId: string, state: 'TASK_FINISHED' | 'TASK_FAILED' = 'TASK_FINISHED'): void {
    this.finish(frameworkId, taskId, state);
  }

  private finish(fid: string, tid: string, state: string, message?: string): void {
    const cur = this.states.get(`${fid}/${tid}`);
    if (cur && ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED'].includes(cur)) return;
    this.update(fid, tid, state, message);
  }

  private update(fid: string, tid: string, state: string, message?: string): void {
    this.states.set(`${fid}/${tid}`, state);
    this.journal.push({ framework_id: fid, task_id: tid, state, uuid: randomBytes(16).toString('base64'), ...(message ? { message } : {}), timestamp: Date.now() / 1000, sentAt: 0, backoffMs: this.options.resendMs ?? 1000 });
    void this.flush(false);
  }

  private flushing: Promise<void> | undefined;
  private flushAgain = false;

  /**
   * Sends journal entries never sent (or, with `resend`, those sent a while ago and not
   * acknowledged), one request at a time and in journal order, so the master sees each
   * task's updates in the order they happened (as Mesos's status update manager does).
   */
  private flush(resend: boolean): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return this.flushing;
    }
    this.flushing = this.flushOnce(resend).finally(() => {
      this.flushing = undefined;
      if (this.flushAgain) {
        this.flushAgain = false;
        void this.flush(false);
      }
    });
    return this.flushing;
  }

  private async flushOnce(resend: boolean): Promise<void> {
    if (!this.running || !this.agentId) return;
    const now = Date.now();
    const due = this.journal.filter((p) => p.sentAt === 0 || (resend && now - p.sentAt >= p.backoffMs));
    if (due.length === 0) return;
    for (const p of due) {
      if (p.sentAt !== 0) p.backoffMs = Math.min(p.backoffMs * 2, 10_000);
      p.sentAt = now;
    }
    const res = await this.post(`/api/v1/agents/${this.agentId}/status`, {
      session: this.session,
      updates: due.map(({ sentAt: _s, backoffMs: _b, ...u }) => ({ ...u, source: 'SOURCE_EXECUTOR' })),
    }).catch(() => undefined);
    if (!res || res.status !== 200) {
      for (const p of due) p.sentAt = 1; // resend later
      return;
    }
    for (const r of res.json.results as { uuid: string; result: string; kill?: boolean }[]) {
      if (r.result === 'acknowledged' || r.result === 'rejected' || r.result === 'unknown_task') {
        const i = this.journal.findIndex((p) => p.uuid === r.uuid);
        if (i >= 0) this.journal.splice(i, 1);
      }
    }
  }
}
