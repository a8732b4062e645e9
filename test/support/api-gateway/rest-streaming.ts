import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { RestProxyEvent, StreamingHandler } from '../../../src/master-lambda/lambda/scheduler-stream-handler.js';

// A local stand-in for an API Gateway REST API whose Lambda proxy integration has response
// transfer mode STREAM (served at the host's root, as behind a custom domain with an empty
// base path). Each HTTP request becomes a REST proxy event (payload 1.0); the streaming handler
// runs in-process with a writable as its response stream; the stand-in reads the metadata
// prelude (JSON, then 8 NUL bytes), answers with its status and headers, and pipes the body
// chunks to the client as a chunked HTTP response. Like the service it cuts a response at the
// integration's maximum (15 minutes) and after the idle timeout (5 minutes without a byte);
// both are options so tests use small values.

export const REST_STREAM_MAX_MS = 15 * 60_000;
export const REST_STREAM_IDLE_MS = 5 * 60_000;

const DELIMITER = Buffer.alloc(8);
const MAX_PRELUDE_BYTES = 64 * 1024;

/**
 * What the stand-in counted since it started (read by the cloud-cost meter):
 * - `requests`: HTTP requests received (each is one billed REST API request);
 * - `invocations`: handler invocations (one InvokeWithResponseStream each: one Lambda request);
 * - `streamedMs`: the invocations' wall time summed, ms (Lambda bills duration × memory: GB-s =
 *   streamedMs / 1000 × memory GB), open ones counted up to now;
 * - `bytes`: response body bytes sent to clients (the prelude excluded);
 * - `open`: invocations running now;
 * - `cutAtMax` / `cutIdle`: responses cut at the maximum duration / the idle timeout;
 * - `badPrelude`: invocations that sent no valid metadata prelude (answered 502).
 */
export interface RestStreamingStats {
  requests: number;
  invocations: number;
  streamedMs: number;
  bytes: number;
  open: number;
  cutAtMax: number;
  cutIdle: number;
  badPrelude: number;
}

export interface RestStreamingOptions {
  readonly handler: StreamingHandler;
  /** The longest one response may stream (API Gateway and Lambda: 15 minutes). */
  readonly maxDurationMs?: number;
  /** A response with no byte for this long is cut (API Gateway REST streaming: 5 minutes). */
  readonly idleTimeoutMs?: number;
  readonly stage?: string;
}

export class RestStreamingApi {
  private server: Server | undefined;
  private readonly opened = new Map<number, number>(); // invocation -> start (performance.now)
  private nextInvocation = 0;
  private closedMs = 0;
  private held: { match: (event: RestProxyEvent) => boolean; waiting: (() => void)[] } | undefined;
  private readonly counts = { requests: 0, invocations: 0, bytes: 0, cutAtMax: 0, cutIdle: 0, badPrelude: 0 };
  url = '';

  constructor(readonly options: RestStreamingOptions) {}

  get stats(): RestStreamingStats {
    const now = performance.now();
    let openMs = 0;
    for (const start of this.opened.values()) openMs += now - start;
    return { ...this.counts, streamedMs: Math.round(this.closedMs + openMs), open: this.opened.size };
  }

  /** `host:port`, for clients that take a master address (pymesos). */
  get address(): string {
    return this.url.replace(/^http:\/\//, '');
  }

  /** Requests that arrive from now on (those `match` picks, all by default) wait, not invoked, until `release()`. */
  hold(match: (event: RestProxyEvent) => boolean = () => true): void {
    this.held ??= { match, waiting: [] };
  }

  /** Requests waiting for `release()`. */
  get waiting(): number {
    return this.held?.waiting.length ?? 0;
  }

  release(): void {
    const held = this.held?.waiting ?? [];
    this.held = undefined;
    for (const go of held) go();
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.serve(req, res).catch(() => res.destroy());
    });
    this.server.requestTimeout = 0;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.release();
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counts.requests++;
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const event = this.toEvent(req, Buffer.concat(chunks));
    if (this.held?.match(event)) await new Promise<void>((go) => this.held!.waiting.push(go));
    const maxMs = this.options.maxDurationMs ?? REST_STREAM_MAX_MS;
    const idleMs = this.options.idleTimeoutMs ?? REST_STREAM_IDLE_MS;
    const id = this.nextInvocation++;
    const started = performance.now();
    this.counts.invocations++;
    this.opened.set(id, started);

