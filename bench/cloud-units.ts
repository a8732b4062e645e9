// The cloud-cost meter's arithmetic: AWS's billable units, computed from what a client sends and
// receives (item sizes, payload sizes, measured durations), and the list prices that turn them
// into dollars. Pure functions, so the rules are unit-tested on their own.

/** us-east-1 list prices, in dollars per unit. */
export const PRICES = {
  /** Lambda (arm64 bills 20 % less; the x86 figure is the one usually quoted and the upper bound). */
  lambdaGbSecond: 0.0000166667,
  lambdaRequest: 0.2 / 1e6,
  httpApiRequest: 1.0 / 1e6,
  restApiRequest: 3.5 / 1e6,
  /** Per 32 KB unit of a message, either direction. */
  webSocketMessage: 1.0 / 1e6,
  webSocketConnectionMinute: 0.25 / 1e6,
  dynamoRru: 0.125 / 1e6,
  dynamoWru: 0.625 / 1e6,
  /** Per 64 KB chunk of a request. */
  sqsRequest: 0.4 / 1e6,
  /** DynamoDB Streams GetRecords read request units ($0.02 per 100,000); free when Lambda's event source mapping reads them. */
  streamsReadRequest: 0.02 / 1e5,
} as const;

/** The always-on Mesos control plane the issue compares with: 3 masters + 3 ZooKeeper on m5.large. */
export const MESOS_CONTROL_PLANE = { instances: 6, instanceType: 'm5.large', dollarsPerHour: 0.096 } as const;
export const HOURS_PER_MONTH = 730;

/** Memory configured per Lambda function in cdk/lib (region-stack.ts, leader-tick.ts, gossip-receiver.ts, scheduler-stream-api.ts); a unit test keeps them equal. */
export const LAMBDA_MEMORY_MB = { api: 1024, tick: 1024, 'gossip-receiver': 512, 'scheduler-stream': 128, 'agent-socket': 256 } as const satisfies Record<string, number>;
export const mesosControlPlaneMonthly = (): number => MESOS_CONTROL_PLANE.instances * MESOS_CONTROL_PLANE.dollarsPerHour * HOURS_PER_MONTH;

export const PRICE_LABELS: readonly { readonly item: string; readonly price: string }[] = [
  { item: 'Lambda compute', price: '$0.0000166667 per GB-s (duration × configured memory)' },
  { item: 'Lambda requests', price: '$0.20 per million invocations' },
  { item: 'API Gateway HTTP API', price: '$1.00 per million requests' },
  { item: 'API Gateway REST API', price: '$3.50 per million requests' },
  { item: 'API Gateway WebSocket', price: '$1.00 per million messages (32 KB units) + $0.25 per million connection-minutes' },
  { item: 'DynamoDB on-demand', price: '$0.125 per million RRU, $0.625 per million WRU' },
  { item: 'SQS standard', price: '$0.40 per million requests (64 KB chunks)' },
  { item: 'DynamoDB Streams', price: '$0.02 per 100,000 GetRecords calls (free when read by a Lambda trigger)' },
  { item: 'Mesos control plane', price: '6 × m5.large (3 masters + 3 ZooKeeper) at $0.096/h' },
];

// ---- DynamoDB item sizes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html) ----

/** An attribute value in DynamoDB's JSON wire format. */
export type WireValue = {
  S?: string;
  N?: string;
  B?: string;
  BOOL?: boolean;
  NULL?: boolean;
  SS?: string[];
  NS?: string[];
  BS?: string[];
  M?: Record<string, WireValue>;
  L?: WireValue[];
};

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** A number's size: about one byte per two significant digits, plus one. */
export function numberSize(n: string): number {
  const digits = n.replace(/^[-+]/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

export function valueSize(v: WireValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return Buffer.from(v.B, 'base64').length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((n, s) => n + utf8(s), 0);
  if (v.NS) return v.NS.reduce((n, s) => n + numberSize(s), 0);
  if (v.BS) return v.BS.reduce((n, s) => n + Buffer.from(s, 'base64').length, 0);
  // Maps and lists: 3 bytes of overhead and 1 per element, beside the elements.
  if (v.M) return 3 + Object.entries(v.M).reduce((n, [k, e]) => n + 1 + utf8(k) + valueSize(e), 0);
  if (v.L) return 3 + v.L.reduce((n, e) => n + 1 + valueSize(e), 0);
  return 0;
}

/** An item's size: attribute names plus values. */
export function itemSize(item: Record<string, WireValue>): number {
  let n = 0;
  for (const [k, v] of Object.entries(item)) n += utf8(k) + valueSize(v);
  return n;
}

/** Read request units of one read of `bytes` (a GetItem's item, or a Query's items summed): 4 KB units, half when eventually consistent. */
export function readUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / 4096));
  return consistent ? units : units / 2;
}

/** Write request units of writing an item of `bytes`: 1 KB units, twice inside a transaction. */
export function writeUnits(bytes: number, transactional = false): number {
  const units = Math.max(1, Math.ceil(bytes / 1024));
  return transactional ? units * 2 : units;
}

