import { NotFoundError } from '../../core/errors.js';
import type { JsonObject } from '../../state/item-store.js';
import { parseOperatorCall } from '../codec/operator-call.js';
import type { MasterContext } from '../master-context.js';
import { drainAgent, markGoneByOperator, setAgentActive, updateQuota, updateWeights } from '../use-cases/operator-actions.js';
import { getAgents, getExecutors, getFrameworks, getMaster, getQuota, getRoles, getTasks, getVersion, getWeights, masterState, snapshot } from '../use-cases/operator-views.js';
import { loggingVerbosity, masterFlags } from '../use-cases/master-flags.js';
import { maintenanceSchedule, maintenanceStatus } from '../use-cases/master-endpoints.js';
import { operatorEvents } from '../use-cases/operator-subscribe.js';
import { streamHeaders } from '../../http/content-negotiation.js';
import { ApiError } from '../../wire/api-error.js';
import { removeFramework } from '../use-cases/teardown.js';
import { metricsSnapshot } from './metrics-routes.js';
import { parseJsonBody } from '../../http/json-body.js';
import type { HttpRequest, HttpResponse } from '../../http/types.js';
import { conditionalJson } from '../../http/etag.js';

// POST /api/v1 (Mesos v1 operator API, JSON) and GET /master/state. The router checks the
// operator credential before these run (when authentication is on).

const startedAt = Date.now();

export interface OperatorRouteOptions {
  /** False behind API Gateway: SUBSCRIBE's event stream needs the local server. */
  readonly canStream?: boolean;
  /** Whether the router checks credentials (GET_FLAGS shows it). */
  readonly authenticate?: boolean;
}

export async function operatorRoute(ctx: MasterContext, req: HttpRequest, options: OperatorRouteOptions = {}): Promise<HttpResponse> {
  const call = parseOperatorCall(parseJsonBody(req));
  const answer = (key: string, body: JsonObject): HttpResponse => ({ status: 200, body: { type: call.type, [key]: body } });
  switch (call.type) {
    case 'GET_HEALTH':
      return answer('get_health', { healthy: true });
    case 'GET_STATE': {
      const s = await snapshot(ctx);
      return answer('get_state', { get_tasks: getTasks(s), get_executors: getExecutors(s), get_frameworks: getFrameworks(s), get_agents: getAgents(s) });
    }
    case 'GET_AGENTS':
      return answer('get_agents', getAgents(await snapshot(ctx)));
    case 'GET_FRAMEWORKS':
      return answer('get_frameworks', getFrameworks(await snapshot(ctx)));
    case 'GET_TASKS':
      return answer('get_tasks', getTasks(await snapshot(ctx)));
    case 'GET_ROLES':
      return answer('get_roles', getRoles(await snapshot(ctx)));
    case 'GET_WEIGHTS':
      return answer('get_weights', getWeights(await snapshot(ctx)));
    case 'GET_QUOTA':
      return answer('get_quota', getQuota(await snapshot(ctx)));
    case 'UPDATE_WEIGHTS':
      await updateWeights(ctx, call);
      break;
    case 'UPDATE_QUOTA':
      await updateQuota(ctx, call);
      break;
    case 'DRAIN_AGENT': {
      const d = call.drain_agent;
      const grace = d.max_grace_period;
      await drainAgent(
        ctx,
        d.agent_id.value,
        { markGone: d.mark_gone ?? false, ...(grace ? { maxGraceMs: grace.seconds * 1000 + Math.floor((grace.nanos ?? 0) / 1e6) } : {}) },
        'drain_agent.agent_id',
      );
      break;
    }
    case 'DEACTIVATE_AGENT':
      await setAgentActive(ctx, call.deactivate_agent.agent_id.value, false, 'deactivate_agent.agent_id');
      break;
    case 'REACTIVATE_AGENT':
      await setAgentActive(ctx, call.reactivate_agent.agent_id.value, true, 'reactivate_agent.agent_id');
      break;
    case 'MARK_AGENT_GONE':
      await markGoneByOperator(ctx, call);
      break;
    case 'GET_METRICS': {
      const figures = await metricsSnapshot(ctx);
      return answer('get_metrics', { metrics: Object.entries(figures).map(([name, value]) => ({ name, value })) });
    }
    case 'TEARDOWN': {
      const fw = await ctx.registry.getFramework(call.teardown.framework_id.value);
      if (!fw || fw.removedAt !== undefined) throw new NotFoundError(`framework ${call.teardown.framework_id.value} is not registered`, 'teardown.framework_id');
      await removeFramework(ctx, fw, 'TEARDOWN by an operator');
      break;
    }
    case 'GET_VERSION':
      return answer('get_version', getVersion());
    case 'GET_FLAGS':
      return answer('get_flags', { flags: Object.entries(masterFlags({ config: ctx.config, authenticate: options.authenticate ?? false })).map(([name, value]) => ({ name, value })) });
    case 'GET_LOGGING_LEVEL':
      return answer('get_logging_level', { level: loggingVerbosity() });
    case 'GET_MASTER':
      return answer('get_master', getMaster(ctx, startedAt, undefined));
    case 'GET_EXECUTORS':
      return answer('get_executors', getExecutors(await snapshot(ctx)));
    case 'GET_MAINTENANCE_STATUS':
      return answer('get_maintenance_status', { status: maintenanceStatus(await snapshot(ctx)) });
    case 'GET_MAINTENANCE_SCHEDULE':
      return answer('get_maintenance_schedule', { schedule: maintenanceSchedule(await snapshot(ctx)) });
    case 'GET_OPERATIONS':
      // Offer operations besides LAUNCH (reservations, volumes) do not exist in Stratus.
      return answer('get_operations', { operations: [] });
    case 'SUBSCRIBE': {
      if (options.canStream === false) {
        throw new ApiError(501, 'the operator event stream (SUBSCRIBE) needs a streaming connection: call it on the local server (stratus dev / stratus master), not through API Gateway', 'type');
      }
      const headers = streamHeaders(req);
      return { status: 200, headers, stream: operatorEvents(ctx, req.signal ?? new AbortController().signal) };
    }
  }
  return { status: 200 };
}

/** GET /master/state with a strong ETag: pollers that send If-None-Match get 304 while nothing changed. */
export async function stateEndpoint(ctx: MasterContext, req: HttpRequest): Promise<HttpResponse> {
  const [s, lease] = await Promise.all([snapshot(ctx), ctx.registry.getLease()]);
  return conditionalJson(req, masterState(ctx, s, lease.holder ? { epoch: lease.epoch, holder: lease.holder } : { epoch: lease.epoch, holder: undefined }, startedAt));
}
