import { ValidationError } from '../core/errors.js';
import { parseJsonBody as body } from '../http/json-body.js';
import type { Router } from '../http/router.js';
import { json, type HttpRequest } from '../http/types.js';
import type { Registry } from '../state/registry.js';
import type { AutoscalerController } from './controller.js';

// The autoscaler's operator routes, mounted on a master's router (operator credential on each):
//   GET /api/v1/autoscaler/rules        the rule set and the groups the provider knows
//   PUT /api/v1/autoscaler/rules        replace the rule set ({"groups": [...]}); 400 names the field
//   GET /api/v1/autoscaler/activity     latest activity, newest first (?limit=1..1000, ?group=)
//   GET /api/v1/autoscaler/status       groups, open operations, latest decisions, counters

function limitOf(req: HttpRequest): number {
  const raw = req.query.get('limit');
  if (raw === null) return 100;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 1000) throw new ValidationError('limit must be a whole number from 1 to 1000', 'limit');
  return n;
}

export function autoscalerRoutes(router: Router, autoscaler: AutoscalerController, registry: Registry): Router {
  const operator = { access: 'operator' } as const;
  router.route('GET', '/api/v1/autoscaler/rules', async () => json(200, await autoscaler.getRules(registry)), operator);
  router.route('PUT', '/api/v1/autoscaler/rules', async (req) => json(200, await autoscaler.setRules(registry, body(req))), operator);
  router.route(
    'GET',
    '/api/v1/autoscaler/activity',
    async (req) => {
      const group = req.query.get('group') ?? undefined;
      return json(200, { activity: await autoscaler.activity(registry, limitOf(req), group), metrics: autoscaler.metrics });
    },
    operator,
  );
  router.route('GET', '/api/v1/autoscaler/status', async () => json(200, await autoscaler.status(registry)), operator);
  return router;
}