/** Transactional reads (TransactGetItems) count double too. */
export function transactionalReadUnits(bytes: number): number {
  return readUnits(bytes, true) * 2;
}

/** WebSocket messages are metered in 32 KB units. */
export function webSocketMessageUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / (32 * 1024)));
}

/** SQS bills each 64 KB chunk of a request's payload as one request. */
export function sqsRequestUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / (64 * 1024)));
}

/** Lambda compute: billed duration (rounded up to 1 ms) × configured memory. */
export function gbSeconds(durationMs: number, memoryMb: number): number {
  return (Math.ceil(durationMs) / 1000) * (memoryMb / 1024);
}

// ---- A ledger of units ----

export interface Units {
  httpApiRequests: number;
  restApiRequests: number;
  webSocketMessages: number;
  webSocketConnectionMinutes: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  /** Wall time some invocation of a function was running: concurrency × seconds. */
  lambdaSeconds: number;
  dynamoRru: number;
  dynamoWru: number;
  dynamoRequests: number;
  sqsRequests: number;
  streamsReadRequests: number;
}

export const UNIT_KEYS: readonly (keyof Units)[] = [
  'httpApiRequests',
  'restApiRequests',
  'webSocketMessages',
  'webSocketConnectionMinutes',
  'lambdaInvocations',
  'lambdaGbSeconds',
  'lambdaSeconds',
  'dynamoRru',
  'dynamoWru',
  'dynamoRequests',
  'sqsRequests',
  'streamsReadRequests',
];

export const zeroUnits = (): Units => ({
  httpApiRequests: 0,
  restApiRequests: 0,
  webSocketMessages: 0,
  webSocketConnectionMinutes: 0,
  lambdaInvocations: 0,
  lambdaGbSeconds: 0,
  lambdaSeconds: 0,
  dynamoRru: 0,
  dynamoWru: 0,
  dynamoRequests: 0,
  sqsRequests: 0,
  streamsReadRequests: 0,
});

export function addUnits(into: Units, more: Partial<Units>): Units {
  for (const k of UNIT_KEYS) into[k] += more[k] ?? 0;
  return into;
}

export function scaleUnits(u: Units, factor: number): Units {
  const out = zeroUnits();
  for (const k of UNIT_KEYS) out[k] = u[k] * factor;
  return out;
}

export function unitsSince(now: Units, before: Units): Units {
  const out = zeroUnits();
  for (const k of UNIT_KEYS) out[k] = now[k] - before[k];
  return out;
}

export interface CostBreakdown {
  lambda: number;
  apiGateway: number;
  dynamo: number;
  sqs: number;
  streams: number;
  total: number;
}

/** Dollars for a set of units at list prices; `streamsBilled` false when a Lambda trigger reads the stream. */
export function costOf(u: Units, streamsBilled = false): CostBreakdown {
  const lambda = u.lambdaGbSeconds * PRICES.lambdaGbSecond + u.lambdaInvocations * PRICES.lambdaRequest;
  const apiGateway =
    u.httpApiRequests * PRICES.httpApiRequest +
    u.restApiRequests * PRICES.restApiRequest +
    u.webSocketMessages * PRICES.webSocketMessage +
    u.webSocketConnectionMinutes * PRICES.webSocketConnectionMinute;
  const dynamo = u.dynamoRru * PRICES.dynamoRru + u.dynamoWru * PRICES.dynamoWru;
  const sqs = u.sqsRequests * PRICES.sqsRequest;
  const streams = streamsBilled ? u.streamsReadRequests * PRICES.streamsReadRequest : 0;
  return { lambda, apiGateway, dynamo, sqs, streams, total: lambda + apiGateway + dynamo + sqs + streams };
}

/** A ledger of units per tag (which function, which action). */
export class UnitLedger {
  private readonly byTag = new Map<string, Units>();

  add(tag: string, more: Partial<Units>): void {
    let u = this.byTag.get(tag);
    if (!u) this.byTag.set(tag, (u = zeroUnits()));
    addUnits(u, more);
  }

  /** A copy of every tag's units now. */
  snapshot(): Map<string, Units> {
    return new Map([...this.byTag].map(([k, v]) => [k, { ...v }]));
  }

  /** The units of the tags `match` selects, summed. */
  total(match: (tag: string) => boolean = () => true): Units {
    const out = zeroUnits();
    for (const [k, v] of this.byTag) if (match(k)) addUnits(out, v);
    return out;
  }
}

/** What changed per tag between two snapshots. */
export function ledgerSince(now: Map<string, Units>, before: Map<string, Units>): Map<string, Units> {
  const out = new Map<string, Units>();
  for (const [k, v] of now) out.set(k, unitsSince(v, before.get(k) ?? zeroUnits()));
  return out;
}

export function sumUnits(m: Map<string, Units>, match: (tag: string) => boolean = () => true): Units {
  const out = zeroUnits();
  for (const [k, v] of m) if (match(k)) addUnits(out, v);
  return out;
}
