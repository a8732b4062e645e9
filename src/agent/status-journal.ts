import { closeSync, fdatasyncSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { statusUpdate, type StatusUpdate } from '../wire/agent-api.js';

// The status update journal: every update the agent generates is appended here and fsync'd
// before it is sent (group commit: one fdatasync per status request), and stays until the
// master relays the framework's acknowledgement (or says the task is gone). An agent restart
// replays the file, so no update is ever lost.
//
// One JSON record per line, appended:
//   {"u": update}        a new update (pending)
//   {"d": [uuid, ...]}   updates done (acknowledged, or refused for good)
//   {"f": "fid/tid"}     the agent forgot the task (its sandbox was removed)
//   {"s": {"k","state"}} the last state reported for a task (written by compaction only)
// The last state per task outlives compaction until the task is forgotten, so that a
// restarted agent can tell which states of its recovered containers were already reported.
// A torn last line (a crash mid-write) is cut off on open.

const recordSchema = z.union([
  z.object({ u: statusUpdate }),
  z.object({ d: z.array(z.string()) }),
  z.object({ f: z.string() }),
  z.object({ s: z.object({ k: z.string(), state: z.string() }) }),
]);

export interface TaskKeyed {
  readonly framework_id: string;
  readonly task_id: string;
}

export const journalKey = (t: TaskKeyed): string => `${t.framework_id}/${t.task_id}`;

export interface StatusJournalOptions {
  /** Rewrite the file once it holds this many records and mostly dead ones. Default 1000. */
  readonly compactAbove?: number;
  readonly log?: (message: string) => void;
}

export class StatusJournal {
  private fd: number | undefined;
  /** Pending updates by uuid; Map order is journal order. */
  private readonly updates = new Map<string, StatusUpdate>();
  private readonly last = new Map<string, string>();
  private records = 0;
  private unsynced = false;
  private readonly compactAbove: number;
  private readonly log: (message: string) => void;

  private constructor(
    readonly path: string,
    options: StatusJournalOptions,
  ) {
    this.compactAbove = options.compactAbove ?? 1000;
    this.log = options.log ?? (() => undefined);
  }

  /** Opens (creating) the journal and replays it. */
  static open(path: string, options: StatusJournalOptions = {}): StatusJournal {
    const j = new StatusJournal(path, options);
    mkdirSync(dirname(path), { recursive: true });
    j.replay();
    j.fd = openSync(path, 'a');
    if (j.records > j.compactAbove) j.compact();
    return j;
  }

  private replay(): void {
    let raw: Buffer;
    try {
      raw = readFileSync(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    let offset = 0;
    let good = 0;
    while (offset < raw.length) {
      const nl = raw.indexOf(10, offset);
      if (nl < 0) break; // torn tail: no newline
      const line = raw.subarray(offset, nl).toString('utf8');
      offset = nl + 1;
      if (line.trim() === '') {
        good = offset;
        continue;
      }
      let rec: z.output<typeof recordSchema> | undefined;
      try {
        const parsed = recordSchema.safeParse(JSON.parse(line));
        if (parsed.success) rec = parsed.data;
      } catch {
        /* reported below */
      }
      if (rec === undefined) {
        // A complete but unreadable line (disk corruption) is skipped, not fatal.
        this.log(`status journal ${this.path}: skipping an unreadable record ending at byte ${offset}`);
        good = offset;
        continue;
      }
      this.apply(rec);
      this.records++;
      good = offset;
    }
    if (good < raw.length) {
      this.log(`status journal ${this.path}: cutting a torn record of ${raw.length - good} bytes at the end`);
      const fd = openSync(this.path, 'r+');
      try {
        ftruncateSync(fd, good);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }

  private apply(rec: z.output<typeof recordSchema>): void {
    if ('u' in rec) {
      this.updates.set(rec.u.uuid, rec.u);
      this.last.set(journalKey(rec.u), rec.u.state);
    } else if ('d' in rec) {
      for (const uuid of rec.d) this.updates.delete(uuid);
    } else if ('f' in rec) {
      this.last.delete(rec.f);
    } else {
      this.last.set(rec.s.k, rec.s.state);
    }
  }

  /** Appends one record; it is on disk after the next sync(). */
  private write(record: object): boolean {
    if (this.fd === undefined) throw new Error(`status journal ${this.path} is closed`);
    try {
      writeSync(this.fd, JSON.stringify(record) + '\n');
      this.records++;
      this.unsynced = true;
      return true;
    } catch (e) {
      this.log(`status journal ${this.path}: write failed: ${(e as Error).message}`);
      return false;
    }
  }

  /**
   * Flushes appended records to the disk (fdatasync). The sender calls it before each request,
   * so every update is on disk before it leaves, and a burst of updates costs one sync.
   */
  sync(): void {
    if (this.fd === undefined || !this.unsynced) return;
    try {
      fdatasyncSync(this.fd);
      this.unsynced = false;
    } catch (e) {
      this.log(`status journal ${this.path}: sync failed: ${(e as Error).message}`);
    }
  }

  /** Records a new update; it is durable after the next sync(). False if only kept in memory. */
  append(update: StatusUpdate): boolean {
    this.updates.set(update.uuid, update);
    this.last.set(journalKey(update), update.state);
    return this.write({ u: update });
  }

  /** Marks updates done; returns those that were pending. */
  complete(uuids: Iterable<string>): StatusUpdate[] {
    const done: StatusUpdate[] = [];
    for (const uuid of uuids) {
      const u = this.updates.get(uuid);
      if (u === undefined) continue;
      this.updates.delete(uuid);
      done.push(u);
    }
    if (done.length > 0) {
      this.write({ d: done.map((u) => u.uuid) });
      this.maybeCompact();
    }
    return done;
  }

  /** Drops the task's last-state record (its sandbox is gone). Pending updates stay. */
  forget(task: TaskKeyed): void {
    const k = journalKey(task);
    if (!this.last.has(k)) return;
    this.last.delete(k);
    this.write({ f: k });
    this.maybeCompact();
  }

  /** Pending updates in journal order. */
  pending(): StatusUpdate[] {
    return [...this.updates.values()];
  }

  get(uuid: string): StatusUpdate | undefined {
    return this.updates.get(uuid);
  }

  get size(): number {
    return this.updates.size;
  }

  hasPending(task: TaskKeyed): boolean {
    const k = journalKey(task);
    for (const u of this.updates.values()) if (journalKey(u) === k) return true;
    return false;
  }

  /** The last state reported for the task (TASK_*), if the journal remembers it. */
  lastState(task: TaskKeyed): string | undefined {
    return this.last.get(journalKey(task));
  }

  /** Every task the journal remembers, with its last state. */
  tasks(): { key: string; state: string }[] {
    return [...this.last].map(([key, state]) => ({ key, state }));
  }

  get recordCount(): number {
    return this.records;
  }

  private maybeCompact(): void {
    if (this.records > this.compactAbove && this.records > 4 * (this.updates.size + this.last.size)) this.compact();
  }

  /** Rewrites the file with what is live: last states, then pending updates in order. */
  compact(): void {
    const tmp = `${this.path}.compact`;
    const lines: string[] = [];
    for (const [k, state] of this.last) lines.push(JSON.stringify({ s: { k, state } }));
    for (const u of this.updates.values()) lines.push(JSON.stringify({ u }));
    try {
      const fd = openSync(tmp, 'w');
      try {
        if (lines.length) writeSync(fd, lines.join('\n') + '\n');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
      const dir = openSync(dirname(this.path), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    } catch (e) {
      // The old file is intact: keep appending to it.
      this.log(`status journal ${this.path}: compaction failed: ${(e as Error).message}`);
      return;
    }
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
    this.records = lines.length;
    this.unsynced = false;
  }

  close(): void {
    if (this.fd === undefined) return;
    this.sync();
    closeSync(this.fd);
    this.fd = undefined;
  }
}
