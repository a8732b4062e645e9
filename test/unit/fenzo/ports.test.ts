import { describe, expect, it } from 'vitest';
import { cpuBinPacker, scheduleOnce } from '../../../src/fenzo/index.js';
import { lease, placement, task } from './helpers.js';

describe('ports', () => {
  const leases = [lease('h1', { ports: [{ begin: 31000, end: 31001 }, { begin: 31005, end: 31010 }] })];

  it('gives a task asking for a count the lowest free ports of the lease, distinct across tasks', () => {
    const r = scheduleOnce([task('a', { ports: 1 }), task('b', { ports: 3 }), task('c', { ports: 0 })], leases);
    expect(r.assignments.map((x) => [x.taskId, x.resources.ports])).toEqual([
      ['a', [{ begin: 31000, end: 31000 }]],
      ['b', [{ begin: 31001, end: 31001 }, { begin: 31005, end: 31006 }]],
      ['c', []],
    ]);
    expect(r.hosts[0]!.remaining.ports).toEqual([{ begin: 31007, end: 31010 }]);
  });

  it('gives exact ranges when a task asks for them, and refuses a host where they are taken', () => {
    const r = scheduleOnce([task('fixed', { ports: [{ begin: 31006, end: 31007 }] }), task('count', { ports: 2 }), task('again', { ports: [{ begin: 31007, end: 31007 }] })], leases);
    expect(r.assignments.map((x) => [x.taskId, x.resources.ports])).toEqual([
      ['fixed', [{ begin: 31006, end: 31007 }]],
      ['count', [{ begin: 31000, end: 31001 }]],
    ]);
    expect(r.failures[0]!.reasons).toEqual([{ kind: 'resource', resource: 'ports', hosts: 1, requested: 1, largestFree: 4 }]);
  });

  it('treats ports as a resource: a host without enough is skipped', () => {
    // The packer prefers the fuller host "few", but it has one port for a task asking two.
    const leases2 = [lease('few', { cpus: 1, ports: [{ begin: 1, end: 1 }] }), lease('many', { cpus: 2, ports: [{ begin: 100, end: 199 }] })];
    const r = scheduleOnce([task('t', { ports: 2 })], leases2, { fitnessCalculator: cpuBinPacker });
    expect(placement(r)).toEqual({ t: 'many' });
    expect(r.assignments[0]!.resources.ports).toEqual([{ begin: 100, end: 101 }]);
  });

  it('runs out once every port is taken', () => {
    const r = scheduleOnce([1, 2, 3].map((k) => task(`t${k}`, { ports: 4 })), leases);
    expect(r.assignments).toHaveLength(2);
    expect(r.failures[0]!.reasons).toEqual([{ kind: 'resource', resource: 'ports', hosts: 1, requested: 4, largestFree: 0 }]);
  });
});
