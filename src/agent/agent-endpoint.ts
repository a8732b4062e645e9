import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { NotFoundError } from '../core/errors.js';
import { isValidId, type FrameworkId, type TaskId } from '../core/ids.js';
import type { LogRead, LogStream, TaskRef } from './containerizer/containerizer.js';

// The agent's own HTTP API (Mesos agents serve theirs on port 5051):
//   GET /health                                     200 when healthy, 503 when not (JSON either way)
//   GET /api/v1/state                               the agent and the tasks it runs
//   GET /api/v1/tasks/{framework}/{task}/logs?stream=stdout|stderr&tail_bytes=N
//                                                   the task's log, raw bytes (kept per task, capped)

export interface AgentEndpointSource {
  health(): { readonly healthy: boolean };
  state(): Record<string, unknown>;
  /** Rejects with NotFoundError for a task this agent does not have. */
  logs(ref: TaskRef, stream: LogStream, tailBytes: number | undefined): Promise<LogRead>;
}

export interface RunningEndpoint {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

const logQuery = z.object({
  stream: z.enum(['stdout', 'stderr']).default('stdout'),
  tail_bytes: z
    .string()
    .regex(/^\d{1,12}$/, 'must be a non-negative integer')
    .transform(Number)
    .optional(),
});

const LOGS_PATH = /^\/api\/v1\/tasks\/([^/]+)\/([^/]+)\/logs\/?$/;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(source: AgentEndpointSource, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://agent');
  const path = url.pathname;
  const known = path === '/health' || path === '/api/v1/state' || LOGS_PATH.test(path);
  if (!known) return json(res, 404, { error: `no such endpoint: ${req.method ?? ''} ${path}` });
  if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: `method ${req.method ?? ''} is not allowed on ${path}` });
  if (path === '/health') {
    const h = source.health();
    return json(res, h.healthy ? 200 : 503, h);
  }
  if (path === '/api/v1/state') return json(res, 200, source.state());
  const m = LOGS_PATH.exec(path)!;
  let frameworkId: string;
  let taskId: string;
  try {
    frameworkId = decodeURIComponent(m[1]!);
    taskId = decodeURIComponent(m[2]!);
  } catch {
    return json(res, 400, { error: 'the task path is not valid percent-encoding', field: 'path' });
  }
  if (!isValidId(frameworkId)) return json(res, 400, { error: 'framework id is malformed', field: 'framework_id' });
  if (!isValidId(taskId)) return json(res, 400, { error: 'task id is malformed', field: 'task_id' });
  const q = logQuery.safeParse(Object.fromEntries(url.searchParams));
  if (!q.success) {
    const issue = q.error.issues[0];
    const field = String(issue?.path[0] ?? 'query');
    return json(res, 400, { error: `${field}: ${issue?.message ?? 'invalid'}`, field });
  }
  let log: LogRead;
  try {
    log = await source.logs({ frameworkId: frameworkId as FrameworkId, taskId: taskId as TaskId }, q.data.stream, q.data.tail_bytes);
  } catch (e) {
    if (e instanceof NotFoundError) return json(res, 404, { error: e.message, field: 'task_id' });
    throw e;
  }
  res.writeHead(200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': log.data.length,
    'X-Stratus-Log-Total-Bytes': String(log.totalBytes),
    'X-Stratus-Log-Dropped-Bytes': String(log.droppedBytes),
  });
  res.end(req.method === 'HEAD' ? undefined : log.data);
}

export function startAgentEndpoint(source: AgentEndpointSource, options: { host: string; port: number; onError?: (e: unknown) => void }): Promise<RunningEndpoint> {
  const server = createServer((req, res) => {
    handle(source, req, res).catch((e: unknown) => {
      options.onError?.(e);
      if (!res.headersSent) json(res, 500, { error: 'internal error; see the agent log' });
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        port,
        host: options.host,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
