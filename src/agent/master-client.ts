import { z } from 'zod';
import type { heartbeatRequest, registerRequest, StatusUpdate, workRequest } from '../master-lambda/codec/agent-api.js';

// The agent's side of the agent-facing API (src/master-lambda/codec/agent-api.ts): JSON over
// HTTP, requests typed by the master's own schemas, answers parsed with zod (the master is
// external input too). A 404 (unknown agent) or 409 (session superseded / agent removed)
// means "register again"; anything else that is not a 200 is a failure worth retrying.

const taskRef = { framework_id: z.string().min(1), task_id: z.string().min(1) };

export const registerResponseSchema = z.object({
  agent_id: z.string().min(1),
  session: z.string().min(1),
  heartbeat_interval_seconds: z.number().positive(),
  kill_tasks: z.array(z.object(taskRef)).default([]),
});
export type RegisterAnswer = z.output<typeof registerResponseSchema>;

export const launchWorkSchema = z.object({
  ...taskRef,
  role: z.string().optional(),
  // Checked by the containerizer, which turns anything malformed into a TASK_ERROR update.
  resources: z.unknown(),
  spec: z.unknown(),
  kill_grace_period_ms: z.number().optional(),
});
export type LaunchItem = z.output<typeof launchWorkSchema>;

export const workResponseSchema = z.object({
  /** Sent back as `since_version`, so the next poll waits for new work instead of repeating this. */
  version: z.number().int().min(0).optional(),
  launch: z.array(launchWorkSchema).default([]),
  kill: z.array(z.object({ ...taskRef, grace_period_ms: z.number().min(0).optional() })).default([]),
  acks: z.array(z.object({ ...taskRef, uuid: z.string().min(1) })).default([]),
  messages: z.array(z.object({ framework_id: z.string(), executor_id: z.string(), data: z.string() })).default([]),
});
export type WorkAnswer = z.output<typeof workResponseSchema>;

export const statusResultSchema = z.enum(['applied', 'duplicate', 'acknowledged', 'rejected', 'unknown_task']);
export type StatusResultKind = z.output<typeof statusResultSchema>;

export const statusResponseSchema = z.object({
  results: z.array(z.object({ uuid: z.string(), result: statusResultSchema, message: z.string().optional(), kill: z.boolean().optional() })),
});
export type StatusAnswer = z.output<typeof statusResponseSchema>;

/** The master does not know this agent or this session: register again (same agent id). */
export class ReregisterRequired extends Error {}

/** The master did not answer, or answered with an error that is not about the session. */
export class MasterRequestError extends Error {
  constructor(
    message: string,
    /** HTTP status, when the master answered at all. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface MasterClientOptions {
  /** Extra headers on every request (e.g. Authorization for the agent credential). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Bound on a request other than the work long-poll. Default 10 s. */
  readonly requestTimeoutMs?: number;
}

export class MasterClient {
  readonly base: string;
  private readonly timeoutMs: number;

  constructor(
    master: string,
    private readonly options: MasterClientOptions = {},
  ) {
    this.base = master.replace(/\/+$/, '');
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
  }

  async register(body: z.input<typeof registerRequest>, signal?: AbortSignal): Promise<RegisterAnswer> {
    return this.post('/api/v1/agents/register', body, registerResponseSchema, this.timeoutMs, signal);
  }

  async heartbeat(agentId: string, body: z.input<typeof heartbeatRequest>, signal?: AbortSignal): Promise<void> {
    await this.post(`/api/v1/agents/${encodeURIComponent(agentId)}/heartbeat`, body, z.unknown(), this.timeoutMs, signal);
  }

  /** The long-poll: bounded by its own wait plus the usual request timeout. */
  async work(agentId: string, body: z.input<typeof workRequest>, signal?: AbortSignal): Promise<WorkAnswer> {
    const wait = (body.wait_seconds ?? 20) * 1000;
    return this.post(`/api/v1/agents/${encodeURIComponent(agentId)}/work`, body, workResponseSchema, wait + this.timeoutMs, signal);
  }

  async status(agentId: string, body: { session: string; updates: readonly StatusUpdate[] }, signal?: AbortSignal): Promise<StatusAnswer> {
    return this.post(`/api/v1/agents/${encodeURIComponent(agentId)}/status`, body, statusResponseSchema, this.timeoutMs, signal);
  }

  private async post<S extends z.ZodType>(path: string, body: unknown, schema: S, timeoutMs: number, signal?: AbortSignal): Promise<z.output<S>> {
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...this.options.headers },
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : (cause?.code ?? cause?.message ?? (e as Error).message);
      throw new MasterRequestError(`master ${this.base} unreachable (POST ${path}): ${why}`);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw new MasterRequestError(`master ${this.base}: the answer to POST ${path} was cut: ${(e as Error).message}`, res.status);
    }
    if (res.status === 404 || res.status === 409) throw new ReregisterRequired(`${res.status}: ${errorText(text)}`);
    if (res.status !== 200) throw new MasterRequestError(`master ${this.base} answered ${res.status} to POST ${path}: ${errorText(text)}`, res.status);
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new MasterRequestError(`master ${this.base} answered POST ${path} with malformed JSON`, res.status);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new MasterRequestError(`master ${this.base} answered POST ${path} unexpectedly: ${parsed.error.issues[0]?.message ?? 'invalid'}`, res.status);
    return parsed.data;
  }
}

function errorText(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: unknown };
    if (typeof j.error === 'string') return j.error;
  } catch {
    /* not JSON */
  }
  return body.slice(0, 300);
}
