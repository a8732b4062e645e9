import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { ApiGatewayWebSocketEvent, ApiGatewayWebSocketResult } from '../../../src/master-lambda/lambda/agent-socket-handler.js';

// A local stand-in for an API Gateway WebSocket API, for tests and the cloud-cost bench:
//   - a `ws` server on 127.0.0.1 whose connections and messages become API Gateway WebSocket
//     Lambda events ($connect with the upgrade's headers, $default with the message body,
//     $disconnect), handed to the handler in-process; a $connect answered non-2xx refuses the
//     upgrade with that status, as API Gateway does;
//   - the Management API on a second 127.0.0.1 port (managementEndpoint), so the real
//     @aws-sdk/client-apigatewaymanagementapi client pushes through it:
//     POST /@connections/{id} (PostToConnection), GET (GetConnection), DELETE (DeleteConnection),
//     410 GoneException for an unknown connection;
//   - API Gateway's limits: 128 KB per message (a larger one closes the connection with 1009),
//     and the 2-hour connection limit, simulated by forceClose (close code 1001, then $disconnect).
//
// `stats` (read by the cloud-cost bench; every field a running total since start):
//   connections        connections admitted ($connect answered 2xx)
//   refused            upgrades refused at $connect
//   open               connections open now
//   messagesIn         messages from clients (each a $default invocation)
//   messagesOut        messages to clients (PostToConnection calls that reached a connection)
//   messageUnitsIn/Out the same, billed as API Gateway bills them: per 32 KB, rounded up
//   bytesIn/Out        message payload bytes
//   connectionMs       connection time of every connection, closed or still open (connection-minutes × 60,000)
//   managementCalls    Management API requests (including refused ones)
//   invocations        Lambda invocations ($connect + $default + $disconnect)
//   invocationMs       their summed duration, measured around the in-process handler call

export type WebSocketLambda = (event: ApiGatewayWebSocketEvent) => Promise<ApiGatewayWebSocketResult>;

export interface WebSocketApiStats {
  readonly connections: number;
  readonly refused: number;
  readonly open: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly messageUnitsIn: number;
  readonly messageUnitsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly connectionMs: number;
  readonly managementCalls: number;
  readonly invocations: number;
  readonly invocationMs: number;
}

export interface WebSocketApiOptions {
  /** The Lambda behind every route (a function, or a getter for one built after the stand-in). */
  readonly handler: WebSocketLambda;
  readonly stage?: string;
}

const MAX_MESSAGE_BYTES = 128 * 1024;
const UNIT_BYTES = 32 * 1024;

interface Connection {
  readonly id: string;
  readonly ws: WebSocket;
  readonly connectedAt: number;
  lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
}

export class WebSocketApiStandIn {
  /** ws://127.0.0.1:port/stage: where clients connect. */
  url = '';
  /** http://127.0.0.1:port/stage: the Management API endpoint (ApiGatewayManagementApiClient's `endpoint`). */
  managementEndpoint = '';
  private readonly connections = new Map<string, Connection>();
  private readonly counters = { connections: 0, refused: 0, messagesIn: 0, messagesOut: 0, messageUnitsIn: 0, messageUnitsOut: 0, bytesIn: 0, bytesOut: 0, closedMs: 0, managementCalls: 0, invocations: 0, invocationMs: 0 };
  private readonly pending = new Set<Promise<unknown>>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  private readonly server: Server;
  private readonly management: Server;
  private readonly stage: string;
  private readonly apiId = randomBytes(5).toString('hex');

