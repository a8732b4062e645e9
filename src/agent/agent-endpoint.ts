import { z } from 'zod';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { isValidId, type FrameworkId, type TaskId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { serve, type RunningServer } from '../http/node-server.js';
import { Router } from '../http/router.js';
import { json } from '../http/types.js';
import { parse } from '../wire/validate.js';
import type { LogRead, LogStream, TaskRef } from './containerizer/containerizer.js';

// The agent's own HTTP API (Mesos agents serve theirs on port 5051), on the shared router:
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

export type RunningEndpoint = RunningServer;

const logQuery = z.object({
  stream: z.enum(['stdout', 'stderr']).default('stdout'),
  tail_bytes: z
    .string()
    .regex(/^\d{1,12}$/, 'must be a non-negative integer')
    .transform(Number)
    .optional(),
});

export function agentRoutes(source: AgentEndpointSource, log: Logger): Router {
  const router = new Router({ log });
  router.route('GET', '/health', async () => {
    const h = source.health();
    return json(h.healthy ? 200 : 503, h);
  });
  router.route('GET', '/api/v1/state', async () => json(200, source.state()));
  router.route('GET', '/api/v1/tasks/:framework/:task/logs', async (req, p) => {
    const frameworkId = p.framework!;
    const taskId = p.task!;
    if (!isValidId(frameworkId)) throw new ValidationError('framework id is malformed', 'framework_id');
    if (!isValidId(taskId)) throw new ValidationError('task id is malformed', 'task_id');
    const q = parse(logQuery, Object.fromEntries(req.query));
    let read: LogRead;
    try {
      read = await source.logs({ frameworkId: frameworkId as FrameworkId, taskId: taskId as TaskId }, q.stream, q.tail_bytes);
    } catch (e) {
      if (e instanceof NotFoundError) throw new NotFoundError(e.message, 'task_id');
      throw e;
    }
    return {
      status: 200,
      headers: {
        'Content-Type': 'text/plain; charset=utf-8',
        'X-Stratus-Log-Total-Bytes': String(read.totalBytes),
        'X-Stratus-Log-Dropped-Bytes': String(read.droppedBytes),
      },
      raw: read.data,
    };
  });
  return router;
}

export function startAgentEndpoint(source: AgentEndpointSource, options: { host: string; port: number; log: Logger }): Promise<RunningEndpoint> {
  return serve(agentRoutes(source, options.log), { host: options.host, port: options.port });
}
