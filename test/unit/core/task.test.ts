import { describe, expect, it } from 'vitest';
import { STATUS_HISTORY_LIMIT, withStatus, type Task, type TaskStatus } from '../../../src/core/task.js';
import { EMPTY } from '../../../src/core/resources.js';

const status = (state: TaskStatus['state'], timestamp: number): TaskStatus => ({ state, source: 'SOURCE_AGENT', timestamp });

const task: Task = {
  frameworkId: 'fw' as Task['frameworkId'],
  taskId: 't' as Task['taskId'],
  agentId: 'a' as Task['agentId'],
  role: '*',
  resources: EMPTY,
  spec: { name: 't' },
  state: 'STAGING',
  status: status('STAGING', 1),
  pendingAcks: [],
  epoch: 1,
  createdAt: 1000,
  updatedAt: 1000,
};

describe('a task status history', () => {
  it('moves the current status into the history, oldest first', () => {
    const t = withStatus(withStatus(task, status('STARTING', 2), 2000), status('RUNNING', 3), 3000);
    expect(t.state).toBe('RUNNING');
    expect(t.status.state).toBe('RUNNING');
    expect(t.updatedAt).toBe(3000);
    expect(t.previousStatuses?.map((s) => s.state)).toEqual(['STAGING', 'STARTING']);
  });

  it(`keeps the last ${STATUS_HISTORY_LIMIT} earlier statuses`, () => {
    let t = task;
    for (let i = 0; i < STATUS_HISTORY_LIMIT + 5; i++) t = withStatus(t, status('RUNNING', 10 + i), 0);
    expect(t.previousStatuses).toHaveLength(STATUS_HISTORY_LIMIT);
    expect(t.previousStatuses![STATUS_HISTORY_LIMIT - 1]!.timestamp).toBe(10 + STATUS_HISTORY_LIMIT + 3);
  });
});
