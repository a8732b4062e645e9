import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { progressSummary, waitForJob, type WaitOutcome } from '../../../src/cli/job-wait.js';
import { ProgressDisplay } from '../../../src/cli/progress-display.js';
import type { InstanceView, JobDetail } from '../../../src/jobs/index.js';
import { ApiError } from '../../../src/wire/api-error.js';
import { advanceUntil } from '../../support/wait.js';

// The decisions of `stratus run`'s wait, on scripted answers of the jobs API under a fake clock.

const instance = (index: number, state: InstanceView['state'], extra: Partial<InstanceView> = {}): InstanceView => ({ index, state, specVersion: 1, outdated: false, launches: 1, failures: 0, ...extra });

function job(instances: InstanceView[], type: 'service' | 'batch' = 'service', want = 2): JobDetail {
  const count = (s: string): number => instances.filter((i) => i.state === s).length;
  return {
    name: 'web',
    type,
    state: 'deploying',
    specVersion: 1,
    spec: { name: 'web', type, instances: want } as JobDetail['spec'],
    counts: { desired: want, running: count('running'), starting: count('starting'), pending: count('pending'), killing: 0, finished: count('finished'), failed: count('failed'), outdated: 0 },
    createdAt: 0,
    updatedAt: 0,
    rebalance: { requested: 0, handled: 0 },
    pending: instances.filter((i) => i.state === 'pending').map((i) => ({ index: i.index, message: i.pending?.message ?? 'waiting for offers' })),
    instances,
  };
}

const reason = (message: string, at: number): InstanceView['pending'] => ({ message, reasons: [], shortfall: false, at });

