import type { Router } from '../../http/router.js';
import type { MasterContext } from '../master-context.js';
import { readTaskLog } from '../use-cases/task-log-read.js';

// GET /api/v1/tasks/{framework}/{task}/logs?stream=stdout|stderr&tail_bytes=N on the master:
// the agent's log endpoint of the same shape, read through the master (the dashboard's path).
// The handler checks the caller itself (operator, or the task's framework principal).

export function mountTaskLogRoutes(router: Router, ctx: MasterContext): Router {
  router.route('GET', '/api/v1/tasks/:framework/:task/logs', (req, p) => readTaskLog(ctx, router.auth, req, p.framework!, p.task!));
  return router;
}
