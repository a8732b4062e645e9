import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/core/errors.js';
import {
  cpuBinPacker,
  cpuMemBinPacker,
  cpuMemNetworkBinPacker,
  cpuMemSpreader,
  cpuSpreader,
  groupSpreader,
  memoryBinPacker,
  memorySpreader,
  networkBinPacker,
  scheduleOnce,
  weightedAverage,
  type ClusterStats,
  type TaskTrackerState,
  type VMTaskFitnessCalculator,
  type VirtualMachineCurrentState,
} from '../../../src/fenzo/index.js';
import { lease, placement, running, task } from './helpers.js';

// A host state in fixed units, for calling calculators directly.
function host(s: Partial<VirtualMachineCurrentState>): VirtualMachineCurrentState {
  return {
    hostname: 'h',
    agentId: 'a',
    attributes: {},
    index: 0,
    freeCpus: 0,
    freeMem: 0,
    freeDisk: 0,
    freeNetwork: 0,
    freePorts: 0,
    freePortRanges: [],
    totalCpus: 0,
    totalMem: 0,
    totalDisk: 0,
    totalNetwork: 0,
    taskCount: 0,
    runningTasks: [],
    assignedTasks: [],
    ...s,
  };
}

const noTracker: TaskTrackerState = {
  groupTasksOnHost: () => 0,
  groupTasksByAttribute: () => {
    throw new Error('not used');
  },
};

describe('bin packers', () => {
  const t = task('t', { cpus: 2, mem: 1000, network: 100 });
  const h = host({ totalCpus: 8000, freeCpus: 6000, totalMem: 4000, freeMem: 4000, totalNetwork: 1000, freeNetwork: 500 });

  it('score the share of the host in use once the task is placed', () => {
    expect(cpuBinPacker.calculateFitness(t, h, noTracker)).toBe(0.5); // (8 - 6 + 2) / 8
    expect(memoryBinPacker.calculateFitness(t, h, noTracker)).toBe(0.25); // (4000 - 4000 + 1000) / 4000
    expect(networkBinPacker.calculateFitness(t, h, noTracker)).toBe(0.6); // (1000 - 500 + 100) / 1000
    expect(cpuMemBinPacker.calculateFitness(t, h, noTracker)).toBe((0.5 + 0.25) / 2);
    expect(cpuMemNetworkBinPacker.calculateFitness(t, h, noTracker)).toBeCloseTo((0.5 + 0.25 + 0.6) / 3, 12);
  });

  it('count a resource the host has none of as full', () => {
    const noNetwork = host({ totalCpus: 8000, freeCpus: 8000, totalMem: 8000, freeMem: 8000 });
    expect(networkBinPacker.calculateFitness(task('x', { network: 0 }), noNetwork, noTracker)).toBe(1);
  });

  it('put the task on the fullest host that fits (CPU)', () => {
    const leases = [lease('empty', { cpus: 8 }), lease('half', { cpus: 4, total: { cpus: 8 } }), lease('tight', { cpus: 1, total: { cpus: 8 } })];
    const r = scheduleOnce([task('a', { cpus: 2 }), task('b', { cpus: 1 })], leases, { fitnessCalculator: cpuBinPacker });
    expect(placement(r)).toEqual({ a: 'half', b: 'tight' });
  });

  it('pack by memory with the memory packer, ignoring CPU', () => {
    const leases = [lease('lowcpu-bigmem', { cpus: 1, mem: 8000 }), lease('bigcpu-lowmem', { cpus: 8, mem: 2000, total: { cpus: 8, mem: 8000 } })];
    const r = scheduleOnce([task('a', { cpus: 1, mem: 1000 })], leases, { fitnessCalculator: memoryBinPacker });
    expect(placement(r)).toEqual({ a: 'bigcpu-lowmem' });
  });

  it('count running tasks into the host total when the lease has none (as Fenzo)', () => {
    // Both offer 4 CPUs; host "busy" also runs 4 CPUs of tasks, so it is the fuller one.
    const leases = [lease('idle', { cpus: 4 }), lease('busy', { cpus: 4 })];
    const r = scheduleOnce([task('a', { cpus: 2 })], leases, {
      fitnessCalculator: cpuBinPacker,
      runningTasks: [running('r1', 'busy', 'g', { cpus: 4000 })],
    });
    expect(placement(r)).toEqual({ a: 'busy' });
    expect(r.assignments[0]!.fitness).toBe(0.75); // (8 - 4 + 2) / 8
  });
});

describe('spreaders', () => {
  const t = task('t', { cpus: 2, mem: 1000 });
  const h = host({ totalCpus: 8000, freeCpus: 6000, totalMem: 4000, freeMem: 4000 });

  it('score the share left free after placing the task', () => {
    expect(cpuSpreader.calculateFitness(t, h, noTracker)).toBe(0.5); // (6 - 2) / 8
    expect(memorySpreader.calculateFitness(t, h, noTracker)).toBe(0.75);
    expect(cpuMemSpreader.calculateFitness(t, h, noTracker)).toBe(0.625);
  });

  it('put the task on the emptiest host', () => {
    const leases = [lease('half', { cpus: 4, total: { cpus: 8 } }), lease('empty', { cpus: 8 }), lease('tight', { cpus: 1, total: { cpus: 8 } })];
    for (const calculator of [cpuSpreader, cpuMemSpreader]) {
      const r = scheduleOnce([task('a', { cpus: 1, mem: 100 })], leases, { fitnessCalculator: calculator });
      expect(placement(r)).toEqual({ a: 'empty' });
    }
  });

  it('groupSpreader prefers hosts with fewer tasks of the same group', () => {
    const leases = [lease('h1'), lease('h2'), lease('h3')];
    const r = scheduleOnce([task('a', { group: 'web' }), task('b', { group: 'web' })], leases, {
      fitnessCalculator: groupSpreader,
      runningTasks: [running('r1', 'h1', 'web'), running('r2', 'h2', 'db')],
    });
    // h1 runs a web task: a goes to h2 (first of the hosts without one), b to h3.
    expect(placement(r)).toEqual({ a: 'h2', b: 'h3' });
    expect(r.assignments[0]!.fitness).toBe(1);
  });
});

