import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../src/core/logger.js';
import type { MasterConfig } from '../../../../src/master-lambda/config.js';
import { createSchedulerStreamHandler, type StreamingHandler } from '../../../../src/master-lambda/lambda/scheduler-stream-handler.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { MemoryItemStore } from '../../../../src/state/memory-item-store.js';
import { readRecordIO } from '../../../../src/wire/recordio.js';
import { RestStreamingApi } from '../../../support/api-gateway/rest-streaming.js';

// The streaming handler behind the local REST-streaming stand-in, over real HTTP: the client
// sees a chunked RecordIO response; the stand-in's limits (maximum duration, idle timeout) cut
// what the service would cut, and HEARTBEATs keep a quiet stream inside the idle timeout.

const subscribeCall = { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'standin', failover_timeout: 60 } } };

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function standIn(handler: StreamingHandler, limits: { maxDurationMs?: number; idleTimeoutMs?: number } = {}): Promise<RestStreamingApi> {
  const api = await new RestStreamingApi({ handler, ...limits }).start();
  cleanup.push(() => api.close());
  return api;
}

function master(config: Partial<MasterConfig> = {}): Master {
  const m = new Master({ store: new MemoryItemStore(), canStream: true, log: silentLogger, config: { pollIntervalMs: 20, ...config } });
  cleanup.push(() => m.stop());
  return m;
}

async function subscribe(url: string): Promise<{ response: Response; types: string[]; ended: Promise<'clean' | 'cut'> }> {
  const response = await fetch(`${url}/api/v1/scheduler`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(subscribeCall) });
  const types: string[] = [];
  const ended = (async () => {
    try {
      for await (const r of readRecordIO(response.body!)) types.push(String((r as { type: string }).type));
      return 'clean' as const;
    } catch {
      return 'cut' as const;
    }
  })();
  return { response, types, ended };
}

describe('RestStreamingApi (the REST-streaming stand-in) with the scheduler streaming handler', () => {
  it('streams SUBSCRIBE as chunked RecordIO, HEARTBEATs keep it inside the idle timeout, and it ends cleanly at the handler maximum', async () => {
    const handler = createSchedulerStreamHandler({ master: async () => master({ heartbeatIntervalSeconds: 0.1 }), maxStreamMs: 1_200 });
    const api = await standIn(handler, { idleTimeoutMs: 400, maxDurationMs: 10_000 });
    const started = performance.now();
    const { response, types, ended } = await subscribe(api.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    expect(response.headers.get('mesos-stream-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await ended).toBe('clean');
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_150);
    expect(types[0]).toBe('SUBSCRIBED');
    expect(types.filter((t) => t === 'HEARTBEAT').length).toBeGreaterThanOrEqual(5);
    const s = api.stats;
    expect(s).toMatchObject({ requests: 1, invocations: 1, open: 0, cutIdle: 0, cutAtMax: 0, badPrelude: 0 });
    expect(s.streamedMs).toBeGreaterThanOrEqual(1_150);
    expect(s.bytes).toBeGreaterThan(100);
  });

  it('answers the calls clients make before subscribing (GET /version) as ordinary responses', async () => {
    const api = await standIn(createSchedulerStreamHandler({ master: async () => master() }));
    const r = await fetch(`${api.url}/version`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ version: '1.11.0' });
    const bad = await fetch(`${api.url}/api/v1/scheduler`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"type": 7}' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'type' });
    expect(api.stats).toMatchObject({ requests: 2, invocations: 2, open: 0 });
  });

  it('cuts a response that sends nothing for the idle timeout', async () => {
    // No heartbeat for far longer than the idle timeout: the service would drop it.
    const handler = createSchedulerStreamHandler({ master: async () => master({ heartbeatIntervalSeconds: 60 }), maxStreamMs: 30_000 });
    const api = await standIn(handler, { idleTimeoutMs: 300 });
    const { types, ended } = await subscribe(api.url);
    expect(await ended).toBe('cut');
    expect(types).toEqual(['SUBSCRIBED']);
    expect(api.stats).toMatchObject({ cutIdle: 1, cutAtMax: 0 });
  });

  it('cuts a response at the maximum duration even when it is busy', async () => {
    const handler = createSchedulerStreamHandler({ master: async () => master({ heartbeatIntervalSeconds: 0.05 }), maxStreamMs: 60_000 });
    // Without the invocation's context the handler cannot see the deadline coming (with it, it ends first).
    const api = await standIn((event, stream) => handler(event, stream), { maxDurationMs: 500, idleTimeoutMs: 10_000 });
    const { ended } = await subscribe(api.url);
    expect(await ended).toBe('cut');
    expect(api.stats).toMatchObject({ cutAtMax: 1, cutIdle: 0, open: 0 });
  });

  it('answers 502 when the function sends no metadata prelude', async () => {
    const api = await standIn(async (_event, stream) => {
      stream.end('{"no": "delimiter"}');
    });
    const r = await fetch(`${api.url}/version`);
    expect(r.status).toBe(502);
    expect(api.stats.badPrelude).toBe(1);
  });
});
