import { prometheusResponse } from '../../http/prometheus.js';
import type { Router } from '../../http/router.js';
import type { HttpResponse } from '../../http/types.js';
import type { MasterContext } from '../master-context.js';
import { masterFigures, mesosMasterSnapshot, type LeaseView } from '../use-cases/metrics-views.js';
import { snapshot } from '../use-cases/operator-views.js';

// GET /metrics (Prometheus text) and GET /metrics/snapshot (Mesos's JSON). Both read one
// snapshot of the region's state for the gauges. Mesos guards /metrics/snapshot with its HTTP
// authentication when that is on; here both need the operator credential, as /master/state.

async function leaseView(ctx: MasterContext): Promise<LeaseView> {
  const lease = await ctx.registry.getLease();
  return { epoch: lease.epoch, elected: lease.holder !== '', leader: ctx.metrics.isLeader() };
}

/** The Mesos-named figures of GET /metrics/snapshot and GET_METRICS. */
export async function metricsSnapshot(ctx: MasterContext): Promise<Record<string, number>> {
  const [s, lease] = await Promise.all([snapshot(ctx), leaseView(ctx)]);
  return mesosMasterSnapshot(s, masterFigures(s), ctx.metrics, lease, ctx.now());
}

async function prometheus(ctx: MasterContext): Promise<HttpResponse> {
  const [s, lease] = await Promise.all([snapshot(ctx), leaseView(ctx)]);
  ctx.metrics.refresh(masterFigures(s), lease);
  return prometheusResponse(ctx.metrics.registry);
}

export function mountMetricsRoutes(router: Router, ctx: MasterContext): Router {
  router.route('GET', '/metrics', () => prometheus(ctx), { access: 'operator' });
  router.route('GET', '/metrics/snapshot', async () => ({ status: 200, body: await metricsSnapshot(ctx) }), { access: 'operator' });
  return router;
}
