import type { JsonObject } from '../../state/item-store.js';
import type { MasterContext } from '../master-context.js';
import type { Topic } from '../notifier.js';
import { diffSnapshots } from './operator-events.js';
import { getAgents, getExecutors, getFrameworks, getTasks, snapshot, type Snapshot } from './operator-views.js';

// The operator API's SUBSCRIBE: SUBSCRIBED with the whole state, then the region's changes as
// Mesos's master events, and HEARTBEAT every heartbeat interval, until the client goes away.
// Changes are found by re-reading the region (operator-events.ts diffs the snapshots) when this
// process hears of one (a task update, a registration, anything that asks for an allocation
// round) and at least every poll interval, so changes made by other masters on the same table
// arrive too, a little later.

export function getStateOf(s: Snapshot): JsonObject {
  return { get_tasks: getTasks(s), get_executors: getExecutors(s), get_frameworks: getFrameworks(s), get_agents: getAgents(s) };
}

export async function* operatorEvents(ctx: MasterContext, signal: AbortSignal): AsyncGenerator<JsonObject> {
  let last = await snapshot(ctx);
  const heartbeatMs = ctx.config.heartbeatIntervalSeconds * 1000;
  yield { type: 'SUBSCRIBED', subscribed: { get_state: getStateOf(last), heartbeat_interval_seconds: ctx.config.heartbeatIntervalSeconds } };

  // Wake on any notice about the region; framework topics are per framework, so follow those known.
  let woken = false;
  let wake: (() => void) | undefined;
  const onNotice = (): void => {
    woken = true;
    wake?.();
  };
  const subscriptions = new Map<Topic, () => void>();
  const follow = (s: Snapshot): void => {
    const wanted = new Set<Topic>(['allocation', ...s.frameworks.map((f) => `framework:${f.id}` as Topic), ...s.agents.map((a) => `agent:${a.id}` as Topic)]);
    for (const [topic, off] of subscriptions) {
      if (!wanted.has(topic)) {
        off();
        subscriptions.delete(topic);
      }
    }
    for (const topic of wanted) if (!subscriptions.has(topic)) subscriptions.set(topic, ctx.notifier.subscribe(topic, onNotice));
  };
  follow(last);

  let lastHeartbeat = Date.now();
  try {
    while (!signal.aborted) {
      const untilHeartbeat = heartbeatMs - (Date.now() - lastHeartbeat);
      if (untilHeartbeat <= 0) {
        lastHeartbeat = Date.now();
        yield { type: 'HEARTBEAT' };
        continue;
      }
      if (!woken) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            wake = undefined;
            resolve();
          };
          const timer = setTimeout(done, Math.max(1, Math.min(ctx.config.pollIntervalMs, untilHeartbeat)));
          signal.addEventListener('abort', done);
          wake = done;
        });
      }
      if (signal.aborted) return;
      woken = false;
      const next = await snapshot(ctx);
      const events = diffSnapshots(last, next);
      last = next;
      follow(next);
      for (const e of events) yield e;
    }
  } finally {
    for (const off of subscriptions.values()) off();
  }
}
