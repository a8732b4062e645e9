import { randomUUID } from 'node:crypto';
import { ForbiddenError, ValidationError } from '../../core/errors.js';
import { DEFAULT_ROLE, type Framework, type FrameworkInfo } from '../../core/framework.js';
import { frameworkId as toFrameworkId, type StreamId } from '../../core/ids.js';
import { isValidRole } from '../../core/role.js';
import type { JsonObject } from '../../state/item-store.js';
import type { MesosFrameworkInfo, SchedulerCall } from '../codec/scheduler-call.js';
import { subscribedEvent, type SchedulerEvent } from '../codec/scheduler-event.js';
import { labelsToRecord } from '../../wire/validate.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';
import type { FrameworkCaller } from '../../http/auth.js';
import { authorizeFrameworkInfo } from './framework-access.js';
import { releaseOffers } from './release-offers.js';
import { MESOS_COMPATIBLE_VERSION } from '../../wire/mesos-version.js';

// SUBSCRIBE: registers a new framework or resubscribes an existing one (framework failover).
// A resubscription opens a new stream; the old stream is refused from then on, and the
// framework's outstanding offers are rescinded, as Mesos does on failover.

export interface Subscription {
  readonly framework: Framework;
  readonly streamId: StreamId;
  readonly subscribed: SchedulerEvent;
  /** The framework's event log position at subscription: the stream starts after it. */
  readonly cursor: number;
  readonly resubscribed: boolean;
}

export function decodeFrameworkInfo(info: MesosFrameworkInfo, field: string): FrameworkInfo {
  const capabilities = (info.capabilities ?? []).map((c) => c.type);
  // MULTI_ROLE frameworks use `roles`; older ones `role`; neither means the default role '*'.
  const roles = info.roles && info.roles.length > 0 ? info.roles : [info.role ?? DEFAULT_ROLE];
  roles.forEach((r, i) => {
    if (!isValidRole(r)) throw new ValidationError(`${field}.roles[${i}] '${String(r).slice(0, 64)}' is not a valid role name`, `${field}.roles[${i}]`);
  });
  if (new Set(roles).size !== roles.length) throw new ValidationError(`${field}.roles has duplicates`, `${field}.roles`);
  if (info.roles && info.role !== undefined) throw new ValidationError(`${field}: set roles or role, not both`, `${field}.role`);
  const labels = labelsToRecord(info.labels);
  return {
    name: info.name,
    user: info.user,
    roles,
    ...(info.principal !== undefined ? { principal: info.principal } : {}),
    failoverTimeoutSeconds: info.failover_timeout ?? 0,
    ...(info.hostname !== undefined ? { hostname: info.hostname } : {}),
    ...(info.webui_url !== undefined ? { webuiUrl: info.webui_url } : {}),
    capabilities,
    ...(labels ? { labels } : {}),
    checkpoint: info.checkpoint ?? false,
  };
}

export function masterInfo(ctx: MasterContext): JsonObject {
  return { id: ctx.config.masterId, ip: 2130706433, port: ctx.config.port, hostname: ctx.config.hostname, version: MESOS_COMPATIBLE_VERSION };
}

export async function subscribe(
  ctx: MasterContext,
  call: Extract<SchedulerCall, { type: 'SUBSCRIBE' }>,
  caller: FrameworkCaller,
): Promise<Subscription> {
  const field = 'subscribe.framework_info';
  const info = decodeFrameworkInfo(call.subscribe.framework_info, field);
  const infoWithPrincipal = authorizeFrameworkInfo(caller, info, field);
  const principal = caller.principal;
  const idFromInfo = call.subscribe.framework_info.id?.value;
  const idFromCall = call.framework_id?.value;
  if (idFromInfo && idFromCall && idFromInfo !== idFromCall) {
    throw new ValidationError('framework_id and subscribe.framework_info.id differ', 'framework_id');
  }
  const requestedId = idFromCall ?? idFromInfo;
  const suppressed = call.subscribe.suppressed_roles ?? [];
  suppressed.forEach((r, i) => {
    if (!infoWithPrincipal.roles.includes(r)) throw new ValidationError(`subscribe.suppressed_roles[${i}] '${r}' is not one of the framework's roles`, `subscribe.suppressed_roles[${i}]`);
  });
  const streamId = randomUUID() as StreamId;
  const now = ctx.now();

  const result = await retryOnConflict(async () => {
    const id = requestedId ? toFrameworkId(requestedId, 'framework_id.value') : toFrameworkId(`${randomUUID()}-0000`);
    const existing = requestedId ? await ctx.registry.getFramework(id) : undefined;
    if (existing?.removedAt !== undefined) {
      throw new ForbiddenError(`framework ${id} has been removed; subscribe without an id to register a new framework`, 'framework_id');
    }
    if (existing && existing.info.principal !== undefined && principal !== undefined && existing.info.principal !== principal) {
      throw new ForbiddenError(`framework ${id} belongs to another principal`, 'framework_id');
    }
    const framework: Framework = {
      id,
      info: infoWithPrincipal,
      streamId,
      connected: true,
      lastSeenAt: now,
      registeredAt: existing?.registeredAt ?? now,
      suppressedRoles: suppressed,
    };
    // The stream starts at the log head read before the framework is stored as connected: from
    // that commit on, a round (on any master) may offer to it, and an offer logged before a head
    // read after the commit would be skipped by the stream and strand the agent until the offer
    // timeout. Events logged between this read and the commit reach the new stream as well.
    const head = await ctx.registry.getEventLog(id);
    await ctx.registry.transaction().putFramework(framework, existing ? { version: existing.version } : 'absent').commit();
    return { framework, resubscribed: existing !== undefined, cursor: head?.seq ?? 0 };
  });

  if (result.resubscribed) {
    // Offers made to the previous incarnation of the scheduler are withdrawn (Mesos does so on failover).
    const offers = await ctx.registry.listOffersByFramework(result.framework.id);
    await releaseOffers(ctx, offers, { rescind: false });
    ctx.notifier.notify(`framework:${result.framework.id}`); // closes the old stream
  }
  await ctx.registry.beat('framework', result.framework.id, streamId);
  ctx.notifier.notify('allocation');
  ctx.log.info(result.resubscribed ? 'framework resubscribed' : 'framework subscribed', {
    frameworkId: result.framework.id,
    name: info.name,
    roles: info.roles,
  });
  return {
    ...result,
    streamId,
    subscribed: subscribedEvent(result.framework.id, ctx.config.heartbeatIntervalSeconds, masterInfo(ctx)),
  };
}
