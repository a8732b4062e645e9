import WebSocket from 'ws';
import { masterFrame, ReplyAssembler, type MasterFrame, type ReplyFrame } from '../../src/wire/agent-socket.js';

// A raw agent-socket client for protocol tests: it sends frames as given (also malformed ones)
// and keeps every frame the master sends, joining reply parts.

export type Opened = { readonly ok: true; readonly client: RawAgentSocket } | { readonly ok: false; readonly status: number; readonly body: string };

export class RawAgentSocket {
  /** Every frame received, reply parts joined into their reply. */
  readonly frames: MasterFrame[] = [];
  /** Reply parts as they arrived (to see that a reply was split). */
  readonly parts: number[] = [];
  closed = false;
  private seq = 0;
  private readonly waiters = new Set<() => void>();
  private readonly assembler = new ReplyAssembler();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const f = masterFrame.parse(JSON.parse(data.toString('utf8')));
      if (f.type === 'reply-part') {
        this.parts.push(f.seq);
        const whole = this.assembler.add(f);
        if (whole) this.frames.push(whole);
      } else this.frames.push(f);
      this.wake();
    });
    ws.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<Opened> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      ws.once('open', () => resolve({ ok: true, client: new RawAgentSocket(ws) }));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ ok: false, status: res.statusCode ?? 0, body }));
      });
      ws.once('error', (e) => reject(e));
    });
  }

  static async connect(url: string, headers: Record<string, string> = {}): Promise<RawAgentSocket> {
    const r = await RawAgentSocket.open(url, headers);
    if (!r.ok) throw new Error(`the agent socket refused the connection: ${r.status} ${r.body}`);
    return r.client;
  }

  sendText(text: string): void {
    this.ws.send(text);
  }

  /** Sends a call frame and waits for its reply. */
  async call(action: string, body: unknown, agentId?: string, timeoutMs = 30_000): Promise<ReplyFrame> {
    const id = `c${++this.seq}`;
    this.sendText(JSON.stringify({ id, action, ...(agentId !== undefined && { agent_id: agentId }), body }));
    const f = await this.waitFor((x) => x.type === 'reply' && x.id === id, timeoutMs, `the reply to ${action}`);
    return f as ReplyFrame;
  }

  /** The first frame after index `from` that matches. */
  async waitFor(pred: (f: MasterFrame) => boolean, timeoutMs = 30_000, what = 'a frame', from = 0): Promise<MasterFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.frames.slice(from).find(pred);
      if (hit) return hit;
      if (this.closed) throw new Error(`the connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames).slice(0, 500)}`);
      await new Promise<void>((r) => {
        const done = (): void => {
          clearTimeout(t);
          this.waiters.delete(done);
          r();
        };
        const t = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((r) => {
      this.ws.once('close', () => r());
      this.ws.close();
    });
  }
}
