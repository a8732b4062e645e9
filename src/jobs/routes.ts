import { parseJsonBody as body } from '../http/json-body.js';
import type { Router } from '../http/router.js';
import { json } from '../http/types.js';
import type { JobsApi } from './api.js';

// The jobs HTTP API, mounted on the master's router:
//   POST   /api/v1/jobs                  submit            201 {job}
//   GET    /api/v1/jobs                  list              200 {jobs}
//   GET    /api/v1/jobs/{name}           job + instances   200 {job}
//   PUT    /api/v1/jobs/{name}           scale / update    200 {job, rolling}
//   POST   /api/v1/jobs/{name}/rebalance even out zones   202 {job, request, plan}
//   DELETE /api/v1/jobs/{name}           kill all          202 {job}
// Errors are thrown as ValidationError / NotFoundError / ConflictError: the router answers
// 4xx {error, field}. The operator credential guards every route (open on `stratus dev`).

export function jobsRoutes(router: Router, jobs: JobsApi): Router {
  const operator = { access: 'operator' } as const;
  const name = (p: Record<string, string>): string => p.name ?? '';
  router.route('POST', '/api/v1/jobs', async (req) => json(201, { job: await jobs.submit(body(req)) }), operator);
  router.route('GET', '/api/v1/jobs', async () => json(200, { jobs: await jobs.list() }), operator);
  router.route('GET', '/api/v1/jobs/:name', async (_req, p) => json(200, { job: await jobs.get(name(p)) }), operator);
  router.route('PUT', '/api/v1/jobs/:name', async (req, p) => json(200, await jobs.update(name(p), body(req))), operator);
  router.route('DELETE', '/api/v1/jobs/:name', async (_req, p) => json(202, { job: await jobs.remove(name(p)) }), operator);
  router.route('POST', '/api/v1/jobs/:name/rebalance', async (_req, p) => json(202, await jobs.rebalance(name(p))), operator);
  return router;
}
