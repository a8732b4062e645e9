import { describe, expect, it } from 'vitest';
import { applyStatus, instanceBackoffMs, type InstanceBackoff } from '../../../src/jobs/lifecycle.js';
import type { InstanceDoc } from '../../../src/jobs/model.js';
import { parseJobSpec } from '../../../src/jobs/spec.js';
import type { TaskStatus } from '../../../src/sdk/index.js';

// How status updates move an instance slot.

const service = parseJobSpec({ name: 'web', instances: 1, cpus: 1, mem: 64, command: 'serve' });
const batch = parseJobSpec({ name: 'etl', type: 'batch', instances: 1, cpus: 1, mem: 64, command: 'run', retries: 1 });
const backoff: InstanceBackoff = { initialMs: 100, maxMs: 1000, resetAfterMs: 5000 };
const NOW = 1_000_000;

function slot(over: Partial<InstanceDoc> = {}): InstanceDoc {
  return { index: 0, state: 'running', specVersion: 1, taskId: 't1', agentId: 'a1', hostname: 'h', zone: 'a', launches: 1, failures: 0, launchedAt: NOW - 100, runningSince: NOW - 50, updatedAt: NOW - 50, ...over };
}

function status(state: TaskStatus['state'], over: Partial<TaskStatus> = {}): TaskStatus {
  return { taskId: 't1', agentId: 'a1', state, ...over };
}

describe('applyStatus', () => {
  it('follows a launch to RUNNING', () => {
    const t = applyStatus(slot({ state: 'launching', runningSince: undefined }), service, 1, status('TASK_RUNNING', { healthy: true }), NOW, backoff);
    expect(t).toMatchObject({ ended: false, next: { state: 'running', taskState: 'TASK_RUNNING', runningSince: NOW, healthy: true } });
  });

  it('ignores a late resend of an earlier state', () => {
    const running = slot({ taskState: 'TASK_RUNNING' });
    expect(applyStatus(running, service, 1, status('TASK_STARTING'), NOW, backoff)).toEqual({ ended: false, next: running });
    expect(applyStatus(running, service, 1, status('TASK_RUNNING', { healthy: false }), NOW, backoff).next).toMatchObject({ state: 'running', healthy: false });
  });

  it('keeps a slot being killed in killing, whatever its task still reports', () => {
    expect(applyStatus(slot({ state: 'killing', kill: 'update' }), service, 2, status('TASK_RUNNING'), NOW, backoff).next).toMatchObject({ state: 'killing' });
  });

  it('backs off a failing service instance exponentially, resetting after a long run', () => {
    const first = applyStatus(slot(), service, 1, status('TASK_FAILED', { message: 'exit 1' }), NOW, backoff);
    expect(first).toMatchObject({ ended: true, next: { state: 'pending', failures: 1, backoffUntil: NOW + 100, lastExit: { state: 'TASK_FAILED', message: 'exit 1' } } });
    expect((first.next as InstanceDoc).taskId).toBeUndefined();
    const third = applyStatus(slot({ failures: 2 }), service, 1, status('TASK_LOST'), NOW, backoff);
    expect(third.next).toMatchObject({ failures: 3, backoffUntil: NOW + 400 });
    const afterLongRun = applyStatus(slot({ failures: 5, runningSince: NOW - 6000 }), service, 1, status('TASK_FAILED'), NOW, backoff);
    expect(afterLongRun.next).toMatchObject({ failures: 1, backoffUntil: NOW + 100 });
    expect([1, 2, 3, 4, 5, 6].map((n) => instanceBackoffMs(n, backoff))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('replaces an unreachable task like a lost one', () => {
    expect(applyStatus(slot(), service, 1, status('TASK_UNREACHABLE'), NOW, backoff)).toMatchObject({ ended: true, next: { state: 'pending', failures: 1 } });
  });

  it('relaunches at once, on the new spec, what it killed for an update or a move', () => {
    const t = applyStatus(slot({ state: 'killing', kill: 'update', move: true }), service, 2, status('TASK_KILLED'), NOW, backoff);
    expect(t.next).toMatchObject({ state: 'pending', specVersion: 2, failures: 0 });
    expect((t.next as InstanceDoc).backoffUntil).toBeUndefined();
    expect((t.next as InstanceDoc).move).toBeUndefined();
  });

  it('drops the slot when it was scaled away or its job deleted', () => {
    expect(applyStatus(slot({ kill: 'scale', remove: true }), service, 1, status('TASK_KILLED'), NOW, backoff).next).toBe('removed');
    expect(applyStatus(slot({ kill: 'delete' }), service, 1, status('TASK_KILLED'), NOW, backoff).next).toBe('removed');
  });

  it('relaunches without counting a failure a task the master never had', () => {
    const t = applyStatus(slot({ state: 'launching', runningSince: undefined }), service, 1, status('TASK_UNKNOWN', { reason: 'REASON_RECONCILIATION' }), NOW, backoff);
    expect(t.next).toMatchObject({ state: 'pending', failures: 0, launches: 0 });
  });

  it('finishes a batch instance, and fails it once its retries are spent', () => {
    expect(applyStatus(slot(), batch, 1, status('TASK_FINISHED'), NOW, backoff).next).toMatchObject({ state: 'finished' });
    expect(applyStatus(slot({ launches: 1 }), batch, 1, status('TASK_FAILED'), NOW, backoff).next).toMatchObject({ state: 'pending' });
    expect(applyStatus(slot({ launches: 2, failures: 1 }), batch, 1, status('TASK_FAILED'), NOW, backoff).next).toMatchObject({ state: 'failed' });
    // A service whose task finishes is restarted (with backoff): services keep running.
    expect(applyStatus(slot(), service, 1, status('TASK_FINISHED'), NOW, backoff).next).toMatchObject({ state: 'pending', failures: 1 });
  });
});
