import type { Router } from '../../http/router.js';
import { requireJsonAccepted } from '../../http/content-negotiation.js';
import type { HttpRequest, HttpResponse } from '../../http/types.js';
import type { MasterContext } from '../master-context.js';
import { masterFlags } from '../use-cases/master-flags.js';
import {
  frameworksEndpoint,
  maintenanceSchedule,
  maintenanceStatus,
  parseTasksQuery,
  rolesEndpoint,
  slavesEndpoint,
  stateSummaryEndpoint,
  tasksEndpoint,
} from '../use-cases/master-endpoints.js';
import { snapshot } from '../use-cases/operator-views.js';
import { operatorRoute, stateEndpoint } from './operator-routes.js';

// The read-only endpoints Mesos tooling polls, each under its plain name and its /master/ alias
// as a Mesos master serves them (/slaves and /master/slaves...). Like /master/state they need an
// operator credential when authentication is on; /redirect and /health are open, as in Mesos.

export interface MesosEndpointOptions {
  readonly canStream: boolean;
  readonly authenticate: boolean;
}

const startedAt = Date.now();

async function leaderOf(ctx: MasterContext): Promise<{ epoch: number; holder: string | undefined }> {
  const lease = await ctx.registry.getLease();
  return { epoch: lease.epoch, holder: lease.holder || undefined };
}

/**
 * /master/redirect: Mesos answers 307 to the leading master (`Location: //host:port`), and the
 * leader to itself. Every Stratus master answers every read for the region, so the leading
 * master for a reader is this one: 307 to this master as the client reached it (its Host
 * header: behind API Gateway that is the region's public name, not the handler's), else to the
 * configured hostname:port.
 */
function redirect(ctx: MasterContext, req: HttpRequest): HttpResponse {
  const host = req.headers.host;
  const target = host !== undefined && /^[A-Za-z0-9.\-[\]:]{1,300}$/.test(host) ? host : `${ctx.config.hostname}:${ctx.config.port}`;
  return { status: 307, headers: { Location: `//${target}` } };
}

export function mountMesosEndpoints(router: Router, ctx: MasterContext, options: MesosEndpointOptions): Router {
  const both = (path: string, handler: (req: HttpRequest) => Promise<HttpResponse>, access: 'operator' | 'open' = 'operator'): void => {
    const wrapped = async (req: HttpRequest): Promise<HttpResponse> => {
      requireJsonAccepted(req);
      return handler(req);
    };
    router.route('GET', path, wrapped, { access });
    router.route('GET', `/master${path}`, wrapped, { access });
  };
  const state = (req: HttpRequest): Promise<HttpResponse> => stateEndpoint(ctx, req);
  both('/state.json', state);
  both('/slaves', async () => ({ status: 200, body: slavesEndpoint(await snapshot(ctx)) }));
  both('/frameworks', async () => {
    const [s, leader] = await Promise.all([snapshot(ctx), leaderOf(ctx)]);
    return { status: 200, body: frameworksEndpoint(ctx, s, leader, startedAt) };
  });
  const tasks = async (req: HttpRequest): Promise<HttpResponse> => {
    const q = parseTasksQuery(req.query);
    return { status: 200, body: tasksEndpoint(await snapshot(ctx), q) };
  };
  both('/tasks', tasks);
  both('/tasks.json', tasks);
  both('/state-summary', async () => ({ status: 200, body: stateSummaryEndpoint(ctx, await snapshot(ctx)) }));
  both('/roles', async () => ({ status: 200, body: rolesEndpoint(await snapshot(ctx)) }));
  both('/roles.json', async () => ({ status: 200, body: rolesEndpoint(await snapshot(ctx)) }));
  both('/flags', async () => ({ status: 200, body: { flags: masterFlags({ config: ctx.config, authenticate: options.authenticate }) } }));
  both('/maintenance/status', async () => ({ status: 200, body: maintenanceStatus(await snapshot(ctx)) }));
  both('/maintenance/schedule', async () => ({ status: 200, body: maintenanceSchedule(await snapshot(ctx)) }));
  router.route('GET', '/redirect', async (req) => redirect(ctx, req));
  router.route('GET', '/master/redirect', async (req) => redirect(ctx, req));
  router.route('GET', '/master/health', async () => ({ status: 200, body: { ok: true } }));
  router.route('POST', '/master/api/v1', (req) => operatorRoute(ctx, req, options), { access: 'operator' });
  return router;
}
