import { ValidationError } from '../core/errors.js';
import type { MasterApi } from '../master-lambda/http/router.js';
import type { HttpRequest, HttpResponse } from '../master-lambda/http/types.js';
import type { JsonValue } from '../state/item-store.js';
import type { Autoscaler } from './autoscaler.js';

import { parseJsonBody } from '../master-lambda/http/json-body.js';
// The autoscaler's operator routes, mounted on a master's API (operator credential on each):
//   GET /api/v1/autoscaler/rules        the rule set and the groups the provider knows
//   PUT /api/v1/autoscaler/rules        replace the rule set ({"groups": [...]}); 400 names the field
//   GET /api/v1/autoscaler/activity     latest activity, newest first (?limit=1..1000, ?group=)
//   GET /api/v1/autoscaler/status       groups, open operations, latest decisions, counters

const json = (v: unknown): JsonValue => JSON.parse(JSON.stringify(v)) as JsonValue;

/** The request's JSON body (415 unless JSON, 400 when empty or malformed), as every route reads it. */
const body = parseJsonBody;

function limitOf(req: HttpRequest): number {
  const raw = req.query.get('limit');
  if (raw === null) return 100;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 1000) throw new ValidationError('limit must be a whole number from 1 to 1000', 'limit');
  return n;
}

export function autoscalerRoutes(api: MasterApi, autoscaler: Autoscaler): MasterApi {
  const registry = api.ctx.registry;
  const ok = (value: unknown): HttpResponse => ({ status: 200, body: json(value) });
  api.route('GET', '/api/v1/autoscaler/rules', async (req) => {
    await api.auth.operator(req);
    return ok(await autoscaler.getRules(registry));
  });
  api.route('PUT', '/api/v1/autoscaler/rules', async (req) => {
    await api.auth.operator(req);
    return ok(await autoscaler.setRules(registry, body(req)));
  });
  api.route('GET', '/api/v1/autoscaler/activity', async (req) => {
    await api.auth.operator(req);
    const group = req.query.get('group') ?? undefined;
    const limit = limitOf(req);
    return ok({ activity: await autoscaler.activity(registry, limit, group), metrics: autoscaler.metrics });
  });
  api.route('GET', '/api/v1/autoscaler/status', async (req) => {
    await api.auth.operator(req);
    return ok(await autoscaler.status(registry));
  });
  return api;
}
