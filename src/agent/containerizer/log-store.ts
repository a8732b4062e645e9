import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { LogRead } from './containerizer.js';

// A task's stdout/stderr live in <sandbox>/stdout and <sandbox>/stderr (Mesos's layout), each
// kept to its last `cap` bytes. Compaction moves the tail to the front of the same file (rather
// than writing a new one) because a process task holds the file open with O_APPEND: its next
// write lands at the new end. The bytes dropped so far are counted in a `.dropped` sidecar.

const droppedPath = (path: string): string => `${path}.dropped`;

function readDropped(path: string): number {
  try {
    const n = Number(readFileSync(droppedPath(path), 'utf8'));
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** Keeps the last `cap` bytes of the file; returns the bytes dropped now. */
export function compactLog(path: string, cap: number): number {
  if (!existsSync(path)) return 0;
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    if (size <= cap) return 0;
    const tail = Buffer.alloc(cap);
    const n = readSync(fd, tail, 0, cap, size - cap);
    writeSync(fd, tail, 0, n, 0);
    ftruncateSync(fd, n);
    const dropped = size - n;
    writeFileSync(droppedPath(path), String(readDropped(path) + dropped));
    return dropped;
  } finally {
    closeSync(fd);
  }
}

/** Room above the cap before compacting, so that a chatty task does not rewrite the file per line. */
export function compactionSlack(cap: number): number {
  return Math.max(4096, Math.floor(cap / 4));
}

/** A log the agent itself writes (Docker output); appends are synchronous so they stay ordered. */
export class CappedLog {
  private fd: number | undefined;
  private size = 0;

  constructor(
    readonly path: string,
    readonly cap: number,
  ) {}

  append(data: Buffer): void {
    if (data.length === 0) return;
    if (this.fd === undefined) {
      this.fd = openSync(this.path, 'a');
      this.size = fstatSync(this.fd).size;
    }
    writeSync(this.fd, data);
    this.size += data.length;
    if (this.size > this.cap + compactionSlack(this.cap)) {
      compactLog(this.path, this.cap);
      this.size = Math.min(this.size, this.cap);
    }
  }

  /** Compacts to the cap exactly and closes the file (a later append reopens it). */
  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    compactLog(this.path, this.cap);
  }
}

/** Reads a log (at most `cap` bytes, the newest), or its last `tailBytes` bytes. */
export async function readLog(path: string, cap: number, tailBytes?: number): Promise<LogRead> {
  const dropped = readDropped(path);
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { data: Buffer.alloc(0), totalBytes: dropped, droppedBytes: dropped, truncated: dropped > 0 };
    throw e;
  }
  try {
    const size = (await fh.stat()).size;
    // Between compactions the file may exceed the cap; only the last `cap` bytes are the log.
    const kept = Math.min(size, cap);
    const n = Math.max(0, Math.min(kept, tailBytes ?? kept));
    const data = Buffer.alloc(n);
    const { bytesRead } = await fh.read(data, 0, n, size - n);
    const droppedBytes = dropped + (size - kept);
    return { data: data.subarray(0, bytesRead), totalBytes: dropped + size, droppedBytes, truncated: droppedBytes > 0 };
  } finally {
    await fh.close();
  }
}