/** Answers the scripted details in turn (the last one again once they run out). */
function source(answers: (JobDetail | Error)[]): { get(): Promise<JobDetail>; calls: number } {
  const s = {
    calls: 0,
    async get(): Promise<JobDetail> {
      const a = answers[Math.min(s.calls++, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return a;
    },
  };
  return s;
}

describe('waitForJob', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  async function settle(p: Promise<WaitOutcome>, maxMs = 60_000): Promise<WaitOutcome> {
    let outcome: WaitOutcome | undefined;
    void p.then((o) => (outcome = o));
    await advanceUntil(() => outcome !== undefined, maxMs, 'the wait to end', 50);
    return outcome!;
  }

  it('ends when every instance runs, polling with backoff meanwhile', async () => {
    const jobs = source([job([]), job([instance(0, 'starting'), instance(1, 'pending')]), job([instance(0, 'running'), instance(1, 'starting')]), job([instance(0, 'running'), instance(1, 'running')])]);
    const seen: string[] = [];
    const outcome = await settle(waitForJob(jobs, 'web', { timeoutMs: 60_000, onPoll: (j) => seen.push(progressSummary(j)) }));
    expect(outcome.kind).toBe('running');
    expect(jobs.calls).toBe(4);
    expect(seen).toEqual(['web: 0/2 running', 'web: 0/2 running, 1 starting, 1 pending (web/1: waiting for offers)', 'web: 1/2 running, 1 starting', 'web: 2/2 running']);
  });

  it('counts finished batch instances as arrived', async () => {
    const outcome = await settle(waitForJob(source([job([instance(0, 'finished'), instance(1, 'running')], 'batch')]), 'web', { timeoutMs: 10_000 }));
    expect(outcome.kind).toBe('running');
  });

  it('reports a failed task at once, with its last state and message', async () => {
    const failed = instance(1, 'pending', { failures: 1, lastExit: { state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: 'exited with status 3', at: 5 } });
    const outcome = await settle(waitForJob(source([job([instance(0, 'running'), failed])]), 'web', { timeoutMs: 10_000 }));
    expect(outcome).toMatchObject({ kind: 'failed', failed: [{ index: 1, state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: 'exited with status 3' }] });
  });

  it('does not give up on a first pending reason: a later pass may place the instance', async () => {
    // A first pass saw only some agents' offers; the next one places the instance.
    const jobs = source([job([instance(0, 'running'), instance(1, 'pending', { pending: reason('zone spread', 1) })]), job([instance(0, 'running'), instance(1, 'running')])]);
    expect((await settle(waitForJob(jobs, 'web', { timeoutMs: 60_000, settleMs: 0 }))).kind).toBe('running');
  });

  it('gives up on instances whose reason a later pass restated and that held for the settle time', async () => {
    const pending = (at: number): JobDetail => job([instance(0, 'running'), instance(1, 'pending', { pending: reason('constraint HostAttrValueConstraint[zone]', at) })]);
    const jobs = source([pending(1), pending(1), pending(2)]);
    const start = Date.now();
    const outcome = await settle(waitForJob(jobs, 'web', { timeoutMs: 60_000, settleMs: 5_000 }));
    expect(outcome).toMatchObject({ kind: 'unplaceable', unplaced: [{ index: 1, message: 'constraint HostAttrValueConstraint[zone]' }] });
    expect(Date.now() - start).toBeGreaterThanOrEqual(5_000);
  });

  it("reports the reason of a pass that held offers, not a later pass's 'no host is offering resources'", async () => {
    const noLeases = (at: number): JobDetail =>
      job([instance(0, 'running'), instance(1, 'pending', { pending: { message: 'task web/1 not placed: no host is offering resources', reasons: [{ kind: 'noLeases' }], shortfall: true, at } })]);
    const constraint = job([instance(0, 'running'), instance(1, 'pending', { pending: { message: 'constraint UniqueHost', reasons: [{ kind: 'constraint' } as never], shortfall: false, at: 2 } })]);
    const outcome = await settle(waitForJob(source([noLeases(1), constraint, noLeases(3)]), 'web', { timeoutMs: 60_000, settleMs: 1_000 }));
    expect(outcome).toMatchObject({ kind: 'unplaceable', unplaced: [{ index: 1, message: 'constraint UniqueHost' }] });
    // With no better reason, that is the one.
    const full = await settle(waitForJob(source([noLeases(1), noLeases(2)]), 'web', { timeoutMs: 60_000, settleMs: 1_000 }));
    expect(full).toMatchObject({ kind: 'unplaceable', unplaced: [{ index: 1, message: 'task web/1 not placed: no host is offering resources' }] });
  });

  it('keeps waiting while the reason is not restated, until the timeout', async () => {
    const jobs = source([job([instance(0, 'running'), instance(1, 'pending', { pending: reason('no offers', 1) })])]);
    const outcome = await settle(waitForJob(jobs, 'web', { timeoutMs: 20_000, settleMs: 1_000 }));
    expect(outcome.kind).toBe('timeout');
    // Backed off to one call every 2 s or so, not a busy loop.
    expect(jobs.calls).toBeLessThan(20);
  });

  it('retries an unreachable master until the deadline, and stops on a refusal', async () => {
    const jobs = source([new ApiError(0, 'cannot reach'), new ApiError(503, 'failing over'), job([instance(0, 'running'), instance(1, 'running')])]);
    expect((await settle(waitForJob(jobs, 'web', { timeoutMs: 60_000 }))).kind).toBe('running');
    await expect(waitForJob(source([new ApiError(404, "no job named 'web'", 'name')]), 'web', { timeoutMs: 60_000 })).rejects.toThrow(/no job named/);
  });

  it('stops when aborted', async () => {
    const abort = new AbortController();
    const p = waitForJob(source([job([instance(0, 'pending')])]), 'web', { timeoutMs: 60_000, signal: abort.signal });
    abort.abort();
    expect((await settle(p)).kind).toBe('aborted');
  });
});

describe('ProgressDisplay', () => {
  const stream = (isTTY: boolean): { isTTY: boolean; text: string; write(s: string): void } => ({ isTTY, text: '', write(s) { this.text += s; } });

  it('on a terminal rewrites one line in place and ends it', () => {
    let now = 0;
    const s = stream(true);
    const d = new ProgressDisplay(s, () => now);
    d.update('web: 0/2 running');
    now = 3_400;
    d.update('web: 1/2 running');
    d.done();
    expect(s.text).toBe('\r\x1b[2Kweb: 0/2 running [0s]\r\x1b[2Kweb: 1/2 running [3s]\n');
  });

  it('on a terminal keeps the line within its width, so it never wraps', () => {
    const s = { ...stream(true), columns: 12 };
    new ProgressDisplay(s, () => 0).update('web: 0/2 running, 2 pending');
    expect(s.text).toBe('\r\x1b[2Kweb: 0/2 r…');
  });

  it('elsewhere prints a plain line each time the text changes', () => {
    const s = stream(false);
    const d = new ProgressDisplay(s);
    for (const t of ['web: 0/2 running', 'web: 0/2 running', 'web: 2/2 running']) d.update(t);
    d.done();
    expect(s.text).toBe('web: 0/2 running\nweb: 2/2 running\n');
  });
});
