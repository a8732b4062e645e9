import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../src/core/errors.js';
import { resources } from '../../../../src/core/resources.js';
import type { TaskSpec } from '../../../../src/core/task.js';
import { decodeTaskInfo } from '../../../../src/master-lambda/codec/task-info.js';
import { afterTaskEnded, ExecutorLedger, hasExecutor } from '../../../../src/master-lambda/use-cases/executors.js';
import { agent, task } from '../../../contract/state/registry.contract.js';

// Custom executors on the master: TaskInfo.executor decoded as Mesos validates it, the
// executor's resources counted once per executor on an agent, and returned with its last task.

const cpusMem = (cpus: number, mem: number) => [
  { name: 'cpus', type: 'SCALAR', scalar: { value: cpus } },
  { name: 'mem', type: 'SCALAR', scalar: { value: mem } },
];
const executor = (id: string, extra: Record<string, unknown> = {}) => ({ executor_id: { value: id }, command: { value: '/bin/exec' }, resources: cpusMem(0.25, 64), ...extra });
const taskInfo = (id: string, extra: Record<string, unknown>) => ({ name: id, task_id: { value: id }, agent_id: { value: 'A1' }, resources: cpusMem(0.5, 32), ...extra });
const decode = (v: unknown) => decodeTaskInfo(v, 't');

function fieldOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof ValidationError) return e.field;
    throw e;
  }
  return undefined;
}

describe('TaskInfo.executor', () => {
  it('decodes a task without a command that names a custom executor (nulls are unset)', () => {
    const d = decode(taskInfo('t1', { executor: executor('e1', { labels: null, container: null }), data: 'aGk=' }));
    expect(d.spec.command).toBeUndefined();
    expect(d.spec.executorId).toBe('e1');
    expect(d.spec.data).toBe('aGk=');
    expect(d.spec.executor).toMatchObject({ executorId: 'e1', command: { shell: true, value: '/bin/exec' }, resources: { cpus: 250, mem: 64 } });
    expect(d.spec.executor?.info).not.toHaveProperty('labels');
  });

  it('refuses what Mesos refuses, naming the field', () => {
    expect(fieldOf(() => decode(taskInfo('t1', { executor: executor('e1'), command: { value: 'true' } })))).toBe('t.command');
    expect(fieldOf(() => decode(taskInfo('t1', { executor: { executor_id: { value: 'e1' } } })))).toBe('t.executor.command');
    expect(fieldOf(() => decode(taskInfo('t1', { executor: executor('e1', { type: 'DEFAULT' }) })))).toBe('t.executor.type');
    expect(fieldOf(() => decode(taskInfo('t1', { executor: executor('bad/id') })))).toBe('t.executor.executor_id.value');
    expect(fieldOf(() => decode(taskInfo('t1', { executor: executor('e1', { resources: [{ name: 'gpus', scalar: { value: 1 } }] }) })))).toMatch(/^t\.executor\.resources/);
    expect(fieldOf(() => decode(taskInfo('t1', { executor: { ...executor('e1'), executor_id: undefined } })))).toBe('t.executor.executor_id');
  });
});

describe('ExecutorLedger', () => {
  const spec = (id: string, extra: Record<string, unknown> = {}): TaskSpec => decode(taskInfo('x', { executor: executor(id, extra) })).spec;

  it('counts a new executor once, for the first of its tasks', () => {
    const l = new ExecutorLedger(agent('A1'), 'F1');
    expect(l.extra(spec('e1'))).toMatchObject({ cpus: 250, mem: 64 });
    l.charge(spec('e1'), 't1');
    expect(l.extra(spec('e1'))).toMatchObject({ cpus: 0, mem: 0 });
    l.charge(spec('e1'), 't2');
    expect(l.agentFields().executors?.['F1/e1']).toMatchObject({ tasks: ['t1', 't2'], resources: { cpus: 250, mem: 64 } });
    // Another framework's executor of the same id is another executor.
    expect(new ExecutorLedger({ ...agent('A1'), ...l.agentFields() }, 'F2').extra(spec('e1'))).toMatchObject({ cpus: 250 });
  });

  it('refuses another ExecutorInfo under a running id, another framework id, and an executor in a task group', () => {
    const l = new ExecutorLedger(agent('A1'), 'F1');
    l.charge(spec('e1'), 't1');
    expect(l.invalid(spec('e1'), false)).toBeUndefined();
    expect(l.invalid(spec('e1', { name: 'other' }), false)).toMatch(/different ExecutorInfo/);
    expect(l.invalid(spec('e2', { framework_id: { value: 'F9' } }), false)).toMatch(/names framework F9/);
    expect(l.invalid(spec('e2', { framework_id: { value: 'F1' } }), false)).toBeUndefined();
    expect(l.invalid(spec('e2'), true)).toMatch(/task group/);
    expect(l.invalid({ name: 'plain', command: { shell: true, value: 'true' } }, false)).toBeUndefined();
  });

  it('changes nothing for tasks without an executor', () => {
    const l = new ExecutorLedger(agent('A1'), 'F1');
    l.charge({ name: 'plain' }, 't1');
    expect(l.agentFields()).toEqual({});
  });
});

describe('afterTaskEnded', () => {
  it("returns a task's resources, and its executor's with the executor's last task", () => {
    const s = decode(taskInfo('x', { executor: executor('e1') })).spec;
    const l = new ExecutorLedger(agent('A1'), 'F1');
    l.charge(s, 't1');
    l.charge(s, 't2');
    const t = (id: string) => task('F1', id, 'A1', { resources: resources({ cpus: 0.5, mem: 32 }), spec: s });
    let a = { ...agent('A1', { allocated: resources({ cpus: 1.25, mem: 128 }) }), ...l.agentFields() };
    expect(hasExecutor(a, 'F1', 'e1')).toBe(true);
    a = { ...a, ...afterTaskEnded(a, t('t1')) };
    expect(a.allocated).toMatchObject({ cpus: 750, mem: 96 });
    expect(a.executors?.['F1/e1']?.tasks).toEqual(['t2']);
    a = { ...a, ...afterTaskEnded(a, t('t2')) };
    expect(a.allocated).toMatchObject({ cpus: 0, mem: 0 });
    expect(hasExecutor(a, 'F1', 'e1')).toBe(false);
    // A task with no executor entry (or a plain task) returns its own resources only.
    const plain = task('F1', 'p', 'A1', { resources: resources({ cpus: 0.5, mem: 32 }) });
    expect(afterTaskEnded({ ...agent('A1'), allocated: resources({ cpus: 1, mem: 64 }) }, plain).allocated).toMatchObject({ cpus: 500, mem: 32 });
  });
});
