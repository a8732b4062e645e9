import type { Writable } from 'node:stream';
import { z } from 'zod';
import { createLogger } from '../../core/logger.js';
import { errorResponse } from '../../http/error-response.js';
import { isRaw, isStream, type HttpRequest, type HttpResponse } from '../../http/types.js';
import { storeFromEnv } from '../../state/store-from-env.js';
import { encodeRecordIO } from '../../wire/recordio.js';
import { parse } from '../../wire/validate.js';
import type { MasterConfig } from '../config.js';
import { Master } from '../master.js';
import { InProcessNotifier } from '../notifier.js';
import { PLANNED_STREAM_END } from '../use-cases/event-delivery.js';
import { authenticatorForRegion } from './credentials-secret.js';
import { TickTriggerNotifier } from './tick-trigger.js';

// API Gateway REST API (proxy events, payload 1.0) with response streaming -> the master's
// API, streaming allowed: SUBSCRIBE answers with the chunked RecordIO stream, exactly as the
// local server does, so unmodified Mesos clients follow it; every other call answers at once
// through the same function. The stream ends on purpose before Lambda's 15 minutes
// (maxStreamMs); the client resubscribes with its framework id, as after a master failover.
// No process tells this container of new events, so the stream re-reads the log head every
// pollIntervalMs. Imports are kept to the master and the DynamoDB store (no autoscaler,
// federation or metrics) so the function runs in 128 MB.

/** Lambda allows 15 minutes; the stream ends a minute before, cleanly. */
export const DEFAULT_STREAM_MAX_MS = 14 * 60_000;
/** Ended before the invocation's own deadline by this much, whatever maxStreamMs says. */
const DEADLINE_MARGIN_MS = 5_000;

/**
 * The stream's table reads (the cost of a streaming framework): the log head every 1 s, the
 * framework item every 10 s, a liveness beat every 15 s (4 per frameworkDisconnectMs).
 */
export const STREAM_MASTER_CONFIG: Partial<MasterConfig> = { pollIntervalMs: 1_000, frameworkRecheckMs: 10_000, frameworkBeatMs: 15_000 };

/** Environment of the streaming function (set by cdk/lib/scheduler-stream-api.ts). */
export const STREAM_ENV = { maxSeconds: 'STRATUS_STREAM_MAX_SECONDS', pollMs: 'STRATUS_STREAM_POLL_MS' } as const;

const headerMap = z.record(z.string(), z.string().nullable());
const multiMap = z.record(z.string(), z.array(z.string()).nullable());

/** The REST API's Lambda proxy event (payload 1.0); fields the master does not read pass through. */
export const restProxyEvent = z.looseObject({
  httpMethod: z.string().regex(/^[A-Za-z]{1,16}$/, 'must be an HTTP method'),
  path: z.string().max(8192).startsWith('/', 'must start with /'),
  headers: headerMap.nullish(),
  multiValueHeaders: multiMap.nullish(),
  queryStringParameters: headerMap.nullish(),
  multiValueQueryStringParameters: multiMap.nullish(),
  body: z.string().nullish(),
  isBase64Encoded: z.boolean().nullish(),
  requestContext: z.looseObject({}).nullish(),
});
export type RestProxyEvent = z.input<typeof restProxyEvent>;

/** What API Gateway reads before the body: the response's status and headers. */
export interface HttpResponseMetadata {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
}

/** The context methods used (the Lambda context has more). */
export interface StreamingContext {
  getRemainingTimeInMillis?: () => number;
}

export type StreamingHandler = (event: unknown, responseStream: Writable, context?: StreamingContext) => Promise<void>;

interface LambdaStreamingRuntime {
  streamifyResponse(fn: StreamingHandler): unknown;
  HttpResponseStream: { from(stream: Writable, metadata: HttpResponseMetadata): Writable };
}

