import type { JobsRouteHandler, JobsRouter } from '../jobs/routes.js';
import type { HttpResponse } from '../master-lambda/http/types.js';
import type { JsonValue } from '../state/item-store.js';
import type { FederatedJobsController } from './federated-controller.js';

import { parseJsonBody } from '../master-lambda/http/json-body.js';
// Federated jobs over HTTP, mounted on a master's API (any router of the same shape):
//   POST   /api/v1/federation/jobs        submit to this region (its home)   201 {job}
//   GET    /api/v1/federation/jobs        jobs this region owns or replicates 200 {region, jobs}
//   GET    /api/v1/federation/jobs/{id}   one, with every region's share      200 {job}
//   PUT    /api/v1/federation/jobs/{id}   scale (policy) / update (job)      200 {job}
//   DELETE /api/v1/federation/jobs/{id}   remove from every region           202 {job}
// Changes go to the job's owner: elsewhere the answer is 409 naming the owner. Invalid input
// is a 400 naming the field (`policy.counts.mars-1`, `job.cpus`). Operator credential required.

/** The request's JSON body (415 unless JSON, 400 when empty or malformed), as every route reads it. */
const body = parseJsonBody;

/** Plain data to JSON (drops undefined fields). */
const json = (status: number, v: unknown): HttpResponse => ({ status, body: JSON.parse(JSON.stringify(v)) as JsonValue });

export function federatedJobsRoutes<R extends JobsRouter>(router: R, controller: FederatedJobsController): R {
  const guard =
    (handler: JobsRouteHandler): JobsRouteHandler =>
    async (req, params) => {
      await router.auth?.operator(req);
      return handler(req, params);
    };
  const id = (p: Record<string, string>): string => p.id ?? '';
  router.route('POST', '/api/v1/federation/jobs', guard(async (req) => json(201, { job: await controller.submit(body(req)) })));
  router.route('GET', '/api/v1/federation/jobs', guard(async () => json(200, { region: controller.region, jobs: await controller.list() })));
  router.route('GET', '/api/v1/federation/jobs/:id', guard(async (_req, p) => json(200, { job: await controller.get(id(p)) })));
  router.route('PUT', '/api/v1/federation/jobs/:id', guard(async (req, p) => json(200, { job: await controller.update(id(p), body(req)) })));
  router.route('DELETE', '/api/v1/federation/jobs/:id', guard(async (_req, p) => json(202, { job: await controller.remove(id(p)) })));
  return router;
}
