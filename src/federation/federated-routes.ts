import { ValidationError } from '../core/errors.js';
import type { JobsRouteHandler, JobsRouter } from '../jobs/routes.js';
import type { HttpRequest, HttpResponse } from '../master-lambda/http/types.js';
import type { JsonValue } from '../state/item-store.js';
import type { FederatedJobsController } from './federated-controller.js';

// Federated jobs over HTTP, mounted on a master's API (any router of the same shape):
//   POST   /api/v1/federation/jobs        submit to this region (its home)   201 {job}
//   GET    /api/v1/federation/jobs        jobs this region owns or replicates 200 {region, jobs}
//   GET    /api/v1/federation/jobs/{id}   one, with every region's share      200 {job}
//   PUT    /api/v1/federation/jobs/{id}   scale (policy) / update (job)      200 {job}
//   DELETE /api/v1/federation/jobs/{id}   remove from every region           202 {job}
// Changes go to the job's owner: elsewhere the answer is 409 naming the owner. Invalid input
// is a 400 naming the field (`policy.counts.mars-1`, `job.cpus`). Operator credential required.

function body(req: HttpRequest): unknown {
  const type = req.headers['content-type'];
  if (type !== undefined && !/application\/json/i.test(type)) throw new ValidationError(`Content-Type ${type} is not supported: send application/json`, 'Content-Type');
  if (req.body.trim() === '') throw new ValidationError('the request body is empty', 'body');
  try {
    return JSON.parse(req.body) as unknown;
  } catch (e) {
    throw new ValidationError(`malformed JSON: ${(e as Error).message}`, 'body');
  }
}

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
