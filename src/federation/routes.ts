import { UnauthenticatedError } from '../core/errors.js';
import { HttpError } from '../master-lambda/http/errors.js';
import type { MasterApi } from '../master-lambda/http/router.js';
import type { HttpRequest } from '../master-lambda/http/types.js';
import type { JsonValue } from '../state/item-store.js';
import { SERVICE_NAME } from './digest.js';
import type { Federation } from './federation.js';

// The federation's HTTP routes, mounted on a master's API:
//   GET /api/v1/federation/peers            operators: peers, their state and digest age
//   GET /api/v1/federation/services/:name   frameworks or operators: endpoints in live regions

async function frameworkOrOperator(api: MasterApi, req: HttpRequest): Promise<void> {
  try {
    await api.auth.operator(req);
  } catch (e) {
    if (!(e instanceof UnauthenticatedError)) throw e;
    await api.auth.framework(req);
  }
}

/** Plain data to JSON (drops undefined fields, which JSON has no place for). */
const json = (v: unknown): JsonValue => JSON.parse(JSON.stringify(v)) as JsonValue;

export function federationRoutes(api: MasterApi, federation: Federation): MasterApi {
  api.route('GET', '/api/v1/federation/peers', async (req) => {
    await api.auth.operator(req);
    return { status: 200, body: json({ region: federation.region, peers: await federation.peers() }) };
  });
  api.route('GET', '/api/v1/federation/services/:name', async (req, params) => {
    await frameworkOrOperator(api, req);
    const name = params.name ?? '';
    if (!SERVICE_NAME.test(name)) throw new HttpError(400, "name must be 1-255 characters without '/' or control characters", 'name');
    return { status: 200, body: json(await federation.servicesNamed(name)) };
  });
  return api;
}
