import type { Router } from '../../http/router.js';
import { json } from '../../http/types.js';
import { ApiError } from '../../wire/api-error.js';
import { SERVICE_NAME } from './digest.js';
import type { RegionGossip } from './region-gossip.js';

// The federation's HTTP routes, mounted on a master's router:
//   GET /api/v1/federation/peers            operators: peers, their state and digest age
//   GET /api/v1/federation/services/:name   frameworks or operators: endpoints in live regions

export function gossipRoutes(router: Router, gossip: RegionGossip): Router {
  router.route('GET', '/api/v1/federation/peers', async () => json(200, { region: gossip.region, peers: await gossip.peers() }), { access: 'operator' });
  router.route(
    'GET',
    '/api/v1/federation/services/:name',
    async (_req, params) => {
      const name = params.name ?? '';
      if (!SERVICE_NAME.test(name)) throw new ApiError(400, "name must be 1-255 characters without '/' or control characters", 'name');
      return json(200, await gossip.servicesNamed(name));
    },
    { access: 'framework-or-operator' },
  );
  return router;
}