    let prelude: Buffer | undefined = Buffer.alloc(0); // undefined once the metadata is read
    let cut = false;
    const finish = (): void => {
      if (!this.opened.delete(id)) return;
      this.closedMs += performance.now() - started;
      clearTimeout(maxTimer);
      clearTimeout(idleTimer);
    };
    // A cut is abrupt, as when the service drops the connection: no terminating chunk.
    const cutOff = (why: 'cutAtMax' | 'cutIdle'): void => {
      if (cut) return;
      cut = true;
      this.counts[why]++;
      out.destroy();
      res.destroy();
      finish();
    };
    const maxTimer = setTimeout(() => cutOff('cutAtMax'), maxMs);
    let idleTimer = setTimeout(() => cutOff('cutIdle'), idleMs);
    const touch = (): void => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => cutOff('cutIdle'), idleMs);
    };

    const out = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        if (cut) return cb();
        let body = chunk;
        if (prelude !== undefined) {
          const buf = Buffer.concat([prelude, chunk]);
          const at = buf.indexOf(DELIMITER);
          if (at < 0) {
            if (buf.length > MAX_PRELUDE_BYTES) return cb(new Error('no metadata prelude'));
            prelude = buf;
            return cb();
          }
          const metadata = parseMetadata(buf.subarray(0, at));
          if (!metadata) return cb(new Error('the metadata prelude is not JSON with a statusCode'));
          prelude = undefined;
          res.writeHead(metadata.statusCode, metadata.headers);
          res.flushHeaders();
          body = buf.subarray(at + 8);
        }
        if (body.length === 0) return cb();
        touch();
        this.counts.bytes += body.length;
        res.write(body, () => cb());
      },
      final: (cb) => {
        if (prelude !== undefined) return cb(new Error('the response ended before its metadata prelude'));
        res.end(() => cb());
      },
    });
    out.on('error', () => {
      if (cut) return;
      if (!res.headersSent) {
        this.counts.badPrelude++;
        gatewayError(res);
      } else res.destroy();
    });
    // The client went away: the function's response stream closes under it.
    res.on('close', () => {
      if (!out.writableFinished) out.destroy();
      finish();
    });

    const deadline = started + maxMs;
    try {
      await this.options.handler(event, out, { getRemainingTimeInMillis: () => Math.max(0, deadline - performance.now()) });
      if (!out.writableEnded && !out.destroyed) out.end();
    } catch {
      if (!res.headersSent && !cut) gatewayError(res);
      else res.destroy();
    } finally {
      await new Promise<void>((r) => (res.writableFinished || res.destroyed ? r() : res.once('close', () => r())));
      finish();
    }
  }

  private toEvent(req: IncomingMessage, body: Buffer): RestProxyEvent {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const headers: Record<string, string> = {};
    const multiValueHeaders: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(req.headersDistinct)) {
      if (!v) continue;
      headers[k] = v[v.length - 1]!;
      multiValueHeaders[k] = v;
    }
    const query: Record<string, string> = {};
    const multiQuery: Record<string, string[]> = {};
    for (const [k, v] of url.searchParams) {
      query[k] = v;
      (multiQuery[k] ??= []).push(v);
    }
    const stage = this.options.stage ?? 'api';
    const method = req.method ?? 'GET';
    return {
      resource: url.pathname,
      path: url.pathname,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters: url.searchParams.size ? query : null,
      multiValueQueryStringParameters: url.searchParams.size ? multiQuery : null,
      pathParameters: null,
      stageVariables: null,
      body: body.length ? body.toString('utf8') : null,
      isBase64Encoded: false,
      requestContext: {
        accountId: '123456789012',
        apiId: 'standin',
        stage,
        requestId: randomUUID(),
        httpMethod: method,
        path: `/${stage}${url.pathname}`,
        resourcePath: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? null },
        requestTimeEpoch: Date.now(),
      },
    };
  }
}

function parseMetadata(bytes: Buffer): { statusCode: number; headers: Record<string, string> } | undefined {
  try {
    const m = JSON.parse(bytes.toString('utf8')) as { statusCode?: unknown; headers?: Record<string, string> };
    if (typeof m.statusCode !== 'number') return undefined;
    return { statusCode: m.statusCode, headers: m.headers ?? {} };
  } catch {
    return undefined;
  }
}

/** What API Gateway answers when the integration fails. */
function gatewayError(res: ServerResponse): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(502, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ message: 'Internal server error' }));
}
