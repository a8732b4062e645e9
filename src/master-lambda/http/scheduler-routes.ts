import { ValidationError } from '../../core/errors.js';
import { parseSchedulerCall } from '../codec/scheduler-call.js';
import type { MasterContext } from '../master-context.js';
import { accept } from '../use-cases/accept.js';
import { acknowledge } from '../use-cases/acknowledge.js';
import { pollEvents, streamEvents } from '../use-cases/event-delivery.js';
import { requireFramework } from '../use-cases/framework-access.js';
import { kill } from '../use-cases/kill.js';
import { sendMessage } from '../use-cases/message.js';
import { decline, revive, suppress } from '../use-cases/offer-filters.js';
import { reconcile } from '../use-cases/reconcile.js';
import { subscribe } from '../use-cases/subscribe.js';
import { removeFramework } from '../use-cases/teardown.js';
import { shutdownExecutor } from '../use-cases/shutdown-executor.js';
import { updateFramework } from '../use-cases/update-framework.js';
import type { Authenticator } from '../../http/auth.js';
import { requireJsonAccepted, requireJsonBody, streamHeaders } from '../../http/content-negotiation.js';
import { parseJsonBody } from '../../http/json-body.js';
import type { HttpRequest, HttpResponse } from '../../http/types.js';

// POST /api/v1/scheduler (Mesos v1 scheduler API, JSON) and GET /api/v1/scheduler/events.

export const STREAM_HEADER = 'mesos-stream-id';
/** Ask SUBSCRIBE to answer at once and deliver events by long-poll, even on the local server. */
export const EVENT_MODE_HEADER = 'stratus-event-mode';

export interface SchedulerRouteOptions {
  /** False behind API Gateway: SUBSCRIBE always answers at once (long-poll delivery). */
  readonly canStream: boolean;
}


export async function schedulerRoute(ctx: MasterContext, auth: Authenticator, req: HttpRequest, options: SchedulerRouteOptions): Promise<HttpResponse> {
  const caller = await auth.framework(req);
  // As Mesos: a body that is not JSON is 415, an Accept that allows no JSON answer is 406,
  // both before the call is read or changes anything.
  requireJsonBody(req);
  const call = parseSchedulerCall(parseJsonBody(req));
  const poll = call.type === 'SUBSCRIBE' && (!options.canStream || req.headers[EVENT_MODE_HEADER] === 'poll');
  const recordHeaders = call.type === 'SUBSCRIBE' && !poll ? streamHeaders(req) : undefined;
  if (!recordHeaders) requireJsonAccepted(req);
  if (call.type === 'SUBSCRIBE') {
    const sub = await subscribe(ctx, call, caller);
    const headers = { 'Mesos-Stream-Id': sub.streamId };
    if (poll) return { status: 200, headers, body: { events: [sub.subscribed.body], cursor: sub.cursor, framework_id: { value: sub.framework.id } } };
    const signal = req.signal ?? new AbortController().signal;
    async function* records(): AsyncGenerator<import('../../core/json.js').JsonObject> {
      yield sub.subscribed.body;
      yield* streamEvents(ctx, sub.framework.id, sub.streamId, sub.cursor, signal);
    }
    return { status: 200, headers: { ...headers, ...recordHeaders }, stream: records() };
  }
  const who = { streamId: req.headers[STREAM_HEADER], ...(caller.principal !== undefined ? { principal: caller.principal } : {}) };
  const fw = await requireFramework(ctx, call.framework_id.value, who);
  switch (call.type) {
    case 'TEARDOWN':
      await removeFramework(ctx, fw, 'TEARDOWN by the framework');
      break;
    case 'ACCEPT':
      await accept(ctx, fw, call);
      break;
    case 'DECLINE':
      await decline(ctx, fw, call);
      break;
    case 'REVIVE':
      await revive(ctx, fw, call);
      break;
    case 'SUPPRESS':
      await suppress(ctx, fw, call);
      break;
    case 'KILL':
      await kill(ctx, fw, call);
      break;
    case 'ACKNOWLEDGE':
      await acknowledge(ctx, fw, call);
      break;
    case 'RECONCILE':
      await reconcile(ctx, fw, call);
      break;
    case 'MESSAGE':
      await sendMessage(ctx, fw, call);
      break;
    case 'REQUEST':
      break; // accepted and ignored, as in Mesos
    case 'UPDATE_FRAMEWORK':
      await updateFramework(ctx, fw, call, caller);
      break;
    case 'SHUTDOWN':
      await shutdownExecutor(ctx, fw, call);
      break;
  }
  return { status: 202 };
}

/** GET /api/v1/scheduler/events?framework_id=F&cursor=N&wait_seconds=S with Mesos-Stream-Id. */
export async function eventsPoll(ctx: MasterContext, auth: Authenticator, req: HttpRequest): Promise<HttpResponse> {
  const caller = await auth.framework(req);
  requireJsonAccepted(req);
  const fid = req.query.get('framework_id');
  if (!fid) throw new ValidationError('the framework_id query parameter is required', 'framework_id');
  const cursorText = req.query.get('cursor') ?? '0';
  if (!/^\d{1,15}$/.test(cursorText)) throw new ValidationError('cursor must be a non-negative integer', 'cursor');
  const waitText = req.query.get('wait_seconds');
  const wait = waitText === null ? ctx.config.longPollMaxWaitMs / 1000 : Number(waitText);
  if (!Number.isFinite(wait) || wait < 0) throw new ValidationError('wait_seconds must be a non-negative number', 'wait_seconds');
  const fw = await requireFramework(ctx, fid, { streamId: req.headers[STREAM_HEADER], ...(caller.principal !== undefined ? { principal: caller.principal } : {}) });
  const page = await pollEvents(ctx, fw, Number(cursorText), Math.min(wait * 1000, ctx.config.longPollMaxWaitMs), req.signal);
  return { status: 200, body: page };
}
