import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { itemSize, readUnits, sqsRequestUnits, valueSize, webSocketMessageUnits, writeUnits, type UnitLedger, type WireValue } from './cloud-units.js';

// The cloud-cost meter's AWS side: a proxy on 127.0.0.1 in front of moto that every AWS SDK
// client of the handlers talks to (AWS_ENDPOINT_URL), so every billable request is counted at
// the client whatever module sends it: DynamoDB read/write units from item sizes, SQS requests
// per 64 KB chunk, DynamoDB Streams reads. Each request is put on the books of the action that
// sent it: the bench runs each invocation inside `withMeterTag`, and an `x-stratus-meter`
// header carries the tag from the SDK's HTTP request to the proxy (stripped before moto).
// Lambda Invoke calls (the API handler triggering the leader) are answered here by a hook that
// runs the target handler in-process, as Lambda would. API Gateway Management API calls
// (PostToConnection: replies and work nudges to agents' WebSockets) go on to the WebSocket
// stand-in (`managementUpstream`); the calls are free, the message each delivers is a billed
// WebSocket message (per 32 KB), booked to the action that sent it.

const TAG_HEADER = 'x-stratus-meter';
const tags = new AsyncLocalStorage<string>();

/** Runs `fn` with AWS requests booked to `tag`. */
export function withMeterTag<T>(tag: string, fn: () => T): T {
  return tags.run(tag, fn);
}

export const currentMeterTag = (): string | undefined => tags.getStore();