describe('weightedAverage', () => {
  const t = task('t', { cpus: 2, mem: 1000 });
  const h = host({ totalCpus: 8000, freeCpus: 6000, totalMem: 4000, freeMem: 4000 });

  it('is the weighted mean of its parts (weights normalised)', () => {
    const c = weightedAverage([
      { calculator: cpuBinPacker, weight: 3 },
      { calculator: memoryBinPacker, weight: 1 },
    ]);
    expect(c.calculateFitness(t, h, noTracker)).toBe((3 * 0.5 + 1 * 0.25) / 4);
  });

  it('follows the heavier side for the search order and bounds only when a part can', () => {
    const spread = weightedAverage([
      { calculator: cpuSpreader, weight: 0.7 },
      { calculator: cpuBinPacker, weight: 0.3 },
    ]);
    expect(spread.searchOrder).toBe('spreading');
    expect(spread.upperBound).toBeDefined();
    const unbounded = weightedAverage([{ calculator: memoryBinPacker, weight: 1 }]);
    expect(unbounded.searchOrder).toBe('packing');
    expect(unbounded.upperBound).toBeUndefined();
  });

  it('composes in scheduleOnce: packing outweighs spreading the group', () => {
    const leases = [lease('h1', { cpus: 2, total: { cpus: 8 } }), lease('h2', { cpus: 8 })];
    const packFirst = weightedAverage([
      { calculator: cpuBinPacker, weight: 0.9 },
      { calculator: groupSpreader, weight: 0.1 },
    ]);
    const spreadFirst = weightedAverage([
      { calculator: cpuBinPacker, weight: 0.1 },
      { calculator: groupSpreader, weight: 0.9 },
    ]);
    const runningTasks = [running('r1', 'h1', 'web')];
    expect(placement(scheduleOnce([task('a', { group: 'web' })], leases, { fitnessCalculator: packFirst, runningTasks }))).toEqual({ a: 'h1' });
    expect(placement(scheduleOnce([task('a', { group: 'web' })], leases, { fitnessCalculator: spreadFirst, runningTasks }))).toEqual({ a: 'h2' });
  });

  it('rejects empty lists and bad weights', () => {
    expect(() => weightedAverage([])).toThrow(ValidationError);
    expect(() => weightedAverage([{ calculator: cpuBinPacker, weight: -1 }])).toThrow(ValidationError);
    expect(() => weightedAverage([{ calculator: cpuBinPacker, weight: 0 }])).toThrow(ValidationError);
  });
});

describe('upper bounds', () => {
  // A bound must never be below the score of a host whose free CPUs lie in the range, or the
  // full search would skip the best host.
  const bounded: VMTaskFitnessCalculator[] = [
    cpuBinPacker,
    cpuMemBinPacker,
    cpuMemNetworkBinPacker,
    cpuSpreader,
    cpuMemSpreader,
    weightedAverage([
      { calculator: cpuBinPacker, weight: 2 },
      { calculator: memorySpreader, weight: 1 },
      { calculator: cpuSpreader, weight: 0.5 },
    ]),
  ];

  it('hold for every host in the range', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ total: fc.integer({ min: 0, max: 64_000 }), used: fc.integer({ min: 0, max: 64_000 }) }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 64_000 }),
        fc.integer({ min: 0, max: 8000 }),
        fc.integer({ min: 1, max: 16_000 }),
        fc.nat(5),
        (shapes, requested, mem, totalMem, which) => {
          const calculator = bounded[which]!;
          const hosts = shapes.map((s) => ({ total: s.total, free: Math.max(0, s.total - s.used) }));
          const cluster: ClusterStats = {
            maxTotalCpus: Math.max(...hosts.map((h) => h.total)),
            minTotalCpus: Math.min(...hosts.map((h) => h.total)),
          };
          const t = task('t', { cpus: requested / 1000, mem: 0 });
          for (const h of hosts) {
            if (h.free < requested) continue;
            const view = host({ totalCpus: h.total, freeCpus: h.free, totalMem, freeMem: Math.min(mem, totalMem), totalNetwork: 0 });
            const fit = calculator.calculateFitness(t, view, noTracker);
            // The tightest range around this host and a loose one.
            expect(calculator.upperBound!(t, h.free, h.free, cluster)).toBeGreaterThanOrEqual(fit);
            expect(calculator.upperBound!(t, Math.max(0, h.free - 777), h.free + 777, cluster)).toBeGreaterThanOrEqual(fit);
          }
        },
      ),
    );
  });

  it('are exact for a bucket of identical hosts (what makes the full search cheap)', () => {
    const t = task('t', { cpus: 1 });
    const view = host({ totalCpus: 8000, freeCpus: 3000 });
    const cluster = { maxTotalCpus: 8000, minTotalCpus: 8000 };
    expect(cpuBinPacker.upperBound!(t, 3000, 3000, cluster)).toBe(cpuBinPacker.calculateFitness(t, view, noTracker));
    expect(cpuSpreader.upperBound!(t, 3000, 3000, cluster)).toBe(cpuSpreader.calculateFitness(t, view, noTracker));
  });
});
