import type { Framework } from '../../core/framework.js';
import type { JsonObject } from '../../state/item-store.js';
import type { Stored } from '../../state/registry.js';
import { errorEvent, HEARTBEAT_EVENT } from '../codec/scheduler-event.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';

// Delivers a framework's event log, two ways: as the SUBSCRIBE response's stream (local
// server, like Mesos) and as long-poll pages with a cursor (API Gateway cannot stream).
// Readers trim what they have delivered; the table's TTL removes what nobody read.

const TRIM_EVERY = 50;

/**
 * The abort reason of a stream its transport ends on purpose (the streaming Lambda's time
 * limit): the client resubscribes at once, as after a master failover, so the framework stays
 * connected; if it does not come back, its beats stop and the leader disconnects it.
 */
export const PLANNED_STREAM_END = 'stratus: planned end of the event stream';

/** The RecordIO stream's events after the cursor, with heartbeats, until the stream ends. */
export async function* streamEvents(
  ctx: MasterContext,
  frameworkId: string,
  streamId: string,
  cursor: number,
  signal: AbortSignal,
): AsyncGenerator<JsonObject> {
  const heartbeatMs = ctx.config.heartbeatIntervalSeconds * 1000;
  let lastHeartbeat = Date.now();
  let lastCheck = Date.now();
  let lastBeat = Date.now();
  let trimmedTo = cursor;
  let woken = false;
  const beatEvery = beatInterval(ctx);
  const unsubscribe = ctx.notifier.subscribe(`framework:${frameworkId}`, () => (woken = true));
  try {
    while (!signal.aborted) {
      // The log head is one item by key; the events are queried only when it moved past us.
      const head = await ctx.registry.getEventLog(frameworkId);
      const events = (head?.seq ?? 0) > cursor ? await ctx.registry.readEvents(frameworkId, cursor, 100) : [];
      for (const e of events) {
        yield e.body;
        cursor = e.seq;
      }
      if (cursor - trimmedTo >= TRIM_EVERY) {
        const upTo = cursor;
        trimmedTo = cursor;
        void ctx.registry.trimEvents(frameworkId, upTo).catch((e: unknown) => ctx.log.warn('trimming events failed', { error: e, frameworkId }));
      }
      if (events.length === 100) continue;
      const now = Date.now();
      if (woken || now - lastCheck >= ctx.config.frameworkRecheckMs) {
        woken = false;
        lastCheck = now;
        const fw = await ctx.registry.getFramework(frameworkId);
        if (!fw || fw.removedAt !== undefined) {
          yield errorEvent('Framework has been removed').body;
          return;
        }
        if (fw.streamId !== streamId) {
          yield errorEvent('Framework failed over: a newer subscription replaced this stream').body;
          return;
        }
      }
      if (now - lastBeat >= beatEvery) {
        lastBeat = now;
        await ctx.registry.beat('framework', frameworkId, streamId);
      }
      if (now - lastHeartbeat >= heartbeatMs) {
        lastHeartbeat = now;
        yield HEARTBEAT_EVENT.body;
      }
      const untilHeartbeat = heartbeatMs - (Date.now() - lastHeartbeat);
      await ctx.notifier.wait(`framework:${frameworkId}`, Math.max(1, Math.min(ctx.config.pollIntervalMs, untilHeartbeat)), signal);
    }
  } finally {
    unsubscribe();
    if (signal.reason !== PLANNED_STREAM_END)
      await markDisconnected(ctx, frameworkId, streamId).catch((e: unknown) => ctx.log.warn('marking framework disconnected failed', { error: e }));
  }
}

/** The framework's connection closed: it is disconnected unless a newer stream replaced it. */
export async function markDisconnected(ctx: MasterContext, frameworkId: string, streamId: string): Promise<void> {
  await retryOnConflict(async () => {
    const fw = await ctx.registry.getFramework(frameworkId);
    if (!fw || fw.streamId !== streamId || !fw.connected || fw.removedAt !== undefined) return;
    await ctx.registry.transaction().putFramework({ ...fw, connected: false, disconnectedAt: ctx.now() }, { version: fw.version }).commit();
  });
  ctx.notifier.notify('allocation');
  ctx.log.info('framework disconnected', { frameworkId });
}

/** Connections beat well within the disconnect timeout, and at most every frameworkBeatMs (5 s). */
function beatInterval(ctx: MasterContext): number {
  return Math.min(ctx.config.frameworkBeatMs, Math.floor(ctx.config.frameworkDisconnectMs / 4));
}

const lastPollBeat = new Map<string, number>();
const lastPollTrim = new Map<string, number>();

/** One long-poll: events after `cursor` as soon as there are some, or none after `waitMs`. */
export async function pollEvents(
  ctx: MasterContext,
  framework: Stored<Framework>,
  cursor: number,
  waitMs: number,
  signal?: AbortSignal,
): Promise<{ events: JsonObject[]; cursor: number }> {
  const now = Date.now();
  if (now - (lastPollBeat.get(framework.id) ?? 0) >= beatInterval(ctx)) {
    lastPollBeat.set(framework.id, now);
    await ctx.registry.beat('framework', framework.id, framework.streamId);
  }
  // The cursor acknowledges everything up to it.
  if (cursor - (lastPollTrim.get(framework.id) ?? 0) >= TRIM_EVERY) {
    lastPollTrim.set(framework.id, cursor);
    void ctx.registry.trimEvents(framework.id, cursor).catch((e: unknown) => ctx.log.warn('trimming events failed', { error: e }));
  }
  const deadline = now + waitMs;
  for (;;) {
    const head = await ctx.registry.getEventLog(framework.id);
    const events = (head?.seq ?? 0) > cursor ? await ctx.registry.readEvents(framework.id, cursor, 100) : [];
    if (events.length) return { events: events.map((e) => e.body), cursor: events[events.length - 1]!.seq };
    const left = deadline - Date.now();
    if (left <= 0 || signal?.aborted) return { events: [], cursor };
    await ctx.notifier.wait(`framework:${framework.id}`, Math.min(left, ctx.config.pollIntervalMs), signal);
  }
}
