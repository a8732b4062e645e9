import { describe, expect, it } from 'vitest';
import { cpuBinPacker, HostAttrValueConstraint, isResourceShortfall, scheduleOnce, UniqueHostAttrConstraint } from '../../../src/fenzo/index.js';
import { lease, placement, running, task } from './helpers.js';

describe('failure reasons', () => {
  it('count, per resource, the hosts short of it and the most any host has free', () => {
    const leases = [lease('h1', { cpus: 2, mem: 8000 }), lease('h2', { cpus: 4, mem: 1000 }), lease('h3', { cpus: 1, mem: 500 })];
    const r = scheduleOnce([task('big', { cpus: 3, mem: 2000 })], leases);
    expect(r.failures).toEqual([
      {
        taskId: 'big',
        groupName: '',
        reasons: [
          { kind: 'resource', resource: 'cpus', hosts: 2, requested: 3000, largestFree: 4000 },
          { kind: 'resource', resource: 'mem', hosts: 2, requested: 2000, largestFree: 8000 },
        ],
        message: 'task big not placed: cpus short on 2 host(s) (asks 3000 millicpus, most free 4000); mem short on 2 host(s) (asks 2000 MiB, most free 8000)',
      },
    ]);
    expect(isResourceShortfall(r.failures[0]!)).toBe(true);
  });

  it('cover disk, network and ports too', () => {
    const leases = [lease('h1', { disk: 100, network: 50, ports: [{ begin: 1, end: 2 }] })];
    const r = scheduleOnce([task('t', { disk: 200, network: 100, ports: 3 })], leases);
    expect(r.failures[0]!.reasons.map((x) => x.kind === 'resource' && x.resource)).toEqual(['disk', 'network', 'ports']);
  });

  it('tell resource shortfall from constraints, counting constraint refusals only on hosts with room', () => {
    const leases = [
      lease('small', { cpus: 1, attributes: { zone: 'a' } }),
      lease('a-big', { attributes: { zone: 'a' } }),
      lease('b-big', { attributes: { zone: 'b' } }),
      lease('c-big', { attributes: { zone: 'c' } }),
    ];
    const onlyC = new HostAttrValueConstraint('zone', 'c');
    const unique = new UniqueHostAttrConstraint();
    const r = scheduleOnce([task('t', { group: 'g', cpus: 2, hard: [unique, onlyC] })], leases, { runningTasks: [running('r', 'c-big', 'g')] });
    expect(r.failures[0]!.reasons).toEqual([
      { kind: 'resource', resource: 'cpus', hosts: 1, requested: 2000, largestFree: 8000 },
      { kind: 'constraint', constraint: 'UniqueHostAttrConstraint[hostname]', hosts: 1, detail: "hostname=c-big already has 1 task(s) of group 'g'" },
      { kind: 'constraint', constraint: 'HostAttrValueConstraint[zone]', hosts: 2, detail: 'zone=a is not one of c' },
    ]);
  });

  it('say so when no host offers anything', () => {
    const r = scheduleOnce([task('t')], []);
    expect(r.failures[0]!.reasons).toEqual([{ kind: 'noLeases' }]);
    expect(r.failures[0]!.message).toBe('task t not placed: no host is offering resources');
    expect(isResourceShortfall(r.failures[0]!)).toBe(true);
  });

  it('reflect the tasks placed earlier in the same call', () => {
    const r = scheduleOnce([task('a', { cpus: 6 }), task('b', { cpus: 6 })], [lease('h1'), lease('h2', { cpus: 4 })]);
    expect(placement(r)).toEqual({ a: 'h1' });
    expect(r.failures[0]!.reasons).toEqual([{ kind: 'resource', resource: 'cpus', hosts: 2, requested: 6000, largestFree: 4000 }]);
  });
});

describe('group caps', () => {
  it('stop a group at its allocation, counting running and newly assigned tasks', () => {
    const leases = [lease('h1'), lease('h2')];
    const r = scheduleOnce([task('w1', { group: 'web', cpus: 2 }), task('w2', { group: 'web', cpus: 2 }), task('d1', { group: 'db', cpus: 2 })], leases, {
      fitnessCalculator: cpuBinPacker,
      groupCaps: { web: { cpus: 5000 } },
      runningTasks: [running('r', 'h2', 'web', { cpus: 1000, mem: 100 })],
    });
    // 1 CPU running + 2 (w1) + 2 (w2) = 5: both fit under the 5-CPU cap; db has no cap.
    expect(placement(r)).toEqual({ w1: 'h2', w2: 'h2', d1: 'h2' });
    const more = scheduleOnce([task('w1', { group: 'web', cpus: 2 }), task('w2', { group: 'web', cpus: 2 }), task('w3', { group: 'web', cpus: 1 })], leases, {
      groupCaps: { web: { cpus: 5000, mem: 100_000 } },
      runningTasks: [running('r', 'h2', 'web', { cpus: 1000, mem: 100 })],
    });
    expect(more.assignments.map((a) => a.taskId)).toEqual(['w1', 'w2']);
    expect(more.failures).toEqual([
      {
        taskId: 'w3',
        groupName: 'web',
        reasons: [{ kind: 'groupCap', group: 'web', resource: 'cpus', requested: 1000, used: 5000, cap: 5000 }],
        message: "task w3 not placed: group 'web' would exceed its cpus cap (5000 used + 1000 asked > 5000)",
      },
    ]);
    expect(isResourceShortfall(more.failures[0]!)).toBe(false);
  });

  it('apply per resource, and leave other groups alone', () => {
    const r = scheduleOnce([task('a', { group: 'g', mem: 600 }), task('b', { group: 'g', mem: 600 }), task('c', { group: 'h', mem: 600 })], [lease('h1')], {
      groupCaps: { g: { mem: 1000 } },
    });
    expect(placement(r)).toEqual({ a: 'h1', c: 'h1' });
    expect(r.failures[0]!.reasons).toEqual([{ kind: 'groupCap', group: 'g', resource: 'mem', requested: 600, used: 600, cap: 1000 }]);
  });
});
