import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/core/backoff.js';
import { readRecordIO, RecordIOError } from '../../../src/wire/recordio.js';
import { decodeEvent } from '../../../src/sdk/wire.js';

// What the driver reads off the wire: RecordIO framing, event validation, and its backoff.

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield Buffer.from(p);
}

async function collect(it: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe('readRecordIO', () => {
  it('reassembles records split anywhere, including inside multi-byte characters', async () => {
    const a = JSON.stringify({ type: 'HEARTBEAT' });
    const b = JSON.stringify({ type: 'ERROR', error: { message: 'zoné' } });
    const wire = `${Buffer.byteLength(a)}\n${a}${Buffer.byteLength(b)}\n${b}`;
    const bytes = Buffer.from(wire);
    const split = [bytes.subarray(0, 1), bytes.subarray(1, 7), bytes.subarray(7, bytes.length - 3), bytes.subarray(bytes.length - 3)];
    async function* parts(): AsyncGenerator<Uint8Array> {
      for (const p of split) yield p;
    }
    expect(await collect(readRecordIO(parts()))).toEqual([{ type: 'HEARTBEAT' }, { type: 'ERROR', error: { message: 'zoné' } }]);
  });

  it('refuses a broken length line and a truncated record', async () => {
    await expect(collect(readRecordIO(chunks('x1\n{}')))).rejects.toBeInstanceOf(RecordIOError);
    await expect(collect(readRecordIO(chunks('10\n{"a"')))).rejects.toThrow(/ended inside a record/);
  });
});

describe('decodeEvent', () => {
  it('types offers: resources summed in user units, attributes as strings, role', () => {
    const e = decodeEvent({
      type: 'OFFERS',
      offers: {
        offers: [
          {
            id: { value: 'o1' },
            framework_id: { value: 'f' },
            agent_id: { value: 'a' },
            hostname: 'h',
            resources: [
              { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 }, allocation_info: { role: 'web' } },
              { name: 'cpus', type: 'SCALAR', scalar: { value: 0.2 } },
              { name: 'mem', type: 'SCALAR', scalar: { value: 128 } },
              { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31005, end: 31010 }, { begin: 31000, end: 31001 }] } },
            ],
            attributes: [{ name: 'zone', type: 'TEXT', text: { value: 'b' } }, { name: 'rack', type: 'SCALAR', scalar: { value: 3 } }],
          },
        ],
      },
    });
    expect(e).toMatchObject({
      type: 'OFFERS',
      offers: [{ id: 'o1', agentId: 'a', role: 'web', resources: { cpus: 0.3, mem: 128, disk: 0, ports: [{ begin: 31000, end: 31001 }, { begin: 31005, end: 31010 }] }, attributes: { zone: 'b', rack: '3' } }],
    });
  });

  it('reports malformed and unknown events instead of throwing', () => {
    expect(decodeEvent({ type: 'UPDATE', update: { status: { task_id: { value: 't' }, state: 'TASK_SLEEPING' } } })).toMatchObject({ type: 'INVALID' });
    expect(decodeEvent({ type: 'INVERSE_OFFERS' })).toEqual({ type: 'UNKNOWN', rawType: 'INVERSE_OFFERS' });
    expect(decodeEvent('nope')).toMatchObject({ type: 'INVALID' });
    expect(decodeEvent({ type: 'SUBSCRIBED', subscribed: { framework_id: { value: 'f' } } })).toEqual({ type: 'SUBSCRIBED', frameworkId: 'f', heartbeatIntervalSeconds: 15 });
  });
});

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the cap, jittered downwards only', () => {
    const opts = { initialMs: 100, maxMs: 1000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, opts))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 1000, jitter: 0.5 }, () => 1)).toBe(200);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 1000, jitter: 0.5 }, () => 0)).toBe(400);
  });
});
