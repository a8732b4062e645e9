import { z } from 'zod';
import { JsonApiClient } from '../http/json-client.js';
import { ApiError } from '../wire/api-error.js';
import {
  authorizeResponse,
  executorMessagesResponse,
  type ExecutorMessagesRequest,
  type ExecutorMessagesResponse,
  registerResponse,
  statusResponse,
  workResponse,
  type AuthorizeRequest,
  type AuthorizeResponse,
  type HeartbeatRequest,
  type RegisterRequest,
  type RegisterResponse,
  type StatusResponse,
  type StatusUpdate,
  type WorkRequest,
  type WorkResponse,
} from '../wire/agent-api.js';

// The agent's side of the agent-facing API (src/wire/agent-api.ts): JSON over HTTP, requests
// and answers checked by the same schemas the master uses. A 404 (unknown agent) or 409
// (session superseded / agent removed) means "register again"; anything else that is not a 200
// is an ApiError worth retrying.

/** The master does not know this agent or this session: register again (same agent id). */
export class ReregisterRequired extends Error {}

export interface MasterClientOptions {
  /** Extra headers on every request (e.g. Authorization for the agent credential). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Bound on a request other than the work long-poll. Default 10 s. */
  readonly requestTimeoutMs?: number;
}

/**
 * The agent's calls to the master, whichever transport carries them: HTTP (MasterClient) or
 * the agent socket (SocketMasterClient in master-socket.ts), which also pushes work nudges.
 */
export interface MasterChannel {
  readonly base: string;
  register(body: RegisterRequest, signal?: AbortSignal): Promise<RegisterResponse>;
  authorize(agentId: string, body: AuthorizeRequest, signal?: AbortSignal): Promise<AuthorizeResponse>;
  heartbeat(agentId: string, body: HeartbeatRequest, signal?: AbortSignal): Promise<void>;
  work(agentId: string, body: WorkRequest, signal?: AbortSignal): Promise<WorkResponse>;
  status(agentId: string, body: { session: string; updates: readonly StatusUpdate[] }, signal?: AbortSignal): Promise<StatusResponse>;
  executorMessages(agentId: string, body: ExecutorMessagesRequest, signal?: AbortSignal): Promise<ExecutorMessagesResponse>;
  /**
   * Pushed work nudges (a channel that has them): the listener gets the work version the
   * master announced, or undefined after a reconnect (anything may have changed). Work is
   * then asked for at once instead of long-polled. Returns the unsubscribe.
   */
  onWork?(listener: (version: number | undefined) => void): () => void;
  /** Ends the channel (the agent stops). */
  close?(): void;
}

export class MasterClient implements MasterChannel {
  private readonly http: JsonApiClient;
  private readonly timeoutMs: number;

  constructor(master: string, options: MasterClientOptions = {}) {
    this.http = new JsonApiClient(master, options.headers ? { headers: options.headers } : {});
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
  }

  get base(): string {
    return this.http.base;
  }

  async register(body: RegisterRequest, signal?: AbortSignal): Promise<RegisterResponse> {
    return this.post('/api/v1/agents/register', body, registerResponse, this.timeoutMs, signal);
  }

  /** Who may read this agent's endpoint: the master checks a caller's credential. */
  async authorize(agentId: string, body: AuthorizeRequest, signal?: AbortSignal): Promise<AuthorizeResponse> {
    return this.post(`/api/v1/agents/${encodeURIComponent(agentId)}/authorize`, body, authorizeResponse, this.timeoutMs, signal);
  }

  async heartbeat(agentId: string, body: HeartbeatRequest, signal?: AbortSignal): Promise<void> {
    await this.post(`/api/v1/agents/${encodeURIComponent(agentId)}/heartbeat`, body, z.unknown(), this.timeoutMs, signal);
  }

  /** The long-poll: bounded by its own wait plus the usual request timeout. */
  async work(agentId: string, body: WorkRequest, signal?: AbortSignal): Promise<WorkResponse> {
    const wait = (body.wait_seconds ?? 20) * 1000;
    return this.post(`/api/v1/agents/${encodeURIComponent(agentId)}/work`, body, workResponse, wait + this.timeoutMs, signal);
  }

  async status(agentId: string, body: { session: string; updates: readonly StatusUpdate[] }, signal?: AbortSignal): Promise<StatusResponse> {
    return this.post(`/api/v1/agents/${encodeURIComponent(agentId)}/status`, body, statusResponse, this.timeoutMs, signal);
  }

  /** Executor -> framework messages for the master to relay. */
  async executorMessages(agentId: string, body: ExecutorMessagesRequest, signal?: AbortSignal): Promise<ExecutorMessagesResponse> {
    return this.post(`/api/v1/agents/${encodeURIComponent(agentId)}/messages`, body, executorMessagesResponse, this.timeoutMs, signal);
  }

  /** 404 and 409 are ReregisterRequired; any other failure an ApiError (status 0: no answer). */
  private async post<S extends z.ZodType>(path: string, body: unknown, schema: S, timeoutMs: number, signal?: AbortSignal): Promise<z.output<S>> {
    try {
      return await this.http.request('POST', path, schema, body, { timeoutMs, ...(signal ? { signal } : {}) });
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 409)) throw new ReregisterRequired(`${e.status}: ${e.message}`);
      throw e;
    }
  }
}
