import { describe, expect, it } from 'vitest';
import type { Agent } from '../../../../src/core/agent.js';
import type { Framework } from '../../../../src/core/framework.js';
import type { AgentId, FrameworkId, StreamId, TaskId } from '../../../../src/core/ids.js';
import { EMPTY, resources } from '../../../../src/core/resources.js';
import type { Task } from '../../../../src/core/task.js';
import type { TaskState } from '../../../../src/core/task-state.js';
import type { Stored } from '../../../../src/state/registry.js';
import { diffSnapshots, type DiffInput } from '../../../../src/master-lambda/use-cases/operator-events.js';

// The operator stream's events are the difference of two snapshots: each change gives the
// Mesos event for it, and nothing else does.

const agent = (id: string, over: Partial<Stored<Agent>> = {}): Stored<Agent> => ({
  id: id as AgentId,
  hostname: `h-${id}`,
  attributes: {},
  total: resources({ cpus: 2, mem: 1024 }),
  allocated: EMPTY,
  offered: EMPTY,
  reachability: 'REACHABLE',
  deactivated: false,
  registeredAt: 1000,
  session: 's1',
  version: 1,
  ...over,
});

const framework = (id: string, over: Partial<Stored<Framework>> = {}): Stored<Framework> => ({
  id: id as FrameworkId,
  info: { name: `fw-${id}`, user: 'u', roles: ['*'], failoverTimeoutSeconds: 0, capabilities: [], checkpoint: false },
  streamId: 'st' as StreamId,
  connected: true,
  lastSeenAt: 1,
  registeredAt: 1,
  suppressedRoles: [],
  version: 1,
  ...over,
});

const task = (id: string, state: TaskState, over: Partial<Stored<Task>> = {}): Stored<Task> => ({
  frameworkId: 'f1' as FrameworkId,
  taskId: id as TaskId,
  agentId: 'a1' as AgentId,
  role: '*',
  resources: resources({ cpus: 1 }),
  spec: { name: id },
  state,
  status: { state, source: 'SOURCE_AGENT', timestamp: state === 'STAGING' ? 1 : 2, ...(state !== 'STAGING' ? { uuid: `u-${state}` } : {}) },
  pendingAcks: [],
  epoch: 1,
  createdAt: 1,
  updatedAt: 1,
  version: 1,
  ...over,
});

const snap = (s: Partial<DiffInput>): DiffInput => ({ agents: [], frameworks: [], tasks: [], offers: [], ...s });
const types = (prev: Partial<DiffInput>, next: Partial<DiffInput>): string[] => diffSnapshots(snap(prev), snap(next)).map((e) => e.type as string);

