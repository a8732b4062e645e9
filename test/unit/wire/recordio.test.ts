import { describe, expect, it } from 'vitest';
import { encodeRecordIO, readRecordIO, RecordIOError } from '../../../src/wire/recordio.js';

// Mesos's RecordIO framing, both ways.

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

describe('encodeRecordIO', () => {
  it('frames a record by its length in bytes, which the reader takes back', async () => {
    const record = { type: 'ERROR', error: { message: 'zoné' } };
    const framed = encodeRecordIO(record);
    expect(framed.startsWith(`${Buffer.byteLength(JSON.stringify(record))}\n`)).toBe(true);
    expect(await collect(readRecordIO(chunks(framed, encodeRecordIO({ type: 'HEARTBEAT' }))))).toEqual([record, { type: 'HEARTBEAT' }]);
  });
});
