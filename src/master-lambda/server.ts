import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MasterApi } from './http/router.js';
import { isStream, recordIO, type HttpRequest } from './http/types.js';

// The local HTTP server: the master's API over node:http, with SUBSCRIBE answered as a
// chunked RecordIO stream exactly as a Mesos master does. Used by `stratus dev` and tests.

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
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

export async function handleNodeRequest(api: MasterApi, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  const url = new URL(req.url ?? '/', 'http://localhost');
  const limit = api.ctx.config.maxBodyBytes;
  const body = await readBody(req, limit);
  const request: HttpRequest = {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers: headersOf(req),
    // An oversized body is handed on as just over the limit, so the router answers 413.
    body: body ?? ' '.repeat(limit + 1),
    signal: abort.signal,
  };
  const response = await api.handle(request);
  if (!isStream(response)) {
    const text = response.body === undefined ? '' : JSON.stringify(response.body);
    res.writeHead(response.status, { ...(text ? { 'Content-Type': 'application/json' } : {}), ...response.headers });
    res.end(text);
    return;
  }
  res.writeHead(response.status, { ...response.headers, 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  res.flushHeaders();
  try {
    for await (const record of response.stream) {
      if (abort.signal.aborted) break;
      res.write(recordIO(record));
    }
  } finally {
    res.end();
  }
}

export function startServer(api: MasterApi, options: { port?: number; host?: string } = {}): Promise<RunningServer> {
  const server = createServer((req, res) => {
    handleNodeRequest(api, req, res).catch((e: unknown) => {
      api.ctx.log.error('request failed', { error: e });
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal error' }));
    });
  });
  server.keepAliveTimeout = 65_000;
  server.requestTimeout = 0; // streams and long-polls stay open
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 5050, options.host ?? '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const host = options.host ?? '127.0.0.1';
      resolve({
        url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
        port,
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