describe('diffSnapshots', () => {
  it('gives nothing for equal snapshots', () => {
    const s = { agents: [agent('a1')], frameworks: [framework('f1')], tasks: [task('t1', 'RUNNING')] };
    expect(diffSnapshots(snap(s), snap(s))).toEqual([]);
  });

  it('adds a new task (STAGING: TASK_ADDED alone) and updates it on a state or status change', () => {
    const staged = task('t1', 'STAGING');
    const added = diffSnapshots(snap({}), snap({ tasks: [staged] }));
    expect(added).toEqual([{ type: 'TASK_ADDED', task_added: { task: expect.objectContaining({ task_id: { value: 't1' }, state: 'TASK_STAGING', framework_id: { value: 'f1' } }) } }]);
    const running = task('t1', 'RUNNING');
    expect(diffSnapshots(snap({ tasks: [staged] }), snap({ tasks: [running] }))).toEqual([
      { type: 'TASK_UPDATED', task_updated: { framework_id: { value: 'f1' }, state: 'TASK_RUNNING', status: expect.objectContaining({ task_id: { value: 't1' }, state: 'TASK_RUNNING', uuid: 'u-RUNNING' }) } },
    ]);
    // A health change with the same state is an update too.
    const healthy = task('t1', 'RUNNING', { status: { ...running.status, healthy: true, uuid: 'u2' } });
    expect(types({ tasks: [running] }, { tasks: [healthy] })).toEqual(['TASK_UPDATED']);
  });

  it('follows a task first seen past STAGING with TASK_UPDATED, so the launch and the update both show', () => {
    expect(types({}, { tasks: [task('t1', 'RUNNING')] })).toEqual(['TASK_ADDED', 'TASK_UPDATED']);
  });

  it('says nothing of a task leaving the table (garbage collected)', () => {
    expect(types({ tasks: [task('t1', 'FINISHED')] }, {})).toEqual([]);
  });

  it('adds reachable agents and removes ones that become unreachable, gone or leave the table', () => {
    expect(types({}, { agents: [agent('a1')] })).toEqual(['AGENT_ADDED']);
    expect(diffSnapshots(snap({}), snap({ agents: [agent('a1')] }))[0]).toMatchObject({ agent_added: { agent: { agent_info: { id: { value: 'a1' }, hostname: 'h-a1' }, active: true } } });
    expect(types({ agents: [agent('a1')] }, { agents: [agent('a1', { reachability: 'UNREACHABLE' })] })).toEqual(['AGENT_REMOVED']);
    expect(diffSnapshots(snap({ agents: [agent('a1')] }), snap({ agents: [agent('a1', { reachability: 'GONE' })] }))).toEqual([{ type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: 'a1' } } }]);
    expect(types({ agents: [agent('a1')] }, {})).toEqual(['AGENT_REMOVED']);
    // Back from unreachable, or re-registered (a new session): added again.
    expect(types({ agents: [agent('a1', { reachability: 'UNREACHABLE' })] }, { agents: [agent('a1')] })).toEqual(['AGENT_ADDED']);
    expect(types({ agents: [agent('a1')] }, { agents: [agent('a1', { session: 's2' })] })).toEqual(['AGENT_ADDED']);
    // Offers moving on an agent are no event.
    expect(types({ agents: [agent('a1')] }, { agents: [agent('a1', { offered: resources({ cpus: 1 }), version: 2 })] })).toEqual([]);
    // An unreachable agent leaving the table was removed already.
    expect(types({ agents: [agent('a1', { reachability: 'UNREACHABLE' })] }, {})).toEqual([]);
  });

  it('adds, updates and removes frameworks', () => {
    const f = framework('f1');
    expect(diffSnapshots(snap({}), snap({ frameworks: [f] }))).toEqual([{ type: 'FRAMEWORK_ADDED', framework_added: { framework: expect.objectContaining({ framework_info: expect.objectContaining({ id: { value: 'f1' }, name: 'fw-f1' }), connected: true }) } }]);
    expect(types({ frameworks: [f] }, { frameworks: [framework('f1', { connected: false, version: 2 })] })).toEqual(['FRAMEWORK_UPDATED']);
    expect(types({ frameworks: [f] }, { frameworks: [framework('f1', { lastSeenAt: 99, version: 2 })] })).toEqual([]);
    expect(diffSnapshots(snap({ frameworks: [f] }), snap({ frameworks: [framework('f1', { removedAt: 5 })] }))).toEqual([{ type: 'FRAMEWORK_REMOVED', framework_removed: { framework_info: expect.objectContaining({ id: { value: 'f1' } }) } }]);
    expect(types({ frameworks: [f] }, {})).toEqual(['FRAMEWORK_REMOVED']);
    // A framework already removed when first seen is not added.
    expect(types({}, { frameworks: [framework('f1', { removedAt: 5 })] })).toEqual([]);
  });

  it('orders agents, then frameworks, then tasks', () => {
    expect(types({}, { agents: [agent('a1')], frameworks: [framework('f1')], tasks: [task('t1', 'STAGING')] })).toEqual(['AGENT_ADDED', 'FRAMEWORK_ADDED', 'TASK_ADDED']);
  });
});
