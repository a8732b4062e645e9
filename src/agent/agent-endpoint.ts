import { z } from 'zod';
import { ForbiddenError, NotFoundError, ValidationError } from '../core/errors.js';
import { isValidId, type FrameworkId, type TaskId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { serve, type RunningServer } from '../http/node-server.js';
import { prometheusResponse } from '../http/prometheus.js';
import { Router } from '../http/router.js';
import { json } from '../http/types.js';
import { parse } from '../wire/validate.js';
import type { LogRead, LogStream, TaskRef } from './containerizer/containerizer.js';
import type { ReaderGrant } from './reader-access.js';
import type { AgentMetrics } from './metrics.js';
import { mountAgentOperatorRoutes, type AgentOperatorView } from './operator-endpoint.js';
import type { ExecutorManager } from './executor/executor-manager.js';
import { mountExecutorApi } from './executor/executor-routes.js';

// The agent's own HTTP API (Mesos agents serve theirs on port 5051), on the shared router:
//   GET /health                                     200 when healthy, 503 when not (JSON either way)
//   GET /api/v1/state                               the agent and the tasks the caller may see
//   GET /api/v1/tasks/{framework}/{task}/logs?stream=stdout|stderr&tail_bytes=N
//                                                   the task's log, raw bytes (kept per task, capped)
//   POST /api/v1/executor                           Mesos's executor API (executor/executor-routes.ts)
// Logs and tasks are readable only by an operator or the task's framework principal: the master
// judges the caller's credential (ReaderAccess). /health tells nothing about tasks and is open.

export interface AgentEndpointSource {
  health(): { readonly healthy: boolean };
  state(): Record<string, unknown> & { readonly tasks: readonly { readonly framework_id: string }[] };
  /** Rejects with NotFoundError for a task this agent does not have. */
  logs(ref: TaskRef, stream: LogStream, tailBytes: number | undefined): Promise<LogRead>;
  /** What the caller with this Authorization header may read of these frameworks' tasks. */
  authorize(authorization: string | undefined, frameworkIds: readonly string[]): Promise<ReaderGrant>;
  /** GET /metrics and /metrics/snapshot, for an operator (as the master's). */
  readonly metrics?: AgentMetrics;
  /** The Mesos-shaped operator endpoints (operator-endpoint.ts) are served when given. */
  operatorView?(): AgentOperatorView;
  /** The custom executors (POST /api/v1/executor), once the agent has an id. */
  executors?(): ExecutorManager | undefined;
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
  router.route('GET', '/api/v1/state', async (req) => {
    const state = source.state();
    const grant = await source.authorize(req.headers.authorization, state.tasks.map((t) => t.framework_id));
    return json(200, grant.operator ? state : { ...state, tasks: state.tasks.filter((t) => grant.frameworks.has(t.framework_id)) });
  });
  router.route('GET', '/api/v1/tasks/:framework/:task/logs', async (req, p) => {
    const frameworkId = p.framework!;
    const taskId = p.task!;
    if (!isValidId(frameworkId)) throw new ValidationError('framework id is malformed', 'framework_id');
    if (!isValidId(taskId)) throw new ValidationError('task id is malformed', 'task_id');
    const q = parse(logQuery, Object.fromEntries(req.query));
    const grant = await source.authorize(req.headers.authorization, [frameworkId]);
    if (!grant.operator && !grant.frameworks.has(frameworkId)) throw new ForbiddenError(`not allowed to read the tasks of framework ${frameworkId}`, 'framework_id');
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
  const metrics = source.metrics;
  if (metrics) {
    const operatorOnly = async (authorization: string | undefined): Promise<void> => {
      if (!(await source.authorize(authorization, [])).operator) throw new ForbiddenError("an agent's metrics are for operators", 'authorization');
    };
    router.route('GET', '/metrics', async (req) => {
      await operatorOnly(req.headers.authorization);
      metrics.refresh();
      return prometheusResponse(metrics.registry);
    });
    router.route('GET', '/metrics/snapshot', async (req) => {
      await operatorOnly(req.headers.authorization);
      return json(200, metrics.snapshot());
    });
  }
  if (source.operatorView) {
    mountAgentOperatorRoutes(router, {
      operatorView: () => source.operatorView!(),
      authorize: (a, f) => source.authorize(a, f),
      ...(metrics ? { metricsSnapshot: () => metrics.snapshot() } : {}),
    });
  }
  if (source.executors) mountExecutorApi(router, () => source.executors?.());
  return router;
}

export function startAgentEndpoint(source: AgentEndpointSource, options: { host: string; port: number; log: Logger }): Promise<RunningEndpoint> {
  return serve(agentRoutes(source, options.log), { host: options.host, port: options.port });
}