let patched = false;
/** Makes the SDK's HTTP requests carry the current tag (the SDK calls `http.request` at request time). */
function patchHttpRequest(): void {
  if (patched) return;
  patched = true;
  const original = http.request;
  const tagged = function (this: unknown, ...args: unknown[]): http.ClientRequest {
    const req = (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
    const tag = tags.getStore();
    if (tag !== undefined && !req.headersSent) req.setHeader(TAG_HEADER, tag);
    return req;
  };
  (http as { request: unknown }).request = tagged;
}

export type InvokeHook = (functionName: string, payload: string, invocationType: string) => Promise<{ status: number; body: string }>;

export interface AwsMeterStats {
  /** Requests by service and action, e.g. "dynamodb.GetItem". */
  readonly actions: Map<string, number>;
  /** Requests that arrived without a tag (a module the bench does not run under withMeterTag). */
  untagged: number;
  /** API Gateway Management API calls (PostToConnection ...), and the messages (32 KB units) they delivered. */
  managementCalls: number;
  managementBytes: number;
  managementMessageUnits: number;
}

type Attrs = Map<string, number>; // attribute name -> size in bytes (name included)

const CONTROL_PLANE = new Set(['CreateTable', 'DeleteTable', 'DescribeTable', 'ListTables', 'UpdateTimeToLive', 'DescribeTimeToLive', 'UpdateTable', 'DescribeContinuousBackups', 'ListTagsOfResource', 'TagResource']);

function attrsOf(item: Record<string, WireValue>): Attrs {
  const m: Attrs = new Map();
  for (const [k, v] of Object.entries(item)) m.set(k, Buffer.byteLength(k) + valueSize(v));
  return m;
}
const sizeOf = (a: Attrs): number => [...a.values()].reduce((n, v) => n + v, 0);

interface UpdateInput {
  TableName: string;
  Key: Record<string, WireValue>;
  UpdateExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, WireValue>;
}

export class AwsMeter {
  readonly stats: AwsMeterStats = { actions: new Map(), untagged: 0, managementCalls: 0, managementBytes: 0, managementMessageUnits: 0 };
  /** Where Management API calls go (the WebSocket stand-in's management origin); unset: to `upstream`. */
  managementUpstream: string | undefined;
  /** The last image of each item the meter saw, so a write is billed on the larger of before and after. */
  private readonly images = new Map<string, Attrs>();
  private server: http.Server | undefined;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  url = '';

  constructor(
    private readonly ledger: UnitLedger,
    private readonly upstream: string,
    private readonly invoke?: InvokeHook,
  ) {}

  async start(): Promise<this> {
    patchHttpRequest();
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
    this.agent.destroy();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const rawTag = req.headers[TAG_HEADER];
    const tag = typeof rawTag === 'string' ? rawTag : 'untagged';
    if (tag === 'untagged') this.stats.untagged++;
    const path = req.url ?? '/';
    try {
      const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(path);
      if (invoke && this.invoke) {
        this.count('lambda.Invoke');
        const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
        const out = await this.invoke(decodeURIComponent(invoke[1]!), body.toString('utf8'), type);
        res.writeHead(out.status, { 'content-type': 'application/json' }).end(out.body);
        return;
      }
      const headers: http.OutgoingHttpHeaders = { ...req.headers };
      delete headers[TAG_HEADER];
      const management = path.includes('/@connections/');
      const up = await this.forward(req.method ?? 'GET', path, headers, body, management ? this.managementUpstream : undefined);
      res.writeHead(up.status, up.headers).end(up.body);
      this.book(tag, String(req.headers['x-amz-target'] ?? ''), path, body, up.status, up.headers, up.body);
    } catch (e) {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `meter proxy: ${(e as Error).message}` }));
    }
  }

  private forward(method: string, path: string, headers: http.OutgoingHttpHeaders, body: Buffer, upstream = this.upstream): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    const target = new URL(path, upstream);
    return new Promise((ok, fail) => {
      const r = http.request(target, { method, headers: { ...headers, host: target.host }, agent: this.agent }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => ok({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(parts) }));
        res.on('error', fail);
      });
      r.on('error', fail);
      r.end(body);
    });
  }

  private count(action: string): void {
    this.stats.actions.set(action, (this.stats.actions.get(action) ?? 0) + 1);
  }

  private book(tag: string, target: string, path: string, reqBody: Buffer, status: number, resHeaders: http.IncomingHttpHeaders, resBody: Buffer): void {
    if (path.includes('/@connections/')) {
      this.stats.managementCalls++;
      this.count('apigatewaymanagementapi');
      // Only a PostToConnection that reached a connection delivered a message (410: gone).
      if (status >= 200 && status < 300 && reqBody.length > 0) {
        const units = webSocketMessageUnits(reqBody.length);
        this.stats.managementBytes += reqBody.length;
        this.stats.managementMessageUnits += units;
        this.ledger.add(tag, { webSocketMessages: units });
      }
      return;
    }
    const [service, action] = target.split('.');
    if (service === 'DynamoDB_20120810' && action) return this.bookDynamo(tag, action, reqBody, status, resHeaders, resBody);
    if (service === 'DynamoDBStreams_20120810' && action) {
      this.count(`streams.${action}`);
      if (action === 'GetRecords') this.ledger.add(tag, { streamsReadRequests: 1 });
      return;
    }
    const sqsAction = service === 'AmazonSQS' ? action : new URLSearchParams(reqBody.toString('utf8')).get('Action') ?? undefined;
    if (sqsAction && (service === 'AmazonSQS' || /sqs|queue/i.test(path) || reqBody.includes('QueueUrl'))) {
      this.count(`sqs.${sqsAction}`);
      this.ledger.add(tag, { sqsRequests: sqsRequestUnits(Math.max(reqBody.length, resBody.length)) });
      return;
    }
    this.count(`other.${target || path}`);
  }

  private bookDynamo(tag: string, action: string, reqBody: Buffer, status: number, resHeaders: http.IncomingHttpHeaders, resBody: Buffer): void {
    this.count(`dynamodb.${action}`);
    if (CONTROL_PLANE.has(action)) return;
    // Throttled or failed for the server's reasons: nothing consumed.
    if (status >= 500) return;
    const req = JSON.parse(reqBody.toString('utf8') || '{}') as Record<string, unknown>;
    const text = resHeaders['content-encoding'] === 'gzip' ? gunzipSync(resBody).toString('utf8') : resBody.toString('utf8');
    const res = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    let rru = 0;
    let wru = 0;
    const table = String(req.TableName ?? '');
    switch (action) {
      case 'GetItem': {
        const item = res.Item as Record<string, WireValue> | undefined;
        if (item) this.remember(table, item, attrsOf(item));
        rru = readUnits(item ? itemSize(item) : 0, req.ConsistentRead === true);
        break;
      }
      case 'Query':
      case 'Scan': {
        // Billed on the items read before the filter; the proxy sees those after it (the filter only drops expired items).
        const items = (res.Items as Record<string, WireValue>[] | undefined) ?? [];
        if (!req.IndexName) for (const it of items) this.remember(table, it, attrsOf(it));
        rru = readUnits(items.reduce((n, it) => n + itemSize(it), 0), req.ConsistentRead === true);
        break;
      }
      case 'BatchGetItem': {
        const byTable = (res.Responses as Record<string, Record<string, WireValue>[]> | undefined) ?? {};
        const asked = (req.RequestItems as Record<string, { ConsistentRead?: boolean }> | undefined) ?? {};
        for (const [t, items] of Object.entries(byTable)) for (const it of items) rru += readUnits(itemSize(it), asked[t]?.ConsistentRead === true);
        break;
      }
      case 'PutItem':
        wru = writeUnits(this.put(table, req.Item as Record<string, WireValue>));
        break;
      case 'UpdateItem':
        wru = writeUnits(this.update(req as unknown as UpdateInput));
        break;
      case 'DeleteItem':
        wru = writeUnits(this.delete(table, req.Key as Record<string, WireValue>));
        break;
      case 'BatchWriteItem': {
        for (const [t, reqs] of Object.entries((req.RequestItems as Record<string, { PutRequest?: { Item: Record<string, WireValue> }; DeleteRequest?: { Key: Record<string, WireValue> } }[]>) ?? {})) {
          for (const r of reqs) wru += writeUnits(r.PutRequest ? this.put(t, r.PutRequest.Item) : this.delete(t, r.DeleteRequest!.Key));
        }
        break;
      }
      case 'TransactWriteItems': {
        // Every item of a transaction, condition checks included, costs twice a plain write.
        const cancelled = status >= 400;
        for (const ti of (req.TransactItems as Record<string, Record<string, unknown>>[]) ?? []) {
          if (ti.Update) wru += writeUnits(cancelled ? this.known(ti.Update as unknown as UpdateInput) : this.update(ti.Update as unknown as UpdateInput), true);
          else if (ti.Put) wru += writeUnits(cancelled ? itemSize(ti.Put.Item as Record<string, WireValue>) : this.put(String(ti.Put.TableName), ti.Put.Item as Record<string, WireValue>), true);
          else if (ti.Delete) wru += writeUnits(cancelled ? this.known(ti.Delete as unknown as UpdateInput) : this.delete(String(ti.Delete.TableName), ti.Delete.Key as Record<string, WireValue>), true);
          else if (ti.ConditionCheck) wru += writeUnits(this.known(ti.ConditionCheck as unknown as UpdateInput), true);
        }
        break;
      }
      case 'TransactGetItems':
        for (const r of (res.Responses as { Item?: Record<string, WireValue> }[] | undefined) ?? []) rru += readUnits(r.Item ? itemSize(r.Item) : 0, true) * 2;
        break;
      default:
        break;
    }
    this.ledger.add(tag, { dynamoRequests: 1, dynamoRru: rru, dynamoWru: wru });
  }

  private keyId(table: string, item: Record<string, WireValue>): string {
    return `${table}\u0000${item.pk?.S ?? ''}\u0000${item.sk?.S ?? ''}`;
  }

  private remember(table: string, item: Record<string, WireValue>, attrs: Attrs): void {
    this.images.set(this.keyId(table, item), attrs);
  }

  /** The size of the item as last seen (its key alone when never seen). */
  private known(input: { TableName?: string; Key?: Record<string, WireValue> }): number {
    const key = input.Key ?? {};
    return sizeOf(this.images.get(this.keyId(String(input.TableName ?? ''), key)) ?? attrsOf(key));
  }

  private put(table: string, item: Record<string, WireValue>): number {
    const before = sizeOf(this.images.get(this.keyId(table, item)) ?? new Map());
    const after = attrsOf(item);
    this.remember(table, item, after);
    return Math.max(before, sizeOf(after));
  }

  private delete(table: string, key: Record<string, WireValue>): number {
    const id = this.keyId(table, key);
    const before = this.images.get(id);
    this.images.delete(id);
    return sizeOf(before ?? attrsOf(key));
  }

  /** The after-image of an UpdateItem (its SET and REMOVE clauses on the last image seen); billed on the larger. */
  private update(u: UpdateInput): number {
    const id = this.keyId(u.TableName, u.Key);
    const before = this.images.get(id) ?? attrsOf(u.Key);
    const after: Attrs = new Map(before);
    for (const [k, v] of attrsOf(u.Key)) after.set(k, v);
    const names = u.ExpressionAttributeNames ?? {};
    const values = u.ExpressionAttributeValues ?? {};
    const name = (t: string): string => names[t] ?? t;
    const expr = u.UpdateExpression ?? '';
    const setPart = /SET\s+(.*?)(?=\s+REMOVE\s|$)/is.exec(expr)?.[1];
    const removePart = /REMOVE\s+(.*?)(?=\s+SET\s|$)/is.exec(expr)?.[1];
    for (const assignment of setPart ? splitTopLevel(setPart) : []) {
      const [lhs, rhs] = assignment.split(/=(.*)/s).map((s) => s.trim());
      if (!lhs || !rhs) continue;
      const attr = name(lhs);
      const direct = /^:[A-Za-z0-9_]+$/.test(rhs) ? values[rhs] : undefined;
      // Arithmetic (a version counter): a small number.
      const size = direct ? valueSize(direct) : 4;
      after.set(attr, Buffer.byteLength(attr) + size);
    }
    for (const r of removePart ? splitTopLevel(removePart) : []) after.delete(name(r.trim()));
    this.images.set(id, after);
    return Math.max(sizeOf(before), sizeOf(after));
  }
}

/** Splits "a = b, c = if_not_exists(c, :z) + :o" on the commas outside parentheses. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur);
  return out;
}
