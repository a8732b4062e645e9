import WebSocket from 'ws';
import { z } from 'zod';
import { Backoff } from '../core/backoff.js';
import type { Logger } from '../core/logger.js';
import { sleep } from '../core/sleep.js';
import {
  authorizeResponse,
  executorMessagesResponse,
  registerResponse,
  statusResponse,
  workResponse,
  type AuthorizeRequest,
  type AuthorizeResponse,
  type ExecutorMessagesRequest,
  type ExecutorMessagesResponse,
  type HeartbeatRequest,
  type RegisterRequest,
  type RegisterResponse,
  type StatusResponse,
  type StatusUpdate,
  type WorkRequest,
  type WorkResponse,
} from '../wire/agent-api.js';
import { masterFrame, MAX_AGENT_FRAME_BYTES, ReplyAssembler, replyErrorBody, type AgentSocketAction, type ReplyFrame } from '../wire/agent-socket.js';
import { ApiError } from '../wire/api-error.js';
import { ReregisterRequired, type MasterChannel } from './master-client.js';

// The agent's calls over its WebSocket to the master (src/wire/agent-socket.ts): the HTTP
// API's calls as frames, answered by reply frames, plus the master's work nudges. One
// connection, opened on first use and reopened with backoff whenever it drops (API Gateway
// closes every connection after 2 hours); the credential goes with each upgrade. A new
// connection has not registered: its first call gets 409 and the agent's session registers
// again on it, and a nudge without a version tells the work loop to resynchronise.

export interface SocketMasterClientOptions {
  /** Headers of the upgrade request (Authorization: the agent credential). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Bound on a call, waiting for the connection included. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** Cap of the backoff between connection attempts. Default 5 s. */
  readonly reconnectMaxMs?: number;
  readonly log?: Logger;
}

interface Pending {
  readonly resolve: (reply: ReplyFrame) => void;
  readonly reject: (e: Error) => void;
}

export class SocketMasterClient implements MasterChannel {
  private ws: WebSocket | undefined;
  private opening: Promise<WebSocket> | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<(version: number | undefined) => void>();
  private readonly assembler = new ReplyAssembler();
  private readonly stop = new AbortController();
  private readonly backoff: Backoff;
  private readonly timeoutMs: number;
  private seq = 0;
  /** Connections opened so far (a reconnect is any after the first). */
  connections = 0;

  constructor(
    readonly base: string,
    private readonly o: SocketMasterClientOptions = {},
  ) {
    this.timeoutMs = o.requestTimeoutMs ?? 10_000;
    this.backoff = new Backoff({ initialMs: 200, maxMs: o.reconnectMaxMs ?? 5_000, jitter: 0.2 });
  }

