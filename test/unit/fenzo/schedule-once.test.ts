import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/core/errors.js';
import {
  asSoftConstraint,
  taskRequest,
  BalancedHostAttrConstraint,
  cpuBinPacker,
  cpuMemBinPacker,
  cpuSpreader,
  scheduleOnce,
  UniqueHostAttrConstraint,
  type VMTaskFitnessCalculator,
} from '../../../src/fenzo/index.js';
import { lease, placement, running, task, zones } from './helpers.js';

describe('scheduleOnce', () => {
  it('places tasks in input order, each seeing the ones before', () => {
    const r = scheduleOnce([task('a', { cpus: 6 }), task('b', { cpus: 3 }), task('c', { cpus: 2 })], [lease('h1'), lease('h2')], { fitnessCalculator: cpuBinPacker });
    expect(placement(r)).toEqual({ a: 'h1', b: 'h2', c: 'h1' });
    expect(r.assignments.map((a) => a.taskId)).toEqual(['a', 'b', 'c']);
    expect(r.hosts.map((h) => [h.hostname, h.tasks.map((t) => t.taskId), h.remaining.cpus])).toEqual([
      ['h1', ['a', 'c'], 0],
      ['h2', ['b'], 5000],
    ]);
  });

  it('returns the offers and agent to launch with, and the resources taken', () => {
    const r = scheduleOnce([task('a', { cpus: 0.5, mem: 256, disk: 10, network: 5, ports: 1 })], [lease('h1', { disk: 100, network: 100 })]);
    expect(r.assignments[0]).toEqual({
      taskId: 'a',
      hostname: 'h1',
      agentId: 'agent-h1',
      offerIds: ['offer-h1'],
      resources: { cpus: 500, mem: 256, disk: 10, network: 5, ports: [{ begin: 31000, end: 31000 }] },
      fitness: expect.any(Number),
    });
  });

  it('breaks ties by hostname, whatever the order of the leases', () => {
    const leases = [lease('h3'), lease('h1'), lease('h2')];
    expect(placement(scheduleOnce([task('a')], leases))).toEqual({ a: 'h1' });
    expect(placement(scheduleOnce([task('a')], [...leases].reverse()))).toEqual({ a: 'h1' });
  });

  it('is deterministic: the same input twice gives the identical output', () => {
    const leases = [...zones(3, ['a', 'b', 'c']), lease('x1', { cpus: 2.5 }), lease('x2', { cpus: 3.25, mem: 1000 })];
    const tasks = Array.from({ length: 40 }, (_, k) =>
      task(`t${k}`, {
        group: `g${k % 3}`,
        cpus: 0.25 + (k % 5) * 0.5,
        mem: 100 * (k % 7),
        ports: k % 2,
        ...(k % 4 === 0 ? { hard: [new BalancedHostAttrConstraint()] } : {}),
        ...(k % 4 === 1 ? { soft: [asSoftConstraint(new UniqueHostAttrConstraint())] } : {}),
      }),
    );
    const options = { runningTasks: [running('r1', 'a-host0', 'g1', { cpus: 1000 })] };
    const first = scheduleOnce(tasks, leases, options);
    const second = scheduleOnce(tasks, [...leases].reverse(), options);
    expect(second).toEqual(first);
    expect(JSON.stringify(scheduleOnce(tasks, leases, options))).toBe(JSON.stringify(first));
  });

  it('does not change its inputs', () => {
    const leases = [lease('h1'), lease('h2')];
    const tasks = [task('a', { ports: 2 }), task('b', { cpus: 7 })];
    const before = JSON.stringify([leases, tasks]);
    scheduleOnce(tasks, leases);
    expect(JSON.stringify([leases, tasks])).toBe(before);
  });

  it('ignores running tasks on hosts it does not know, except for their group counts', () => {
    const r = scheduleOnce([task('a', { group: 'g', hard: [new UniqueHostAttrConstraint()] })], [lease('h1')], {
      runningTasks: [running('r', 'gone', 'g')],
    });
    expect(placement(r)).toEqual({ a: 'h1' });
  });
});

