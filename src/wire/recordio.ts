// Mesos's RecordIO framing on the SUBSCRIBE stream: "<length in bytes>\n<record>" repeated.
// The master's local server encodes with it; the SDK decodes.

/** One record framed: its length in bytes, a newline, the record. */
export function encodeRecordIO(record: unknown): string {
  const json = JSON.stringify(record);
  return `${Buffer.byteLength(json)}\n${json}`;
}

/** Thrown when the stream breaks the framing (a bad length line, a record too large). */
export class RecordIOError extends Error {}

const MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** Splits a byte stream into JSON records, each parsed as it completes. */
export async function* readRecordIO(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<unknown> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    buf = buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([buf, chunk]);
    for (;;) {
      const nl = buf.indexOf(10);
      if (nl < 0) {
        if (buf.length > 20) throw new RecordIOError('a RecordIO length line longer than 20 bytes');
        break;
      }
      const text = buf.subarray(0, nl).toString('ascii').trim();
      if (!/^\d+$/.test(text)) throw new RecordIOError(`a RecordIO length line is not a number: ${JSON.stringify(text.slice(0, 20))}`);
      const len = Number(text);
      if (len > MAX_RECORD_BYTES) throw new RecordIOError(`a RecordIO record of ${len} bytes is over the ${MAX_RECORD_BYTES} limit`);
      if (buf.length < nl + 1 + len) break;
      const record = buf.subarray(nl + 1, nl + 1 + len).toString('utf8');
      buf = buf.subarray(nl + 1 + len);
      try {
        yield JSON.parse(record) as unknown;
      } catch (e) {
        throw new RecordIOError(`a RecordIO record is not JSON: ${(e as Error).message}`);
      }
    }
  }
  if (buf.length > 0) throw new RecordIOError('the stream ended inside a record');
}