/**
 * The Node.js Lambda runtime's streaming API (absent in tests and the local stand-in). Checked
 * by its functions: the AWS SDK defines an empty `globalThis.awslambda` of its own.
 */
function runtime(): LambdaStreamingRuntime | undefined {
  const rt = (globalThis as { awslambda?: Partial<LambdaStreamingRuntime> }).awslambda;
  return typeof rt?.streamifyResponse === 'function' && typeof rt.HttpResponseStream?.from === 'function' ? (rt as LambdaStreamingRuntime) : undefined;
}

/** Eight NUL bytes end the JSON metadata prelude (content type application/vnd.awslambda.http-integration-response). */
export const METADATA_DELIMITER = Buffer.alloc(8);

/**
 * The stream with the response's metadata in front of its body, as API Gateway expects it:
 * the runtime's HttpResponseStream.from when there is one, else the same bytes written here.
 */
export function withMetadata(stream: Writable, metadata: HttpResponseMetadata): Writable {
  const rt = runtime();
  if (rt) return rt.HttpResponseStream.from(stream, metadata);
  stream.write(JSON.stringify(metadata));
  stream.write(METADATA_DELIMITER);
  return stream;
}

function write(stream: Writable, chunk: string | Buffer): Promise<void> {
  if (stream.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (e?: Error): void => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', done);
      if (e instanceof Error) reject(e);
      else resolve();
    };
    stream.once('drain', done).once('error', done).once('close', done);
  });
}

function end(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableEnded || stream.destroyed) return resolve();
    stream.end(() => resolve());
  });
}

/** The proxy event as the master's request; a malformed event is a ValidationError naming the field. */
export function toHttpRequest(raw: unknown, signal?: AbortSignal): HttpRequest {
  const event = parse(restProxyEvent, raw, 'event');
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== null) headers[k.toLowerCase()] = v;
  // Repeated headers arrive only in multiValueHeaders; joined as HTTP folds them.
  for (const [k, v] of Object.entries(event.multiValueHeaders ?? {})) if (v && v.length > 0) headers[k.toLowerCase()] = v.join(', ');
  const query = new URLSearchParams();
  const multi = event.multiValueQueryStringParameters ?? {};
  for (const [k, vs] of Object.entries(multi)) for (const v of vs ?? []) query.append(k, v);
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== null && !(k in multi)) query.set(k, v);
  const body = event.body == null ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return { method: event.httpMethod.toUpperCase(), path: event.path, query, headers, body, ...(signal ? { signal } : {}) };
}

export interface StreamOptions {
  /** The stream ends (cleanly, for the client to resubscribe) this long after it began. */
  readonly maxStreamMs: number;
}

/** Answers one REST proxy event on `out`: metadata, then the body (a RecordIO stream for SUBSCRIBE). */
export async function streamRestEvent(m: Master, event: unknown, out: Writable, options: StreamOptions, context?: StreamingContext): Promise<void> {
  const abort = new AbortController();
  // The client went away (API Gateway closes the invocation's stream): its stream is over.
  const gone = (): void => abort.abort();
  out.once('close', gone).once('error', gone);
  const remaining = context?.getRemainingTimeInMillis?.();
  const limitMs = Math.max(0, Math.min(options.maxStreamMs, remaining === undefined ? Infinity : remaining - DEADLINE_MARGIN_MS));
  let timer: NodeJS.Timeout | undefined;
  try {
    let response: HttpResponse;
    try {
      response = await m.api.handle(toHttpRequest(event, abort.signal));
    } catch (e) {
      response = errorResponse(e, m.ctx.log); // the event itself was malformed: 400 naming the field
    }
    if (isRaw(response)) {
      await write(withMetadata(out, { statusCode: response.status, headers: response.headers }), response.raw);
      return;
    }
    if (!isStream(response)) {
      const text = response.body === undefined ? '' : JSON.stringify(response.body);
      const body = withMetadata(out, { statusCode: response.status, headers: { ...(text ? { 'Content-Type': 'application/json' } : {}), ...response.headers } });
      // Written even when empty: the runtime sends the metadata on the first write.
      await write(body, text);
      return;
    }
    const body = withMetadata(out, { statusCode: response.status, headers: { ...response.headers, 'Cache-Control': 'no-cache' } });
    timer = setTimeout(() => abort.abort(PLANNED_STREAM_END), limitMs);
    for await (const record of response.stream) {
      if (abort.signal.aborted && abort.signal.reason !== PLANNED_STREAM_END) break;
      await write(body, encodeRecordIO(record));
    }
  } finally {
    clearTimeout(timer);
    out.off('close', gone).off('error', gone);
    await end(out);
  }
}

