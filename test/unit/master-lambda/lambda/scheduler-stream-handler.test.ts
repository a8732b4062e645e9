import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../src/core/logger.js';
import type { MasterConfig } from '../../../../src/master-lambda/config.js';
import {
  createSchedulerStreamHandler,
  maxStreamMsFromEnv,
  METADATA_DELIMITER,
  streamRestEvent,
  type HttpResponseMetadata,
  type RestProxyEvent,
} from '../../../../src/master-lambda/lambda/scheduler-stream-handler.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { MemoryItemStore } from '../../../../src/state/memory-item-store.js';
import { waitUntil } from '../../../support/wait.js';

// The REST-streaming entry point, on the bytes API Gateway reads: a JSON metadata prelude,
// eight NUL bytes, then the body (RecordIO for SUBSCRIBE).

/** A writable that keeps what it was given, like the runtime's response stream. */
class Sink extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function split(bytes: Buffer): { metadata: HttpResponseMetadata; body: Buffer } {
  const at = bytes.indexOf(METADATA_DELIMITER);
  expect(at, 'the prelude ends with 8 NUL bytes').toBeGreaterThan(0);
  return { metadata: JSON.parse(bytes.subarray(0, at).toString('utf8')) as HttpResponseMetadata, body: bytes.subarray(at + 8) };
}

function records(body: Buffer): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let rest = body.toString('utf8');
  while (rest.length > 0) {
    const nl = rest.indexOf('\n');
    const len = Number(rest.slice(0, nl));
    const bytes = Buffer.from(rest.slice(nl + 1));
    out.push(JSON.parse(bytes.subarray(0, len).toString('utf8')) as Record<string, unknown>);
    rest = bytes.subarray(len).toString('utf8');
  }
  return out;
}

function restEvent(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): RestProxyEvent {
  const text = body === undefined ? null : JSON.stringify(body);
  const all = { 'Content-Type': 'application/json', Host: 'abc.execute-api.eu-west-1.amazonaws.com', ...headers };
  return {
    resource: path,
    path,
    httpMethod: method,
    headers: all,
    multiValueHeaders: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    body: text,
    isBase64Encoded: false,
    requestContext: { requestId: randomUUID(), stage: 'api', httpMethod: method, path: `/api${path}` },
  };
}