  onWork(listener: (version: number | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.stop.abort();
    this.ws?.close(1000, 'agent stopping');
    this.failPending(new ApiError(0, 'the agent socket was closed'));
  }

  register(body: RegisterRequest, signal?: AbortSignal): Promise<RegisterResponse> {
    return this.call('register', undefined, body, registerResponse, signal);
  }

  authorize(agentId: string, body: AuthorizeRequest, signal?: AbortSignal): Promise<AuthorizeResponse> {
    return this.call('authorize', agentId, body, authorizeResponse, signal);
  }

  async heartbeat(agentId: string, body: HeartbeatRequest, signal?: AbortSignal): Promise<void> {
    await this.call('heartbeat', agentId, body, z.unknown(), signal);
  }

  /** Answered at once: the master pushes a nudge when there is more. */
  work(agentId: string, body: WorkRequest, signal?: AbortSignal): Promise<WorkResponse> {
    return this.call('work', agentId, { ...body, wait_seconds: 0 }, workResponse, signal);
  }

  /** A batch too large for one frame goes as several calls; the results keep the updates' order. */
  async status(agentId: string, body: { session: string; updates: readonly StatusUpdate[] }, signal?: AbortSignal): Promise<StatusResponse> {
    if (body.updates.length > 1 && Buffer.byteLength(JSON.stringify({ id: 'x'.repeat(64), action: 'status', agent_id: agentId, body })) > MAX_AGENT_FRAME_BYTES) {
      const half = Math.ceil(body.updates.length / 2);
      const a = await this.status(agentId, { session: body.session, updates: body.updates.slice(0, half) }, signal);
      const b = await this.status(agentId, { session: body.session, updates: body.updates.slice(half) }, signal);
      return { results: [...a.results, ...b.results] };
    }
    return this.call('status', agentId, body, statusResponse, signal);
  }

  executorMessages(agentId: string, body: ExecutorMessagesRequest, signal?: AbortSignal): Promise<ExecutorMessagesResponse> {
    return this.call('messages', agentId, body, executorMessagesResponse, signal);
  }

  // ---- calls ----

  private async call<S extends z.ZodType>(action: AgentSocketAction, agentId: string | undefined, body: unknown, schema: S, signal?: AbortSignal): Promise<z.output<S>> {
    const id = `${action}-${++this.seq}`;
    const text = JSON.stringify({ id, action, ...(agentId !== undefined && { agent_id: agentId }), body });
    if (Buffer.byteLength(text) > MAX_AGENT_FRAME_BYTES) {
      throw new ApiError(413, `the ${action} call is ${Buffer.byteLength(text)} bytes: over the agent socket's ${MAX_AGENT_FRAME_BYTES}-byte frame limit`, 'frame');
    }
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const abort = AbortSignal.any([deadline, this.stop.signal, ...(signal ? [signal] : [])]);
    const reply = await new Promise<ReplyFrame>((resolve, reject) => {
      const done = (): void => {
        this.pending.delete(id);
        abort.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        done();
        reject(new ApiError(0, deadline.aborted ? `no answer to ${action} from ${this.base} within ${this.timeoutMs} ms` : `${action} aborted`));
      };
      if (abort.aborted) return onAbort();
      abort.addEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      this.open(abort)
        .then((ws) => ws.send(text, (err) => err && this.pending.get(id)?.reject(new ApiError(0, `could not send ${action}: ${err.message}`))))
        .catch((e: unknown) => this.pending.get(id)?.reject(e instanceof Error ? e : new ApiError(0, String(e))));
    });
    if (reply.status === 200) {
      const parsed = schema.safeParse(reply.body);
      if (!parsed.success) throw new ApiError(200, `${action}: unexpected answer: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      return parsed.data;
    }
    const err = replyErrorBody.safeParse(reply.body);
    const message = err.success ? err.data.error : `HTTP ${reply.status}`;
    if (reply.status === 404 || reply.status === 409) throw new ReregisterRequired(`${reply.status}: ${message}`);
    // The master no longer knows this connection: a new one authenticates again.
    if (reply.status === 401) this.ws?.close(4001, 'connection not authenticated');
    throw new ApiError(reply.status, message, err.success ? err.data.field : undefined, err.success ? err.data.code : undefined);
  }

  // ---- the connection ----

  /** The open connection, opening one (with backoff between attempts) if there is none. */
  private open(signal: AbortSignal): Promise<WebSocket> {
    if (this.ws?.readyState === WebSocket.OPEN) return Promise.resolve(this.ws);
    this.opening ??= this.dial().finally(() => (this.opening = undefined));
    // A call gives up at its own deadline; the dialling goes on for the next one.
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(new ApiError(0, `cannot reach the master socket ${this.base}`));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.opening!.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private async dial(): Promise<WebSocket> {
    for (;;) {
      if (this.stop.signal.aborted) throw new ApiError(0, 'the agent socket was closed');
      try {
        const ws = await this.connectOnce();
        this.backoff.reset();
        return ws;
      } catch (e) {
        const level = this.backoff.attempts >= 3 ? 'warn' : 'info';
        this.o.log?.[level]('cannot connect to the master socket; retrying', { master: this.base, error: (e as Error).message });
        await sleep(this.backoff.next(), this.stop.signal);
      }
    }
  }

  private connectOnce(): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.base, { headers: { ...this.o.headers }, handshakeTimeout: this.timeoutMs });
      ws.once('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => reject(ApiError.fromAnswer(res.statusCode ?? 0, text, 'the agent socket upgrade')));
        ws.terminate();
      });
      ws.once('error', (e) => reject(new ApiError(0, `cannot reach ${this.base}: ${e.message}`)));
      ws.once('open', () => {
        this.ws = ws;
        const reconnect = this.connections++ > 0;
        ws.on('message', (data: Buffer) => this.received(data.toString('utf8')));
        ws.on('close', () => this.closed(ws));
        ws.on('error', (e) => this.o.log?.debug('master socket error', { error: e.message }));
        resolve(ws);
        // Whatever was pushed while there was no connection is lost: the work loop asks again.
        if (reconnect) this.nudge(undefined);
      });
    });
  }

  private closed(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    this.assembler.clear();
    this.failPending(new ApiError(0, 'the agent socket closed before the answer'));
    if (this.stop.signal.aborted) return;
    this.o.log?.info('the master socket closed; reconnecting', { master: this.base });
    // Reconnect now, not at the next call: nudges must reach an idle agent.
    this.opening ??= this.dial().finally(() => (this.opening = undefined));
    this.opening.catch(() => undefined);
  }

  private failPending(e: Error): void {
    for (const p of [...this.pending.values()]) p.reject(e);
  }

  private received(text: string): void {
    let frame;
    try {
      frame = masterFrame.parse(JSON.parse(text));
    } catch (e) {
      this.o.log?.warn('unreadable frame from the master socket', { error: (e as Error).message, preview: text.slice(0, 200) });
      return;
    }
    if (frame.type === 'work') return this.nudge(frame.version);
    if (frame.type === 'error') {
      if (frame.id !== undefined) this.pending.get(frame.id)?.reject(new ApiError(400, frame.message, frame.field));
      else this.o.log?.warn('the master socket refused a frame', { field: frame.field, message: frame.message });
      return;
    }
    let reply: ReplyFrame | undefined;
    try {
      reply = frame.type === 'reply' ? frame : this.assembler.add(frame);
    } catch (e) {
      this.o.log?.warn('a reply arrived in broken parts', { error: (e as Error).message });
      if (frame.type === 'reply-part') this.pending.get(frame.id)?.reject(new ApiError(0, (e as Error).message));
      return;
    }
    if (reply !== undefined) this.pending.get(reply.id)?.resolve(reply);
  }

  private nudge(version: number | undefined): void {
    for (const l of [...this.listeners]) {
      try {
        l(version);
      } catch (e) {
        this.o.log?.warn('work nudge listener threw', { error: e });
      }
    }
  }
}