describe('good enough', () => {
  // 50 hosts, the fullest last in hostname order.
  const leases = Array.from({ length: 50 }, (_, k) => lease(`h${String(k).padStart(2, '0')}`, { cpus: 8 - (k % 8) * 0.5, total: { cpus: 8 } }));

  it('1.0 searches for the best host', () => {
    const r = scheduleOnce([task('t', { cpus: 1 })], leases, { fitnessCalculator: cpuBinPacker, fitnessGoodEnough: 1 });
    // Hosts h07, h15, ... have 4.5 free, the least: h07 is the first of them.
    expect(placement(r)).toEqual({ t: 'h07' });
    expect(r.assignments[0]!.fitness).toBe((8000 - 4500 + 1000) / 8000);
  });

  it('a low threshold stops at the first fitting host scoring at least that', () => {
    // A calculator without a bound: a full search must evaluate every host.
    const plain: VMTaskFitnessCalculator = { name: 'plain', calculateFitness: (t, h, tr) => cpuBinPacker.calculateFitness(t, h, tr) };
    const early = scheduleOnce([task('t', { cpus: 1 })], leases, { fitnessCalculator: plain, fitnessGoodEnough: 0.1 });
    expect(placement(early)).toEqual({ t: 'h07' });
    expect(early.evaluations).toBe(1);
    const full = scheduleOnce([task('t', { cpus: 1 })], leases, { fitnessCalculator: plain, fitnessGoodEnough: 1 });
    expect(placement(full)).toEqual({ t: 'h07' });
    expect(full.evaluations).toBe(50);
  });

  it('takes the first host reaching the threshold, not the best', () => {
    // 50 like hosts (one bucket, tried in hostname order) scoring 0, 1/49, ..., 1.
    const alike = Array.from({ length: 50 }, (_, k) => lease(`h${String(k).padStart(2, '0')}`));
    const byName: VMTaskFitnessCalculator = { name: 'byName', calculateFitness: (_t, h) => Number(h.hostname.slice(1)) / 49 };
    const half = scheduleOnce([task('t')], alike, { fitnessCalculator: byName, fitnessGoodEnough: 0.5 });
    expect(placement(half)).toEqual({ t: 'h25' });
    expect(half.evaluations).toBe(26);
    const full = scheduleOnce([task('t')], alike, { fitnessCalculator: byName, fitnessGoodEnough: 1 });
    expect(placement(full)).toEqual({ t: 'h49' });
    expect(full.evaluations).toBe(50);
  });

  it('with the CPU index, the packer looks at the fullest fitting hosts first', () => {
    const r = scheduleOnce([task('t', { cpus: 1 })], leases, { fitnessCalculator: cpuBinPacker, fitnessGoodEnough: 0.1 });
    expect(placement(r)).toEqual({ t: 'h07' });
    expect(r.evaluations).toBe(1);
    const spread = scheduleOnce([task('t', { cpus: 1 })], leases, { fitnessCalculator: cpuSpreader, fitnessGoodEnough: 0.1 });
    expect(placement(spread)).toEqual({ t: 'h00' });
  });

  it('the bound lets a full search skip hosts that cannot win', () => {
    const r = scheduleOnce([task('t', { cpus: 1 })], leases, { fitnessCalculator: cpuBinPacker, fitnessGoodEnough: 1 });
    expect(r.evaluations).toBe(1);
    // With soft constraints the bound assumes a perfect soft score: still enough to stop here.
    const soft = scheduleOnce([task('t', { cpus: 1, soft: [asSoftConstraint(new UniqueHostAttrConstraint())] })], leases, {
      fitnessCalculator: cpuBinPacker,
    });
    expect(placement(soft)).toEqual({ t: 'h07' });
    expect(soft.evaluations).toBe(1);
    // Memory has no bound: the packer must look further, and still finds the best.
    const cpuMem = scheduleOnce([task('t', { cpus: 1 })], leases, { fitnessCalculator: cpuMemBinPacker });
    expect(placement(cpuMem)).toEqual({ t: 'h07' });
  });
});

describe('input checks', () => {
  it('refuses two leases for one host, duplicate task ids and bad options', () => {
    expect(() => scheduleOnce([], [lease('h1'), lease('h1')])).toThrow(ValidationError);
    expect(() => scheduleOnce([task('a'), task('a')], [lease('h1')])).toThrow(/appears twice/);
    expect(() => scheduleOnce([], [], { fitnessGoodEnough: 1.5 })).toThrow(ValidationError);
    expect(() => scheduleOnce([], [], { softConstraintWeight: -0.1 })).toThrow(ValidationError);
    const bad = { ...task('a'), resources: { ...task('a').resources, cpus: -1 } };
    expect(() => scheduleOnce([bad], [lease('h1')])).toThrow(/tasks\[0\]\.resources\.cpus/);
    const badLease = { ...lease('h1'), resources: { ...lease('h1').resources, mem: Number.NaN } };
    expect(() => scheduleOnce([], [badLease])).toThrow(/leases\[h1\]\.resources\.mem/);
    const badPorts = { ...task('a'), resources: { ...task('a').resources, ports: 1.5 } };
    expect(() => scheduleOnce([badPorts], [lease('h1')])).toThrow(ValidationError);
  });
});

describe('taskRequest', () => {
  it('converts user units to fixed units and validates like core resources', () => {
    const hard = [new UniqueHostAttrConstraint()];
    expect(taskRequest({ id: 'web-1', groupName: 'web', cpus: 0.5, mem: 256, ports: 2, hardConstraints: hard })).toEqual({
      id: 'web-1',
      groupName: 'web',
      resources: { cpus: 500, mem: 256, disk: 0, network: 0, ports: 2 },
      hardConstraints: hard,
    });
    expect(taskRequest({ id: 'x', ports: [{ begin: 8080, end: 8080 }] }).resources.ports).toEqual([{ begin: 8080, end: 8080 }]);
    expect(() => taskRequest({ id: 'x', cpus: -1 })).toThrow(/task\.resources\.cpus/);
    expect(() => taskRequest({ id: 'x', ports: -2 })).toThrow(ValidationError);
    expect(() => taskRequest({ id: '' })).toThrow(/task\.id/);
  });
});
