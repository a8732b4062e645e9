import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { sleep } from '../../../core/sleep.js';
import { deferred, type Deferred } from '../base.js';
import type { LogStream } from '../containerizer.js';
import { CappedLog } from '../log-store.js';
import { httpStatus, NOT_FOUND } from './engine-errors.js';

// Copies one container's output into its capped <sandbox>/stdout and <sandbox>/stderr: a
// `logs?follow` stream while it runs, ending when it exits. The cursors (checkpointed) say how
// far the copy got, so a re-attach after an outage or an agent restart reads from `since` and
// neither loses nor repeats output.

const LOG_DRAIN_MS = 2_000;

/** Docker's `RFC3339Nano` log timestamp as nanoseconds since the epoch. */
export function parseLogTimestamp(ts: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(ts);
  if (!m) return undefined;
  const secs = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(secs)) return undefined;
  return BigInt(secs / 1000) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

const sinceArg = (ns: bigint): string => `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;

/** Splits Docker's multiplexed stdout/stderr stream (8-byte frame headers) into frames. */
class FrameParser {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (stream: LogStream, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      const type = this.buf[0];
      const payload = this.buf.subarray(8, 8 + size);
      this.buf = this.buf.subarray(8 + size);
      if (type === 1) this.onFrame('stdout', payload);
      else if (type === 2) this.onFrame('stderr', payload);
    }
  }
}

/**
 * Where the copy of a stream stands: the last frame's timestamp and how many frames carried it.
 * Docker stamps every 16 KiB chunk of one long line with the same time, so a timestamp alone
 * cannot say which frames a replay from `since` (inclusive) repeats.
 */
interface LogCursor {
  ts: bigint;
  n: number;
}

function parseCursor(s: string | undefined): LogCursor {
  const m = /^(\d+)(?::(\d+))?$/.exec(s ?? '');
  return m ? { ts: BigInt(m[1] ?? '0'), n: Number(m[2] ?? '1') } : { ts: 0n, n: 0 };
}

const formatCursor = (c: LogCursor): string => `${c.ts}:${c.n}`;

/** The cursors as the state file keeps them. */
export interface LogCursors {
  readonly stdout?: string;
  readonly stderr?: string;
}

export interface LogFollowerOptions {
  /** The client for long-lived streams (the follow). */
  readonly streams: Docker;
  /** The client for bounded calls (the catch-up read after the follow). */
  readonly api: Docker;
  readonly closed: () => boolean;
  readonly log: (message: string) => void;
  /** The follow ended cleanly (the container stopped), or the container is gone. */
  readonly onStopped: () => void;
  readonly onFailure: (what: string, e: unknown) => void;
}

export class LogFollower {
  private stream: Readable | undefined;
  private following = false;
  /** The follow stream ended (rather than being cut): everything up to the exit was copied. */
  private clean = false;
  private ended: Deferred<void> = deferred();
  private readonly sinks: Record<LogStream, CappedLog>;
  private readonly cursors: Record<LogStream, LogCursor>;
  /** Frames at the cursor's timestamp still to skip in the current replay. */
  private replaySkip: Record<LogStream, number> = { stdout: 0, stderr: 0 };
  private dirty = false;

  constructor(
    /** Stratus's container id, for the log. */
    private readonly containerId: string,
    sandboxDir: string,
    logCap: number,
    saved: LogCursors | undefined,
    private readonly o: LogFollowerOptions,
  ) {
    this.sinks = { stdout: new CappedLog(join(sandboxDir, 'stdout'), logCap), stderr: new CappedLog(join(sandboxDir, 'stderr'), logCap) };
    this.cursors = { stdout: parseCursor(saved?.stdout), stderr: parseCursor(saved?.stderr) };
  }

  /** Follows the container's output until it exits (a no-op while already following). */
  async follow(dockerId: string): Promise<void> {
    if (this.following) return;
    this.following = true;
    this.clean = false;
    this.ended = deferred();
    const done = this.ended;
    const since = this.replayFrom();
    let stream: Readable;
    try {
      const raw = await this.o.streams.getContainer(dockerId).logs({ follow: true, stdout: true, stderr: true, timestamps: true, ...(since !== undefined && { since }) });
      stream = raw as unknown as Readable;
    } catch (e) {
      this.following = false;
      done.resolve();
      if (httpStatus(e) === NOT_FOUND) this.o.onStopped();
      else this.o.onFailure('logs', e);
      return;
    }
    if (this.o.closed()) {
      stream.destroy();
      this.following = false;
      done.resolve();
      return;
    }
    this.stream = stream;
    const parser = new FrameParser((s, payload) => this.onFrame(s, payload));
    stream.on('data', (chunk: Buffer) => parser.push(chunk));
    stream.on('end', () => (this.clean = true));
    stream.on('error', (e: Error) => this.o.onFailure('log stream', e));
    stream.on('close', () => {
      if (this.stream === stream) this.stream = undefined;
      this.following = false;
      done.resolve();
      // A clean end means the container stopped; an abort means the engine went away (reconcile re-attaches).
      if (!this.o.closed() && this.clean) this.o.onStopped();
    });
  }

  /** After the exit: waits for the follow to end; if it did not end cleanly, reads what is missing. */
  async drain(dockerId: string): Promise<void> {
    if (this.following) await Promise.race([this.ended.promise, sleep(LOG_DRAIN_MS, undefined, { unref: true })]);
    if (this.clean) return;
    this.stream?.destroy();
    const since = this.replayFrom();
    const buf = await this.o.api.getContainer(dockerId).logs({ follow: false, stdout: true, stderr: true, timestamps: true, ...(since !== undefined && { since }) });
    new FrameParser((s, payload) => this.onFrame(s, payload)).push(Buffer.isBuffer(buf) ? buf : Buffer.from(buf));
    this.clean = true;
  }

  /** The cursors to checkpoint, or undefined when they did not move since the last call. */
  takeMoved(): Required<LogCursors> | undefined {
    if (!this.dirty) return undefined;
    this.dirty = false;
    return this.position();
  }

  /** The cursors, to checkpoint. */
  position(): Required<LogCursors> {
    return { stdout: formatCursor(this.cursors.stdout), stderr: formatCursor(this.cursors.stderr) };
  }

  /** Stops following (the containerizer closes; the container keeps running). */
  detach(): void {
    this.stream?.destroy();
  }

  /** The container ended: stops following and compacts the files to the cap. */
  close(): void {
    this.stream?.destroy();
    for (const sink of Object.values(this.sinks)) {
      try {
        sink.close();
      } catch (e) {
        this.o.log(`cannot compact log of ${this.containerId}: ${(e as Error).message}`);
      }
    }
    this.dirty = false;
  }

  /** Docker's `since` for a (re)read, arming the skip of frames already copied. */
  private replayFrom(): string | undefined {
    this.replaySkip = { stdout: this.cursors.stdout.n, stderr: this.cursors.stderr.n };
    const { stdout, stderr } = this.cursors;
    const min = stdout.ts < stderr.ts ? stdout.ts : stderr.ts;
    return min > 0n ? sinceArg(min) : undefined;
  }

  private onFrame(stream: LogStream, payload: Buffer): void {
    const sp = payload.indexOf(0x20);
    const ts = sp > 0 ? parseLogTimestamp(payload.subarray(0, sp).toString('latin1')) : undefined;
    const cur = this.cursors[stream];
    if (ts !== undefined) {
      // A replay starts at `since` (inclusive): skip what was copied before.
      if (ts < cur.ts) return;
      if (ts === cur.ts) {
        if (this.replaySkip[stream] > 0) {
          this.replaySkip[stream]--;
          return;
        }
        cur.n++;
      } else {
        cur.ts = ts;
        cur.n = 1;
        this.replaySkip[stream] = 0;
      }
      this.dirty = true;
    }
    const data = ts !== undefined ? payload.subarray(sp + 1) : payload;
    try {
      this.sinks[stream].append(data);
    } catch (e) {
      this.o.log(`cannot write ${stream} of container ${this.containerId}: ${(e as Error).message}`);
    }
  }
}