let master: Promise<{ master: Master; trigger?: TickTriggerNotifier }> | undefined;

/** This container's master: the region's table and credentials, streaming allowed, no leader. */
function containerMaster(env: NodeJS.ProcessEnv): Promise<{ master: Master; trigger?: TickTriggerNotifier }> {
  master ??= (async () => {
    const log = createLogger('stratus-scheduler-stream');
    const tickFn = env.STRATUS_TICK_FUNCTION;
    // ACCEPT, DECLINE, REVIVE... through this API start an allocation round as the HTTP API's do.
    const trigger = tickFn ? new TickTriggerNotifier(new InProcessNotifier(), tickFn, log) : undefined;
    const pollIntervalMs = env[STREAM_ENV.pollMs] ? Number(env[STREAM_ENV.pollMs]) : STREAM_MASTER_CONFIG.pollIntervalMs;
    if (!Number.isFinite(pollIntervalMs) || pollIntervalMs! <= 0) throw new Error(`${STREAM_ENV.pollMs} must be a positive number of milliseconds`);
    const m = new Master({
      store: storeFromEnv(env),
      canStream: true,
      authenticator: await authenticatorForRegion(env),
      log,
      config: { ...STREAM_MASTER_CONFIG, pollIntervalMs: pollIntervalMs! },
      ...(trigger ? { notifier: trigger } : {}),
    });
    return { master: m, ...(trigger ? { trigger } : {}) };
  })();
  master.catch(() => (master = undefined)); // a failed start (the secret unreadable) is retried next time
  return master;
}

/** The stream's maximum from the environment (seconds), DEFAULT_STREAM_MAX_MS when unset. */
export function maxStreamMsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[STREAM_ENV.maxSeconds];
  if (text === undefined || text === '') return DEFAULT_STREAM_MAX_MS;
  const s = Number(text);
  if (!Number.isFinite(s) || s <= 0 || s > 900) throw new Error(`${STREAM_ENV.maxSeconds} must be a number of seconds in (0, 900]`);
  return s * 1000;
}

/** A streaming handler over a given master (tests and the local stand-in build one). */
export function createSchedulerStreamHandler(deps: { master: () => Promise<Master>; maxStreamMs?: number; afterEach?: () => Promise<void> }): StreamingHandler {
  return async (event, responseStream, context) => {
    const m = await deps.master();
    try {
      await streamRestEvent(m, event, responseStream, { maxStreamMs: deps.maxStreamMs ?? DEFAULT_STREAM_MAX_MS }, context);
    } finally {
      await deps.afterEach?.();
    }
  };
}

/** The plain (event, responseStream, context) function, configured from the environment. */
export const schedulerStreamHandler: StreamingHandler = async (event, responseStream, context) => {
  const { master: m, trigger } = await containerMaster(process.env);
  await createSchedulerStreamHandler({ master: async () => m, maxStreamMs: maxStreamMsFromEnv(), afterEach: async () => trigger?.flush() })(event, responseStream, context);
};

/** The Lambda entry point: streamified by the runtime when it runs there. */
export const handler: unknown = runtime()?.streamifyResponse(schedulerStreamHandler) ?? schedulerStreamHandler;
