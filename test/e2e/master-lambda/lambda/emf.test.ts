import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../../src/http/credentials.js';
import { captureStdout } from '../../../support/stdout.js';

// A Lambda entry point publishes its metrics as CloudWatch Embedded Metric Format: one JSON
// line on stdout per invocation, valid by the EMF specification, with the domain counters.

interface EmfLine {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

function emfLines(text: string): EmfLine[] {
  const out: EmfLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    const j = JSON.parse(line) as Partial<EmfLine>;
    if (j._aws) out.push(j as EmfLine);
  }
  return out;
}

/** What the EMF specification requires of a line: every metric and dimension named is a member of the right type. */
function expectValidEmf(line: EmfLine): void {
  expect(typeof line._aws.Timestamp).toBe('number');
  expect(line._aws.CloudWatchMetrics.length).toBeGreaterThan(0);
  for (const d of line._aws.CloudWatchMetrics) {
    expect(d.Namespace).toMatch(/\S/);
    for (const set of d.Dimensions) for (const name of set) expect(typeof line[name], name).toBe('string');
    for (const m of d.Metrics) {
      const v = line[m.Name];
      expect(typeof v === 'number' || (Array.isArray(v) && v.every((x) => typeof x === 'number')), m.Name).toBe(true);
    }
  }
}

function apigw(method: string, path: string, headers: Record<string, string> = {}): import('../../../../src/master-lambda/lambda/api-handler.js').ApiGatewayV2Event {
  return {
    version: '2.0',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'localhost', ...headers },
    requestContext: { domainName: 'localhost', http: { method, path }, requestId: randomUUID() },
    isBase64Encoded: false,
  };
}

describe('Lambda entry points write EMF', () => {
  const saved = { ...process.env };
  let out: ReturnType<typeof captureStdout>;

  beforeEach(() => {
    process.env.STRATUS_CREDENTIALS = JSON.stringify({ principals: [{ name: 'admin', kind: 'operator', secret_hash: hashSecret('ops') }] });
    process.env.STRATUS_REGION = 'emf-test';
    delete process.env.STRATUS_TABLE;
    delete process.env.STRATUS_TICK_FUNCTION;
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    delete process.env.POWERTOOLS_DEV;
    out = captureStdout();
  });

  afterEach(() => {
    out.restore();
    process.env = { ...saved };
  });

  it('the API handler: one line per invocation, with Invocations, Duration and the requests it served', async () => {
    const { handler } = await import('../../../../src/master-lambda/lambda/api-handler.js');
    const ok = await handler(apigw('GET', '/health'));
    expect(ok.statusCode).toBe(200);
    const refused = await handler(apigw('GET', '/metrics'));
    expect(refused.statusCode).toBe(401);
    const lines = emfLines(out.text());
    expect(lines).toHaveLength(2);
    for (const l of lines) expectValidEmf(l);
    const [first, second] = lines as [EmfLine, EmfLine];
    expect(first._aws.CloudWatchMetrics[0]!.Namespace).toBe('Stratus');
    expect(first.region).toBe('emf-test');
    expect(first.entrypoint).toBe('api');
    expect(first.Invocations).toBe(1);
    expect(typeof first.Duration).toBe('number');
    // Each line carries what grew in its own invocation: one request each, not a running total.
    expect(first.ApiRequests).toBe(1);
    expect(second.ApiRequests).toBe(1);
    expect(second.StoreRequests ?? 0).toBeGreaterThanOrEqual(0);
    const names = first._aws.CloudWatchMetrics.flatMap((d) => d.Metrics.map((m) => m.Name));
    expect(names).toEqual(expect.arrayContaining(['Invocations', 'Duration', 'ApiRequests']));
  });

  it('the leader tick: rounds it ran counted', async () => {
    const { handler } = await import('../../../../src/master-lambda/lambda/leader-tick.js');
    const r = await handler({}, { getRemainingTimeInMillis: () => 6_000 });
    expect(r.leader).toBe(true);
    const lines = emfLines(out.text());
    expect(lines).toHaveLength(1);
    expectValidEmf(lines[0]!);
    expect(lines[0]!.entrypoint).toBe('tick');
    expect(lines[0]!.AllocationRounds).toBe(r.rounds);
    expect(lines[0]!.StoreRequests).toBeGreaterThan(0);
  });
});
