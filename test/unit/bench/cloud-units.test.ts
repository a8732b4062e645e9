import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  costOf,
  gbSeconds,
  itemSize,
  LAMBDA_MEMORY_MB,
  mesosControlPlaneMonthly,
  numberSize,
  readUnits,
  scaleUnits,
  sqsRequestUnits,
  transactionalReadUnits,
  UnitLedger,
  webSocketMessageUnits,
  writeUnits,
  zeroUnits,
} from '../../../bench/cloud-units.js';

// The cost meter's unit arithmetic, by AWS's published rules.

describe('DynamoDB units from item sizes', () => {
  it('sizes an item as attribute names plus values', () => {
    expect(itemSize({ pk: { S: 'AGENT#a1' }, sk: { S: 'AGENT' } })).toBe(2 + 8 + 2 + 5);
    expect(itemSize({ d: { S: 'é' } })).toBe(1 + 2); // UTF-8 bytes, not characters
    expect(numberSize('12345')).toBe(4); // 3 bytes for 5 digits, + 1
    expect(numberSize('100')).toBe(2); // trailing zeros are not significant
    expect(itemSize({ ok: { BOOL: true }, n: { NULL: true } })).toBe(2 + 1 + 1 + 1);
    // A map: 3 bytes, plus 1 per element, plus the elements' names and values.
    expect(itemSize({ a: { M: { x: { S: 'yz' } } } })).toBe(1 + 3 + 1 + 1 + 2);
    expect(itemSize({ l: { L: [{ S: 'ab' }, { N: '7' }] } })).toBe(1 + 3 + (1 + 2) + (1 + 2));
  });

  it('reads: 4 KB units, at least one, half when eventually consistent', () => {
    expect(readUnits(0, true)).toBe(1); // a GetItem that finds nothing still costs a unit
    expect(readUnits(4096, true)).toBe(1);
    expect(readUnits(4097, true)).toBe(2);
    expect(readUnits(10_000, false)).toBe(1.5);
    expect(readUnits(100, false)).toBe(0.5);
  });

  it('writes: 1 KB units, at least one; transactions count double', () => {
    expect(writeUnits(10)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
    expect(writeUnits(1025, true)).toBe(4);
    expect(writeUnits(0, true)).toBe(2);
    expect(transactionalReadUnits(5000)).toBe(4);
  });
});

describe('message and request units', () => {
  it('WebSocket messages are metered in 32 KB units', () => {
    expect(webSocketMessageUnits(1)).toBe(1);
    expect(webSocketMessageUnits(32 * 1024)).toBe(1);
    expect(webSocketMessageUnits(32 * 1024 + 1)).toBe(2);
    expect(webSocketMessageUnits(128 * 1024)).toBe(4);
  });

  it('SQS bills each 64 KB chunk as a request', () => {
    expect(sqsRequestUnits(100)).toBe(1);
    expect(sqsRequestUnits(64 * 1024 + 1)).toBe(2);
    expect(sqsRequestUnits(256 * 1024)).toBe(4);
  });

  it('GB-s: billed milliseconds (rounded up) × configured memory', () => {
    expect(gbSeconds(20_030, 1024)).toBeCloseTo(20.03, 10);
    expect(gbSeconds(1000, 512)).toBe(0.5);
    expect(gbSeconds(0.2, 128)).toBeCloseTo(0.001 / 8, 12);
  });
});

describe('prices', () => {
  it('an idle long-poll agent-month: one 1,024 MB Lambda held all the time is ~$44', () => {
    const hour = zeroUnits();
    hour.lambdaGbSeconds = gbSeconds(3600_000, 1024);
    hour.lambdaInvocations = 180; // 20 s polls
    hour.httpApiRequests = 180;
    const month = costOf(scaleUnits(hour, 730));
    expect(month.lambda).toBeGreaterThan(43.5);
    expect(month.lambda).toBeLessThan(44.5);
    expect(month.apiGateway).toBeCloseTo(180 * 730 * 1e-6, 10);
  });

  it('prices every unit at list price; streams only when billed', () => {
    const u = { ...zeroUnits(), dynamoRru: 1e6, dynamoWru: 1e6, sqsRequests: 1e6, restApiRequests: 1e6, webSocketMessages: 1e6, webSocketConnectionMinutes: 1e6, streamsReadRequests: 1e5 };
    const c = costOf(u);
    expect(c.dynamo).toBeCloseTo(0.125 + 0.625, 10);
    expect(c.sqs).toBeCloseTo(0.4, 10);
    expect(c.apiGateway).toBeCloseTo(3.5 + 1 + 0.25, 10);
    expect(c.streams).toBe(0);
    expect(costOf(u, true).streams).toBeCloseTo(0.02, 10);
  });

  it('the always-on Mesos control plane is ~$420/month', () => {
    expect(mesosControlPlaneMonthly()).toBeCloseTo(6 * 0.096 * 730, 6);
  });

  it('the ledger sums per tag', () => {
    const l = new UnitLedger();
    l.add('api:heartbeat', { dynamoRru: 1, httpApiRequests: 1 });
    l.add('api:heartbeat', { dynamoRru: 0.5 });
    l.add('tick', { dynamoWru: 2 });
    expect(l.total((t) => t.startsWith('api:')).dynamoRru).toBe(1.5);
    expect(l.total().dynamoWru).toBe(2);
  });
});

describe('configured Lambda memory', () => {
  it('is what cdk/lib gives each function', () => {
    const memoryIn = (file: string): number[] => [...readFileSync(`cdk/lib/${file}`, 'utf8').matchAll(/memorySize:\s*(\d+)/g)].map((m) => Number(m[1]));
    expect(memoryIn('region-stack.ts')).toContain(LAMBDA_MEMORY_MB.api);
    // The agent socket function: `new MasterFunction(this, 'AgentSocket', { ... memorySize: 256 ...`.
    expect(readFileSync('cdk/lib/region-stack.ts', 'utf8')).toMatch(new RegExp(`'AgentSocket',[^}]*memorySize: ${LAMBDA_MEMORY_MB['agent-socket']},`, 's'));
    expect(memoryIn('leader-tick.ts')).toContain(LAMBDA_MEMORY_MB.tick);
    expect(memoryIn('gossip-receiver.ts')).toContain(LAMBDA_MEMORY_MB['gossip-receiver']);
    expect(readFileSync('cdk/lib/scheduler-stream-api.ts', 'utf8')).toMatch(new RegExp(`SCHEDULER_STREAM_MEMORY_MB = ${LAMBDA_MEMORY_MB['scheduler-stream']};`));
  });
});