  private constructor(private readonly o: WebSocketApiOptions) {
    this.stage = o.stage ?? 'agents';
    this.server = createServer((_req, res) => {
      res.writeHead(426, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: 'Upgrade Required' }));
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(req, socket, head));
    this.management = createServer((req, res) => {
      this.counters.managementCalls++;
      void this.manage(req).then(({ status, body, headers }) => {
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        res.end(body);
      });
    });
  }

  static async start(options: WebSocketApiOptions): Promise<WebSocketApiStandIn> {
    const s = new WebSocketApiStandIn(options);
    const listen = (server: Server): Promise<number> => new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
    s.url = `ws://127.0.0.1:${await listen(s.server)}/${s.stage}`;
    s.managementEndpoint = `http://127.0.0.1:${await listen(s.management)}/${s.stage}`;
    return s;
  }

  get stats(): WebSocketApiStats {
    const c = this.counters;
    const now = Date.now();
    let openMs = 0;
    for (const x of this.connections.values()) openMs += now - x.connectedAt;
    return {
      connections: c.connections,
      refused: c.refused,
      open: this.connections.size,
      messagesIn: c.messagesIn,
      messagesOut: c.messagesOut,
      messageUnitsIn: c.messageUnitsIn,
      messageUnitsOut: c.messageUnitsOut,
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
      connectionMs: c.closedMs + openMs,
      managementCalls: c.managementCalls,
      invocations: c.invocations,
      invocationMs: c.invocationMs,
    };
  }

  /** The ids of the open connections, oldest first. */
  connectionIds(): string[] {
    return [...this.connections.keys()];
  }

  /** Closes a connection from the API's side, as API Gateway does at its 2-hour limit. */
  forceClose(connectionId: string): void {
    this.connections.get(connectionId)?.ws.close(1001, 'Going away');
  }

  /** Resolves when every invocation started so far has ended. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  async close(): Promise<void> {
    for (const c of this.connections.values()) c.ws.terminate();
    await this.settled();
    await Promise.all([this.server, this.management].map((s) => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r())))));
  }

  private async invoke(event: ApiGatewayWebSocketEvent): Promise<ApiGatewayWebSocketResult> {
    const t = performance.now();
    this.counters.invocations++;
    const p = this.o.handler(event);
    this.pending.add(p);
    try {
      return await p;
    } finally {
      this.pending.delete(p);
      this.counters.invocationMs += performance.now() - t;
    }
  }

  private context(connectionId: string, routeKey: string, eventType: string, connectedAt: number, extra: Record<string, unknown> = {}): ApiGatewayWebSocketEvent['requestContext'] {
    return {
      routeKey,
      eventType,
      connectionId,
      connectedAt,
      domainName: `${this.apiId}.execute-api.us-east-1.amazonaws.com`,
      stage: this.stage,
      apiId: this.apiId,
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      messageDirection: 'IN',
      ...extra,
    };
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // API Gateway's connection ids look like base64 ("L0SM9cOFvHcCIhw="): so do these.
    const id = randomBytes(10).toString('base64');
    const connectedAt = Date.now();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
    let result: ApiGatewayWebSocketResult;
    try {
      result = await this.invoke({ requestContext: this.context(id, '$connect', 'CONNECT', connectedAt), headers, isBase64Encoded: false });
    } catch {
      result = { statusCode: 500 };
    }
    if (result.statusCode < 200 || result.statusCode > 299) {
      this.counters.refused++;
      const body = JSON.stringify({ message: STATUS_CODES[result.statusCode] ?? 'Forbidden' });
      socket.end(`HTTP/1.1 ${result.statusCode} ${STATUS_CODES[result.statusCode] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.counters.connections++;
      const c: Connection = { id, ws, connectedAt, lastActiveAt: connectedAt, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: req.headers['user-agent'] ?? '' };
      this.connections.set(id, c);
      ws.on('message', (data: RawData) => {
        const body = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
        c.lastActiveAt = Date.now();
        this.counters.messagesIn++;
        this.counters.bytesIn += body.length;
        this.counters.messageUnitsIn += Math.max(1, Math.ceil(body.length / UNIT_BYTES));
        void this.invoke({
          requestContext: this.context(id, '$default', 'MESSAGE', connectedAt, { messageId: randomBytes(8).toString('base64') }),
          body: body.toString('utf8'),
          isBase64Encoded: false,
        }).catch(() => undefined);
      });
      ws.on('close', (code: number, reason: Buffer) => {
        if (!this.connections.delete(id)) return;
        this.counters.closedMs += Date.now() - connectedAt;
        void this.invoke({
          requestContext: this.context(id, '$disconnect', 'DISCONNECT', connectedAt, { disconnectStatusCode: code, disconnectReason: reason.toString() }),
          isBase64Encoded: false,
        }).catch(() => undefined);
      });
      ws.on('error', () => undefined);
    });
  }

  private async manage(req: IncomingMessage): Promise<{ status: number; body: string; headers?: Record<string, string> }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const data = Buffer.concat(chunks);
    const m = /^\/([^/]+)\/@connections\/([^/?]+)/.exec(req.url ?? '');
    if (!m || m[1] !== this.stage) return { status: 404, body: JSON.stringify({ message: 'Not Found' }) };
    const c = this.connections.get(decodeURIComponent(m[2]!));
    const gone = { status: 410, body: JSON.stringify({ message: 'Gone' }), headers: { 'x-amzn-ErrorType': 'GoneException' } };
    if (c === undefined) return gone;
    if (req.method === 'POST') {
      if (data.length > MAX_MESSAGE_BYTES) return { status: 413, body: JSON.stringify({ message: 'Payload Too Large' }), headers: { 'x-amzn-ErrorType': 'PayloadTooLargeException' } };
      await new Promise<void>((r) => c.ws.send(data.toString('utf8'), () => r()));
      this.counters.messagesOut++;
      this.counters.bytesOut += data.length;
      this.counters.messageUnitsOut += Math.max(1, Math.ceil(data.length / UNIT_BYTES));
      return { status: 200, body: '{}' };
    }
    if (req.method === 'GET') {
      return {
        status: 200,
        body: JSON.stringify({ ConnectedAt: new Date(c.connectedAt).toISOString(), LastActiveAt: new Date(c.lastActiveAt).toISOString(), Identity: { SourceIp: c.sourceIp, UserAgent: c.userAgent } }),
      };
    }
    if (req.method === 'DELETE') {
      c.ws.close(1000, 'deleted');
      return { status: 204, body: '' };
    }
    return { status: 405, body: JSON.stringify({ message: 'Method Not Allowed' }) };
  }
}