const subscribeCall = { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u', name: 'stream-test', failover_timeout: 60 } } };

const masters: Master[] = [];
function newMaster(config: Partial<MasterConfig> = {}): Master {
  const m = new Master({ store: new MemoryItemStore(), canStream: true, log: silentLogger, config: { pollIntervalMs: 20, ...config } });
  masters.push(m);
  return m;
}
afterEach(async () => {
  for (const m of masters.splice(0)) await m.stop();
  delete (globalThis as { awslambda?: unknown }).awslambda;
});

describe('scheduler-stream-handler', () => {
  it('answers SUBSCRIBE with the metadata prelude and a RecordIO stream that ends at the max duration, the framework still connected', async () => {
    const m = newMaster();
    const sink = new Sink();
    const started = Date.now();
    await streamRestEvent(m, restEvent('POST', '/api/v1/scheduler', subscribeCall), sink, { maxStreamMs: 300 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(sink.writableEnded).toBe(true);
    const { metadata, body } = split(sink.bytes);
    expect(metadata.statusCode).toBe(200);
    expect(metadata.headers['Content-Type']).toBe('application/json');
    expect(metadata.headers['Mesos-Stream-Id']).toMatch(/^[0-9a-f-]{36}$/);
    const [subscribed] = records(body);
    expect(subscribed).toMatchObject({ type: 'SUBSCRIBED', subscribed: { heartbeat_interval_seconds: 15 } });
    // A planned end: the client resubscribes at once, so the framework is not marked disconnected.
    const fid = (subscribed as { subscribed: { framework_id: { value: string } } }).subscribed.framework_id.value;
    const fw = await m.registry.getFramework(fid);
    expect(fw).toMatchObject({ connected: true, streamId: metadata.headers['Mesos-Stream-Id'] });

    // Resubscribing with the id (as after a master failover) continues the same framework.
    const again = new Sink();
    await streamRestEvent(m, restEvent('POST', '/api/v1/scheduler', { ...subscribeCall, framework_id: { value: fid }, subscribe: { framework_info: { ...subscribeCall.subscribe.framework_info, id: { value: fid } } } }), again, { maxStreamMs: 50 });
    const second = split(again.bytes);
    expect(records(second.body)[0]).toMatchObject({ type: 'SUBSCRIBED', subscribed: { framework_id: { value: fid } } });
    expect(second.metadata.headers['Mesos-Stream-Id']).not.toBe(metadata.headers['Mesos-Stream-Id']);
  });

  it('streams events logged while it is open, HEARTBEATs between them, and RecordIO framing when asked', async () => {
    const m = newMaster({ heartbeatIntervalSeconds: 0.05 });
    const sink = new Sink();
    const done = streamRestEvent(m, restEvent('POST', '/api/v1/scheduler', subscribeCall, { Accept: 'application/recordio' }), sink, { maxStreamMs: 400 });
    await waitUntil(() => sink.bytes.includes('"HEARTBEAT"') && records(split(sink.bytes).body).filter((r) => r.type === 'HEARTBEAT').length >= 2, 5000, 'two HEARTBEATs');
    await done;
    const { metadata, body } = split(sink.bytes);
    expect(metadata.headers).toMatchObject({ 'Content-Type': 'application/recordio', 'Message-Content-Type': 'application/json' });
    expect(records(body).map((r) => r.type)).toContain('HEARTBEAT');
  });

  it('uses the runtime HttpResponseStream.from when the Lambda runtime provides it', async () => {
    const seen: HttpResponseMetadata[] = [];
    (globalThis as { awslambda?: unknown }).awslambda = {
      streamifyResponse: (fn: unknown) => fn,
      HttpResponseStream: {
        from: (s: Writable, md: HttpResponseMetadata) => {
          seen.push(md);
          return s;
        },
      },
    };
    const sink = new Sink();
    await streamRestEvent(newMaster(), restEvent('GET', '/version'), sink, { maxStreamMs: 1000 });
    expect(seen).toEqual([{ statusCode: 200, headers: { 'Content-Type': 'application/json' } }]);
    // The runtime writes the prelude itself: the body starts at once.
    expect(JSON.parse(sink.bytes.toString('utf8'))).toHaveProperty('version');
  });

  it('answers other calls at once through the same function (GET /version, a DECLINE)', async () => {
    const m = newMaster();
    const handler = createSchedulerStreamHandler({ master: async () => m, maxStreamMs: 50 });
    const version = new Sink();
    await handler(restEvent('GET', '/version'), version);
    const v = split(version.bytes);
    expect(v.metadata).toEqual({ statusCode: 200, headers: { 'Content-Type': 'application/json' } });
    expect(JSON.parse(v.body.toString('utf8'))).toMatchObject({ version: '1.11.0' });

    const sub = new Sink();
    await handler(restEvent('POST', '/api/v1/scheduler', subscribeCall), sub);
    const s = split(sub.bytes);
    const fid = (records(s.body)[0] as { subscribed: { framework_id: { value: string } } }).subscribed.framework_id.value;
    const decline = new Sink();
    const call = { type: 'DECLINE', framework_id: { value: fid }, decline: { offer_ids: [{ value: 'o-1' }] } };
    await handler(restEvent('POST', '/api/v1/scheduler', call, { 'Mesos-Stream-Id': s.metadata.headers['Mesos-Stream-Id']! }), decline);
    expect(split(decline.bytes)).toMatchObject({ metadata: { statusCode: 202 }, body: Buffer.alloc(0) });
    // Without the stream id the caller is refused, naming the header.
    const anon = new Sink();
    await handler(restEvent('POST', '/api/v1/scheduler', call), anon);
    const a = split(anon.bytes);
    expect(a.metadata.statusCode).toBe(400);
    expect(JSON.parse(a.body.toString('utf8'))).toMatchObject({ field: 'Mesos-Stream-Id' });
  });

  it.each([
    ['no httpMethod', { path: '/version' }, 'event.httpMethod'],
    ['a path that is not a string', { httpMethod: 'GET', path: 42 }, 'event.path'],
    ['headers that are not strings', { httpMethod: 'GET', path: '/version', headers: { accept: 7 } }, 'event.headers.accept'],
    ['not an object', 'GET /version', 'event'],
  ])('refuses a malformed event (%s) with a 400 naming the field', async (_name, event, field) => {
    const m = newMaster();
    const sink = new Sink();
    await streamRestEvent(m, event, sink, { maxStreamMs: 1000 });
    const { metadata, body } = split(sink.bytes);
    expect(metadata.statusCode).toBe(400);
    expect(metadata.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(body.toString('utf8'))).toMatchObject({ field });
    expect(await m.registry.listFrameworks()).toEqual([]);
  });

  it('a body that is not JSON is refused before anything changes', async () => {
    const m = newMaster();
    const sink = new Sink();
    await streamRestEvent(m, { ...restEvent('POST', '/api/v1/scheduler'), body: '{"type": "SUBSCRIBE", ' }, sink, { maxStreamMs: 1000 });
    expect(split(sink.bytes).metadata.statusCode).toBe(400);
    expect(await m.registry.listFrameworks()).toEqual([]);
  });

  it('ends before the invocation runs out of time, whatever the configured max', async () => {
    const sink = new Sink();
    const started = Date.now();
    await streamRestEvent(newMaster(), restEvent('POST', '/api/v1/scheduler', subscribeCall), sink, { maxStreamMs: 60_000 }, { getRemainingTimeInMillis: () => 5_200 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(records(split(sink.bytes).body)[0]).toMatchObject({ type: 'SUBSCRIBED' });
  });

  it('a client that goes away ends the stream and disconnects the framework', async () => {
    const m = newMaster();
    const sink = new Sink();
    const done = streamRestEvent(m, restEvent('POST', '/api/v1/scheduler', subscribeCall), sink, { maxStreamMs: 60_000 });
    await waitUntil(() => sink.bytes.includes('SUBSCRIBED'), 5000, 'SUBSCRIBED');
    const fid = (records(split(sink.bytes).body)[0] as { subscribed: { framework_id: { value: string } } }).subscribed.framework_id.value;
    sink.destroy();
    await done;
    expect(await m.registry.getFramework(fid)).toMatchObject({ connected: false });
  });

  it('reads its maximum from the environment, within Lambda limits', () => {
    expect(maxStreamMsFromEnv({})).toBe(14 * 60_000);
    expect(maxStreamMsFromEnv({ STRATUS_STREAM_MAX_SECONDS: '30' })).toBe(30_000);
    expect(() => maxStreamMsFromEnv({ STRATUS_STREAM_MAX_SECONDS: '901' })).toThrow(/STRATUS_STREAM_MAX_SECONDS/);
    expect(() => maxStreamMsFromEnv({ STRATUS_STREAM_MAX_SECONDS: 'soon' })).toThrow(/STRATUS_STREAM_MAX_SECONDS/);
  });
});
