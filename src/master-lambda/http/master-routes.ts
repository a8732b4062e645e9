import type { Router } from '../../http/router.js';
import type { MasterContext } from '../master-context.js';
import { agentRoute } from './agent-routes.js';
import { eventsPoll, schedulerRoute } from './scheduler-routes.js';
import { operatorRoute, stateEndpoint } from './operator-routes.js';
import { mountDashboardRoutes } from './dashboard-routes.js';
import { mountTaskLogRoutes } from './task-log-routes.js';
import { versionRoute } from './version-route.js';
import { mountMesosEndpoints } from './mesos-endpoint-routes.js';
import { openAccess } from '../../http/auth.js';

// The master's own routes on a Router. Extensions (jobs, federation, autoscaler) mount theirs
// on the same Router, so there is one table.

export interface MasterRoutesOptions {
  /** False behind API Gateway, where a response cannot stream. */
  readonly canStream: boolean;
}

export function mountMasterRoutes(router: Router, ctx: MasterContext, options: MasterRoutesOptions): Router {
  const auth = router.auth;
  router.route('POST', '/api/v1/scheduler', (req) => schedulerRoute(ctx, auth, req, { canStream: options.canStream }));
  router.route('GET', '/api/v1/scheduler/events', (req) => eventsPoll(ctx, auth, req));
  router.route('POST', '/api/v1/agents/register', (req) => agentRoute(ctx, auth, req, undefined, 'register'));
  router.route('POST', '/api/v1/agents/:agent/:action(heartbeat|work|status|authorize|messages)', (req, p) => agentRoute(ctx, auth, req, p.agent, p.action!));
  router.route('POST', '/api/v1', (req) => operatorRoute(ctx, req, { canStream: options.canStream, authenticate: auth !== openAccess }), { access: 'operator' });
  router.route('GET', '/master/state', (req) => stateEndpoint(ctx, req), { access: 'operator' });
  router.route('GET', '/state', (req) => stateEndpoint(ctx, req), { access: 'operator' });
  router.route('GET', '/version', versionRoute);
  router.route('GET', '/master/version', versionRoute);
  router.route('GET', '/health', async () => ({ status: 200, body: { ok: true } }));
  mountTaskLogRoutes(router, ctx);
  mountDashboardRoutes(router);
  mountMesosEndpoints(router, ctx, { canStream: options.canStream, authenticate: auth !== openAccess });
  return router;
}
