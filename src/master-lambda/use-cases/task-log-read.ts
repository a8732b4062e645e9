import { z } from 'zod';
import { ForbiddenError, NotFoundError, ValidationError } from '../../core/errors.js';
import { isValidId } from '../../core/ids.js';
import type { Authenticator } from '../../http/auth.js';
import type { HttpRequest, HttpResponse } from '../../http/types.js';
import { ApiError } from '../../wire/api-error.js';
import { parse } from '../../wire/validate.js';
import type { MasterContext } from '../master-context.js';
import { authorizeReader } from './reader-access.js';

// A task's log read through the master, for callers that cannot reach the agent (a browser on
// the master's origin: the agent's endpoint is another origin, often another network). The
// master judges the caller first, exactly as the agent would (operator, or the task's own
// framework principal), then forwards the caller's own credential to the agent, which checks
// it again: the master never lends its authority to a read.

const logQuery = z.object({
  stream: z.enum(['stdout', 'stderr']).default('stdout'),
  tail_bytes: z.string().regex(/^\d{1,12}$/, 'must be a non-negative integer').optional(),
});

const PASSED_HEADERS = ['content-type', 'x-stratus-log-total-bytes', 'x-stratus-log-dropped-bytes'];
const AGENT_TIMEOUT_MS = 10_000;

export async function readTaskLog(ctx: MasterContext, auth: Authenticator, req: HttpRequest, frameworkId: string, taskId: string): Promise<HttpResponse> {
  if (!isValidId(frameworkId)) throw new ValidationError('framework id is malformed', 'framework_id');
  if (!isValidId(taskId)) throw new ValidationError('task id is malformed', 'task_id');
  const q = parse(logQuery, Object.fromEntries(req.query));
  // Before any lookup: a caller who may not read learns nothing, not even whether the task exists.
  const grant = await authorizeReader(ctx, auth, req.headers.authorization, [frameworkId]);
  if (!grant.operator && !grant.frameworks.includes(frameworkId)) throw new ForbiddenError(`not allowed to read the tasks of framework ${frameworkId}`, 'framework_id');
  const task = await ctx.registry.getTask(frameworkId, taskId);
  if (!task) throw new NotFoundError(`no task ${taskId} of framework ${frameworkId}`, 'task_id');
  const agent = await ctx.registry.getAgent(task.agentId);
  if (!agent?.endpoint) throw new ApiError(503, `agent ${task.agentId} serves no log endpoint`, 'agent_id');
  const url = new URL(`/api/v1/tasks/${encodeURIComponent(frameworkId)}/${encodeURIComponent(taskId)}/logs`, agent.endpoint);
  url.searchParams.set('stream', q.stream);
  if (q.tail_bytes !== undefined) url.searchParams.set('tail_bytes', q.tail_bytes);
  let res: Response;
  try {
    res = await fetch(url, {
      headers: req.headers.authorization !== undefined ? { authorization: req.headers.authorization } : {},
      signal: AbortSignal.timeout(AGENT_TIMEOUT_MS),
    });
  } catch (e) {
    throw new ApiError(502, `agent ${task.agentId} did not answer at ${agent.endpoint}: ${(e as Error).message}`, 'agent_id');
  }
  const raw = Buffer.from(await res.arrayBuffer());
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  for (const h of PASSED_HEADERS) {
    const v = res.headers.get(h);
    if (v !== null) headers[h.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase())] = v;
  }
  // The agent's refusals (404 for a task it no longer has, 401/403) pass through as they are.
  return { status: res.status, headers, raw };
}
