import type { Authenticator } from '../master-lambda/http/auth.js';
import type { HttpRequest, HttpResponse } from '../master-lambda/http/types.js';
import type { JsonValue } from '../state/item-store.js';
import type { JobsApi } from './api.js';

import { parseJsonBody } from '../master-lambda/http/json-body.js';
// The jobs HTTP API, mounted on the master's router (any router with the same `route` shape):
//   POST   /api/v1/jobs                  submit            201 {job}
//   GET    /api/v1/jobs                  list              200 {jobs}
//   GET    /api/v1/jobs/{name}           job + instances   200 {job}
//   PUT    /api/v1/jobs/{name}           scale / update    200 {job, rolling}
//   POST   /api/v1/jobs/{name}/rebalance even out zones   202 {job, request, plan}
//   DELETE /api/v1/jobs/{name}           kill all          202 {job}
// Errors are thrown as ValidationError / NotFoundError / ConflictError: the router answers
// 4xx {error, field}. The operator credential guards every route (open on `stratus dev`).

export type JobsRouteHandler = (req: HttpRequest, params: Record<string, string>) => Promise<HttpResponse>;

export interface JobsRouter {
  route(method: string, path: string, handler: JobsRouteHandler): unknown;
  readonly auth?: Authenticator;
}

/** The request's JSON body (415 unless JSON, 400 when empty or malformed), as every route reads it. */
const body = parseJsonBody;

function json(status: number, value: object): HttpResponse {
  return { status, body: value as unknown as JsonValue };
}

export function jobsRoutes(router: JobsRouter, jobs: JobsApi): void {
  const guard =
    (handler: JobsRouteHandler): JobsRouteHandler =>
    async (req, params) => {
      await router.auth?.operator(req);
      return handler(req, params);
    };
  const name = (p: Record<string, string>): string => p.name ?? '';
  router.route('POST', '/api/v1/jobs', guard(async (req) => json(201, { job: await jobs.submit(body(req)) })));
  router.route('GET', '/api/v1/jobs', guard(async () => json(200, { jobs: await jobs.list() })));
  router.route('GET', '/api/v1/jobs/:name', guard(async (_req, p) => json(200, { job: await jobs.get(name(p)) })));
  router.route('PUT', '/api/v1/jobs/:name', guard(async (req, p) => json(200, await jobs.update(name(p), body(req)))));
  router.route('DELETE', '/api/v1/jobs/:name', guard(async (_req, p) => json(202, { job: await jobs.remove(name(p)) })));
  router.route('POST', '/api/v1/jobs/:name/rebalance', guard(async (_req, p) => json(202, await jobs.rebalance(name(p)))));
}
