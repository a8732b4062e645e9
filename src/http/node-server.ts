import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeRecordIO } from '../wire/recordio.js';
import type { Router } from './router.js';
import { isRaw, isStream, type HttpRequest } from './types.js';

// A Router over node:http: the master's local server and the agent endpoint. JSON answers as
// JSON, streams as chunked RecordIO (exactly as a Mesos master answers SUBSCRIBE), raw answers
// (a task's log) as their bytes.

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly server: Server;
  close(): Promise<void>;
}

export interface ServeOptions {
  readonly port?: number;
  readonly host?: string;
}

async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) return undefined; // too large: stop buffering
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function headersOf(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export async function handleNodeRequest(router: Router, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  const url = new URL(req.url ?? '/', 'http://localhost');
  const limit = router.maxBodyBytes;
  // Read before the body: a body cut off for its size takes the socket with it.
  const sock = req.socket;
  const connection =
    sock.remotePort !== undefined && sock.localPort !== undefined
      ? { remoteAddress: sock.remoteAddress ?? '', remotePort: sock.remotePort, localAddress: sock.localAddress ?? '', localPort: sock.localPort }
      : undefined;
  const body = await readBody(req, limit);
  const request: HttpRequest = {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers: headersOf(req),
    // An oversized body is handed on as just over the limit, so the router answers 413.
    body: body ?? ' '.repeat(limit + 1),
    signal: abort.signal,
    ...(connection !== undefined && { connection }),
  };
  const response = await router.handle(request);
  const head = req.method === 'HEAD';
  if (isRaw(response)) {
    res.writeHead(response.status, { ...response.headers, 'Content-Length': response.raw.length });
    res.end(head ? undefined : response.raw);
    return;
  }
  if (!isStream(response)) {
    const text = response.body === undefined ? '' : JSON.stringify(response.body);
    res.writeHead(response.status, { ...(text ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } : {}), ...response.headers });
    res.end(head ? undefined : text);
    return;
  }
  res.writeHead(response.status, { ...response.headers, 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  res.flushHeaders();
  try {
    for await (const record of response.stream) {
      if (abort.signal.aborted) break;
      res.write(encodeRecordIO(record));
    }
  } finally {
    res.end();
  }
}

/** Serves `router` on host:port (port 0 picks a free one). */
export function serve(router: Router, options: ServeOptions = {}): Promise<RunningServer> {
  const server = createServer((req, res) => {
    handleNodeRequest(router, req, res).catch((e: unknown) => {
      // A client that goes away mid-request is its own business, not the server's failure.
      if (req.destroyed || (e as NodeJS.ErrnoException).code === 'ECONNRESET' || (e as Error).message === 'aborted') {
        router.log.debug('client went away mid-request', { method: req.method, path: req.url?.split('?')[0], error: (e as Error).message });
        res.destroy();
        return;
      }
      router.log.error('request failed', { error: e });
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: 'internal error' }));
      } else res.destroy();
    });
  });
  // Requests node:http refuses before any route sees them (a garbage request line, a bad
  // Content-Length, headers over the limit) get a JSON error body like every other refusal.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW' ? 413 : 400;
    const body = JSON.stringify({
      error: status === 431 ? 'the request headers are too large' : `malformed HTTP request: ${err.code ?? err.message}`,
      field: status === 431 ? 'headers' : 'request',
    });
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  server.keepAliveTimeout = 65_000;
  server.requestTimeout = 0; // streams and long-polls stay open
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
        port,
        host,
        server,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
