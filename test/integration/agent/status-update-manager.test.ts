import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StatusUpdate } from '../../../src/wire/agent-api.js';
import { silentLogger } from '../../../src/core/logger.js';
import { ReregisterRequired } from '../../../src/agent/master-client.js';
import { ApiError } from '../../../src/wire/api-error.js';
import type { StatusResponse, StatusResult } from '../../../src/wire/agent-api.js';
import { StatusJournal } from '../../../src/agent/status-journal.js';
import { StatusUpdateManager } from '../../../src/agent/status-update-manager.js';
import { newStatusUuid, statusSource, toStatusUpdate } from '../../../src/agent/status-update.js';
import type { FrameworkId, TaskId } from '../../../src/core/ids.js';

// The status update journal on disk and the manager that delivers it: fsync'd records,
// replay after a crash (torn tail included), compaction, and delivery in order with one
// request in flight, backoff, and the master's answers. The manager's clock is vitest's fake
// one: requests, answers and resends happen when the test moves time, never by racing it.

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function journalPath(): string {
  const d = mkdtempSync(join(tmpdir(), 'stratus-journal-'));
  dirs.push(d);
  return join(d, 'status-updates.jsonl');
}

function update(task: string, state: string): StatusUpdate {
  return { framework_id: 'fw', task_id: task, state, uuid: newStatusUuid(), source: 'SOURCE_EXECUTOR', timestamp: Date.now() / 1000 };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Moves the fake clock, running every timer and promise that falls due on the way. */
const advance = (ms: number): Promise<unknown> => vi.advanceTimersByTimeAsync(ms);

describe('StatusJournal', () => {
  it('keeps updates across a reopen, in order, until they are done; remembers last states until forgotten', () => {
    const path = journalPath();
    const j = StatusJournal.open(path);
    const a = update('t1', 'TASK_STARTING');
    const b = update('t1', 'TASK_RUNNING');
    const c = update('t2', 'TASK_RUNNING');
    j.append(a);
    j.append(b);
    j.append(c);
    expect(j.complete([a.uuid, 'unknown'])).toEqual([a]);
    j.close();

    const k = StatusJournal.open(path);
    expect(k.pending()).toEqual([b, c]);
    expect(k.lastState({ framework_id: 'fw', task_id: 't1' })).toBe('TASK_RUNNING');
    expect(k.hasPending({ framework_id: 'fw', task_id: 't2' })).toBe(true);
    k.complete([b.uuid, c.uuid]);
    k.forget({ framework_id: 'fw', task_id: 't2' });
    k.close();

    const m = StatusJournal.open(path);
    expect(m.pending()).toEqual([]);
    expect(m.lastState({ framework_id: 'fw', task_id: 't1' })).toBe('TASK_RUNNING');
    expect(m.lastState({ framework_id: 'fw', task_id: 't2' })).toBeUndefined();
    m.close();
  });

  it('cuts a torn last record (a crash mid-write) and skips a corrupt one, losing nothing else', () => {
    const path = journalPath();
    const j = StatusJournal.open(path);
    const a = update('t1', 'TASK_RUNNING');
    j.append(a);
    j.close();
    appendFileSync(path, 'garbage that is not json\n');
    const b = update('t1', 'TASK_FINISHED');
    appendFileSync(path, JSON.stringify({ u: b }) + '\n');
    appendFileSync(path, '{"u":{"framework_id":"fw","task_id":"t1","sta');
    const logged: string[] = [];
    const k = StatusJournal.open(path, { log: (m) => logged.push(m) });
    expect(k.pending()).toEqual([a, b]);
    expect(logged.some((m) => m.includes('torn'))).toBe(true);
    expect(logged.some((m) => m.includes('unreadable'))).toBe(true);
    expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
    const c = update('t1', 'TASK_FINISHED');
    k.append(c);
    k.close();
    expect(StatusJournal.open(path).pending()).toEqual([a, b, c]);
  });

  it('compacts when it grows: only live updates and last states are kept', () => {
    const path = journalPath();
    const j = StatusJournal.open(path, { compactAbove: 100 });
    const kept: StatusUpdate[] = [];
    for (let i = 0; i < 300; i++) {
      const u = update(`t${i % 7}`, i % 2 ? 'TASK_RUNNING' : 'TASK_STARTING');
      j.append(u);
      if (i % 50 === 0) kept.push(u);
      else j.complete([u.uuid]);
    }
    expect(j.recordCount).toBeLessThan(200);
    const size = statSync(path).size;
    expect(size).toBeLessThan(300 * 150);
    j.close();
    const k = StatusJournal.open(path);
    expect(k.pending()).toEqual(kept);
    expect(k.tasks().length).toBe(7);
    k.close();
  });
});

describe('status updates from container statuses', () => {
  it('get a fresh 16-byte base64 uuid, the REASON_ prefix, a source, and only well-formed ids', () => {
    const s = { frameworkId: 'fw' as FrameworkId, taskId: 't1' as TaskId, containerId: 'c', state: 'FAILED' as const, reason: 'CONTAINER_LIMITATION_MEMORY' as const, message: 'x'.repeat(5000), timestamp: 1 };
    const u = toStatusUpdate(s)!;
    expect(Buffer.from(u.uuid, 'base64')).toHaveLength(16);
    expect(u).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LIMITATION_MEMORY', source: 'SOURCE_AGENT', timestamp: 1 });
    expect(u.message).toHaveLength(4096);
    expect(toStatusUpdate(s)!.uuid).not.toBe(u.uuid);
    expect(statusSource({ state: 'FAILED', reason: 'COMMAND_EXECUTOR_FAILED' })).toBe('SOURCE_EXECUTOR');
    expect(statusSource({ state: 'ERROR', reason: 'TASK_INVALID' })).toBe('SOURCE_AGENT');
    expect(toStatusUpdate({ ...s, taskId: '' as TaskId })).toBeUndefined();
  });
});

/** A fake master status endpoint whose answers the test controls, one request at a time. */
class FakeStatusEndpoint {
  readonly requests: { at: number; uuids: string[]; states: string[] }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  answer: (u: StatusUpdate) => StatusResult | Error = () => 'applied';
  gate: Promise<void> | undefined;
  failNext: Error | undefined;

  send = async (updates: StatusUpdate[]): Promise<StatusResponse> => {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.requests.push({ at: Date.now(), uuids: updates.map((u) => u.uuid), states: updates.map((u) => `${u.task_id}:${u.state}`) });
    try {
      await this.gate;
      await sleep(5);
      if (this.failNext) {
        const e = this.failNext;
        this.failNext = undefined;
        throw e;
      }
      const bad = updates.map((u) => this.answer(u)).find((r): r is Error => r instanceof Error);
      if (bad) throw bad;
      return { results: updates.map((u) => ({ uuid: u.uuid, result: this.answer(u) as StatusResult, ...(u.task_id.startsWith('orphan') && { kill: true }) })) };
    } finally {
      this.inFlight--;
    }
  };
}

function manager(endpoint: FakeStatusEndpoint, more: Partial<ConstructorParameters<typeof StatusUpdateManager>[0]> = {}) {
  const journal = StatusJournal.open(journalPath());
  const kills: string[] = [];
  const acked: string[] = [];
  let reregistered = 0;
  const m = new StatusUpdateManager({
    journal,
    send: endpoint.send,
    retryInitialMs: 40,
    retryMaxMs: 160,
    log: silentLogger,
    onReregister: async () => {
      reregistered++;
      m.resume();
    },
    onKill: (t) => kills.push(t.task_id),
    onAcknowledged: (a) => acked.push(a.uuid),
    ...more,
  });
  return { m, journal, kills, acked, reregistered: () => reregistered };
}

describe('StatusUpdateManager', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('never has two requests in flight, syncs the journal before each, and sends each task’s updates in order', async () => {
    const ep = new FakeStatusEndpoint();
    const { m, journal } = manager(ep);
    // Every request goes out after a sync that covers all it carries.
    const synced = new Set<string>();
    const sync = journal.sync.bind(journal);
    journal.sync = () => {
      sync();
      journal.pending().forEach((u) => synced.add(u.uuid));
    };
    const send = ep.send;
    ep.send = (updates) => {
      expect(updates.every((u) => synced.has(u.uuid))).toBe(true);
      return send(updates);
    };
    let open!: () => void;
    ep.gate = new Promise((r) => (open = r));
    m.resume();
    const a = update('t1', 'TASK_STARTING');
    m.report(a);
    await advance(10);
    const later = [update('t1', 'TASK_RUNNING'), update('t2', 'TASK_STARTING'), update('t1', 'TASK_FINISHED')];
    later.forEach((u) => m.report(u));
    await advance(20);
    expect(ep.requests).toHaveLength(1);
    open();
    ep.gate = undefined;
    await advance(30);
    expect(ep.maxInFlight).toBe(1);
    expect(ep.requests[1]!.states).toEqual(['t1:TASK_RUNNING', 't2:TASK_STARTING', 't1:TASK_FINISHED']);
    m.stop();
  });

  it('resends delivered updates with doubling backoff, dragging the task’s later updates along, until acknowledged', async () => {
    const ep = new FakeStatusEndpoint();
    const { m, journal } = manager(ep);
    m.resume();
    const a = update('t1', 'TASK_RUNNING');
    m.report(a);
    await advance(15);
    const b = update('t1', 'TASK_FINISHED');
    m.report(b);
    await advance(400);
    const withA = ep.requests.filter((r) => r.uuids.includes(a.uuid));
    // Each answer takes the endpoint 5 ms; the resend is due 40, 80, then 160 ms (the cap) after it.
    const gaps = withA.slice(1).map((r, i) => r.at - withA[i]!.at);
    expect(gaps).toEqual([45, 85, 165]);
    // Whenever A is resent, B follows it in the same request.
    for (const r of withA.slice(1)) expect(r.uuids).toEqual([a.uuid, b.uuid]);
    expect(m.acknowledge(a.uuid)).toBe(true);
    expect(m.acknowledge(a.uuid)).toBe(false);
    expect(journal.pending()).toEqual([b]);
    m.stop();
  });

  it('drops updates the master answers acknowledged, rejected or unknown_task, and kills unknown running tasks', async () => {
    const ep = new FakeStatusEndpoint();
    const { m, journal, kills, acked } = manager(ep);
    ep.answer = (u) => (u.task_id === 'acked' ? 'acknowledged' : u.task_id === 'stale' ? 'rejected' : 'unknown_task');
    m.resume();
    const acks = update('acked', 'TASK_RUNNING');
    m.report(acks);
    m.report(update('stale', 'TASK_STARTING'));
    m.report(update('orphan', 'TASK_RUNNING'));
    await advance(50);
    expect(journal.pending()).toEqual([]);
    expect(kills).toEqual(['orphan']);
    expect(acked).toEqual([acks.uuid]);
    m.stop();
  });

  it('keeps order across a failed request, registers again on 404/409, and isolates a malformed update', async () => {
    const ep = new FakeStatusEndpoint();
    const h = manager(ep);
    h.m.resume();
    ep.failNext = new ApiError(0, 'unreachable');
    const a = update('t1', 'TASK_STARTING');
    h.m.report(a);
    await advance(10);
    const b = update('t1', 'TASK_RUNNING');
    h.m.report(b);
    // The failed request is retried within the transport backoff (at most 40 ms here).
    await advance(50);
    expect(ep.requests[1]!.uuids).toEqual([a.uuid, b.uuid]);

    ep.failNext = new ReregisterRequired('409');
    const c = update('t1', 'TASK_FINISHED');
    h.m.report(c);
    await advance(100);
    expect(h.reregistered()).toBe(1);
    expect(ep.requests.some((r) => r.uuids[0] === a.uuid && r.uuids.includes(c.uuid))).toBe(true);

    const bad = update('t3', 'TASK_RUNNING');
    const good = update('t4', 'TASK_RUNNING');
    ep.answer = (u) => (u.task_id === 't3' ? new ApiError(400, '400: bad') : 'acknowledged');
    h.m.report(bad);
    h.m.report(good);
    await advance(100);
    expect(h.journal.pending()).toEqual([]);
    expect(ep.requests.some((r) => r.uuids.length === 1 && r.uuids[0] === good.uuid)).toBe(true);
    h.m.stop();
  });
});

