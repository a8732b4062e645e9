import { parseJsonBody as body } from '../../http/json-body.js';
import type { Router } from '../../http/router.js';
import { json } from '../../http/types.js';
import type { FederatedJobsController } from './controller.js';

// Federated jobs over HTTP, mounted on a master's router (operator credential on each):
//   POST   /api/v1/federation/jobs        submit to this region (its home)   201 {job}
//   GET    /api/v1/federation/jobs        jobs this region owns or replicates 200 {region, jobs}
//   GET    /api/v1/federation/jobs/{id}   one, with every region's share      200 {job}
//   PUT    /api/v1/federation/jobs/{id}   scale (policy) / update (job)      200 {job}
//   DELETE /api/v1/federation/jobs/{id}   remove from every region           202 {job}
// Changes go to the job's owner: elsewhere the answer is 409 naming the owner. Invalid input
// is a 400 naming the field (`policy.counts.mars-1`, `job.cpus`).

export function federatedJobsRoutes(router: Router, controller: FederatedJobsController): Router {
  const operator = { access: 'operator' } as const;
  const id = (p: Record<string, string>): string => p.id ?? '';
  router.route('POST', '/api/v1/federation/jobs', async (req) => json(201, { job: await controller.submit(body(req)) }), operator);
  router.route('GET', '/api/v1/federation/jobs', async () => json(200, { region: controller.region, jobs: await controller.list() }), operator);
  router.route('GET', '/api/v1/federation/jobs/:id', async (_req, p) => json(200, { job: await controller.get(id(p)) }), operator);
  router.route('PUT', '/api/v1/federation/jobs/:id', async (req, p) => json(200, { job: await controller.update(id(p), body(req)) }), operator);
  router.route('DELETE', '/api/v1/federation/jobs/:id', async (_req, p) => json(202, { job: await controller.remove(id(p)) }), operator);
  return router;
}
