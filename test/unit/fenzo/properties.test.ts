import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countPorts, normalizeRanges, rangesContain, type PortRange, type Resources } from '../../../src/core/resources.js';
import {
  asSoftConstraint,
  BalancedHostAttrConstraint,
  cpuBinPacker,
  cpuMemBinPacker,
  cpuMemNetworkBinPacker,
  cpuMemSpreader,
  cpuSpreader,
  exclusiveHost,
  groupSpreader,
  HostAttrValueConstraint,
  memoryBinPacker,
  scheduleOnce,
  UniqueHostAttrConstraint,
  weightedAverage,
  type ConstraintEvaluator,
  type KnownHost,
  type RunningTask,
  type TaskRequest,
  type VMLease,
  type VMTaskFitnessCalculator,
} from '../../../src/fenzo/index.js';
import { referenceSchedule } from './reference.js';

// Random clusters and batches. Invariants hold for every threshold and calculator; with full
// search the result must equal the naive reference (every host evaluated, no index, no bound).

const ZONES = ['a', 'b', 'c'] as const;
const GROUPS = ['g1', 'g2', ''] as const;
const step = (max: number, unit: number) => fc.integer({ min: 0, max: max / unit }).map((x) => x * unit);

const balanced = new BalancedHostAttrConstraint();
const balancedListed = new BalancedHostAttrConstraint({ values: ['a', 'b'] });
const uniqueHost = new UniqueHostAttrConstraint();
const uniqueZone = new UniqueHostAttrConstraint('zone');
const inAB = new HostAttrValueConstraint('zone', ['a', 'b']);
const HARD: ConstraintEvaluator[] = [balanced, balancedListed, uniqueHost, uniqueZone, inAB, exclusiveHost];
const SOFT: VMTaskFitnessCalculator[] = [asSoftConstraint(balanced), asSoftConstraint(uniqueHost), asSoftConstraint(inAB), asSoftConstraint(exclusiveHost)];

const CALCULATORS: VMTaskFitnessCalculator[] = [
  cpuBinPacker,
  memoryBinPacker,
  cpuMemBinPacker,
  cpuMemNetworkBinPacker,
  cpuSpreader,
  cpuMemSpreader,
  groupSpreader,
  weightedAverage([
    { calculator: cpuBinPacker, weight: 0.6 },
    { calculator: groupSpreader, weight: 0.3 },
    { calculator: memoryBinPacker, weight: 0.1 },
  ]),
  weightedAverage([
    { calculator: cpuSpreader, weight: 2 },
    { calculator: cpuBinPacker, weight: 1 },
  ]),
];

const portRanges: fc.Arbitrary<PortRange[]> = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 4 })), { maxLength: 3 })
  .map((xs) => normalizeRanges(xs.map(([b, len]) => ({ begin: b, end: b + len }))));

const scalars = fc.record({ cpus: step(8000, 250), mem: step(8000, 250), disk: step(100, 25), network: step(100, 25) });

const leaseArb = (hostname: string): fc.Arbitrary<VMLease> =>
  fc.record({ free: scalars, extra: fc.option(scalars, { nil: undefined }), ports: portRanges, zone: fc.option(fc.constantFrom(...ZONES), { nil: undefined }) }).map(({ free, extra, ports, zone }) => {
    const resources: Resources = { ...free, ports };
    return {
      hostname,
      agentId: `agent-${hostname}`,
      offerIds: [`o-${hostname}`],
      resources,
      ...(zone ? { attributes: { zone } } : {}),
      ...(extra
        ? { totalResources: { cpus: free.cpus + extra.cpus, mem: free.mem + extra.mem + 250, disk: free.disk + extra.disk, network: free.network + extra.network, ports } }
        : {}),
    };
  });

const taskArb = (id: string): fc.Arbitrary<TaskRequest> =>
  fc
    .record({
      group: fc.constantFrom(...GROUPS),
      cpus: fc.integer({ min: 1, max: 16 }).map((x) => x * 250),
      mem: step(4000, 250),
      disk: step(50, 25),
      network: step(50, 25),
      ports: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 3 }), weight: 4 }, { arbitrary: portRanges, weight: 1 }),
      hard: fc.subarray(HARD, { maxLength: 2 }),
      soft: fc.subarray(SOFT, { maxLength: 2 }),
    })
    .map((t) => ({
      id,
      groupName: t.group,
      resources: { cpus: t.cpus, mem: t.mem, disk: t.disk, network: t.network, ports: t.ports },
      ...(t.hard.length ? { hardConstraints: t.hard } : {}),
      ...(t.soft.length ? { softConstraints: t.soft } : {}),
    }));

interface Scenario {
  leases: VMLease[];
  tasks: TaskRequest[];
  runningTasks: RunningTask[];
  knownHosts: KnownHost[];
  softConstraintWeight: number;
}

const scenario: fc.Arbitrary<Scenario> = fc
  .record({ hosts: fc.integer({ min: 0, max: 9 }), tasks: fc.integer({ min: 1, max: 16 }), seedOrder: fc.array(fc.nat(), { minLength: 9, maxLength: 9 }) })
  .chain(({ hosts, tasks, seedOrder }) => {
    // Host names out of order, so the input order never matches the tie-break order by luck.
    const names = Array.from({ length: hosts }, (_, k) => `h${k}`).sort((x, y) => seedOrder[Number(x.slice(1))]! - seedOrder[Number(y.slice(1))]!);
    return fc.record({
      leases: fc.tuple(...names.map(leaseArb)).map((xs) => [...xs]),
      tasks: fc.tuple(...Array.from({ length: tasks }, (_, k) => taskArb(`t${k}`))).map((xs) => [...xs]),
      runningTasks: fc.array(
        fc.record({
          taskId: fc.string({ minLength: 1, maxLength: 4 }).map((s) => `r-${s}`),
          groupName: fc.constantFrom(...GROUPS),
          hostname: fc.constantFrom(...names, 'k1', 'gone'),
          exclusive: fc.nat(5).map((x) => x === 0),
          resources: fc.option(scalars.map((r): Resources => ({ ...r, ports: [] })), { nil: undefined }),
        }).map(({ resources, ...t }): RunningTask => (resources ? { ...t, resources } : t)),
        { maxLength: 6 },
      ),
      knownHosts: fc.subarray([{ hostname: 'k1', attributes: { zone: 'c' } }, { hostname: 'k2', attributes: { zone: 'a' } }]),
      softConstraintWeight: fc.constantFrom(0, 0.5, 0.8, 1),
    });
  });

function hostOf(leases: readonly VMLease[], hostname: string): VMLease {
  return leases.find((l) => l.hostname === hostname)!;
}

describe('scheduleOnce properties', () => {
  it('full search equals the naive reference (same hosts, ports and fitness)', () => {
    fc.assert(
      fc.property(scenario, fc.nat(CALCULATORS.length - 1), (s, which) => {
        const options = { fitnessCalculator: CALCULATORS[which]!, runningTasks: s.runningTasks, knownHosts: s.knownHosts, softConstraintWeight: s.softConstraintWeight };
        const got = scheduleOnce(s.tasks, s.leases, { ...options, fitnessGoodEnough: 1 });
        const want = referenceSchedule(s.tasks, s.leases, options);
        expect(got.assignments.map((a) => ({ taskId: a.taskId, hostname: a.hostname, ports: a.resources.ports, fitness: a.fitness }))).toEqual(want.assignments);
        expect(got.failures.map((f) => f.taskId)).toEqual(want.failed);
      }),
      { numRuns: 1000 },
    );
  });

  it('never over-commits a host, and hands out ports that are in the lease and distinct', () => {
    fc.assert(
      fc.property(scenario, fc.nat(CALCULATORS.length - 1), fc.constantFrom(0.1, 0.5, 1), (s, which, goodEnough) => {
        const r = scheduleOnce(s.tasks, s.leases, { fitnessCalculator: CALCULATORS[which]!, fitnessGoodEnough: goodEnough, runningTasks: s.runningTasks, knownHosts: s.knownHosts });
        expect([...r.assignments.map((a) => a.taskId), ...r.failures.map((f) => f.taskId)].sort()).toEqual(s.tasks.map((t) => t.id).sort());
        const byHost = new Map<string, typeof r.assignments>();
        for (const a of r.assignments) byHost.set(a.hostname, [...(byHost.get(a.hostname) ?? []), a]);
        for (const [hostname, list] of byHost) {
          const offered = hostOf(s.leases, hostname).resources;
          for (const k of ['cpus', 'mem', 'disk', 'network'] as const) {
            expect(list.reduce((sum, a) => sum + a.resources[k], 0)).toBeLessThanOrEqual(offered[k]);
          }
          const taken: number[] = [];
          for (const a of list) {
            const t = s.tasks.find((x) => x.id === a.taskId)!;
            const wanted = t.resources.ports;
            expect(countPorts(a.resources.ports)).toBe(typeof wanted === 'number' ? wanted : countPorts(normalizeRanges(wanted)));
            expect(rangesContain(offered.ports, a.resources.ports)).toBe(true);
            for (const p of a.resources.ports) for (let port = p.begin; port <= p.end; port++) taken.push(port);
          }
          expect(new Set(taken).size).toBe(taken.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('every assignment satisfies its hard constraints, counting running tasks and earlier assignments', () => {
    fc.assert(
      fc.property(scenario, fc.nat(CALCULATORS.length - 1), fc.constantFrom(0.1, 1), (s, which, goodEnough) => {
        const r = scheduleOnce(s.tasks, s.leases, { fitnessCalculator: CALCULATORS[which]!, fitnessGoodEnough: goodEnough, runningTasks: s.runningTasks, knownHosts: s.knownHosts });
        const zoneOf = (hostname: string): string | undefined =>
          s.leases.find((l) => l.hostname === hostname)?.attributes?.zone ?? s.knownHosts.find((k) => k.hostname === hostname)?.attributes.zone;
        const allZones = [...new Set([...s.leases, ...s.knownHosts].map((h) => ('resources' in h ? h.attributes?.zone : h.attributes.zone)).filter((z): z is string => z !== undefined))];
        // Replay: what ran before each assignment.
        const placed: { group: string; hostname: string; exclusive: boolean }[] = s.runningTasks
          .filter((t) => s.leases.some((l) => l.hostname === t.hostname) || s.knownHosts.some((k) => k.hostname === t.hostname))
          .map((t) => ({ group: t.groupName, hostname: t.hostname, exclusive: t.exclusive === true }));
        for (const a of r.assignments) {
          const t = s.tasks.find((x) => x.id === a.taskId)!;
          const hard = t.hardConstraints ?? [];
          const zone = zoneOf(a.hostname);
          const sameGroup = placed.filter((p) => p.group === t.groupName);
          const onHost = placed.filter((p) => p.hostname === a.hostname);
          expect(onHost.some((p) => p.exclusive)).toBe(false);
          if (hard.includes(exclusiveHost)) expect(onHost).toEqual([]);
          if (hard.includes(inAB)) expect(['a', 'b']).toContain(zone);
          if (hard.includes(uniqueHost)) expect(sameGroup.filter((p) => p.hostname === a.hostname)).toEqual([]);
          if (hard.includes(uniqueZone)) expect(sameGroup.filter((p) => zoneOf(p.hostname) === zone)).toEqual([]);
          const count = (z: string) => sameGroup.filter((p) => zoneOf(p.hostname) === z).length;
          if (hard.includes(balanced)) expect(count(zone!)).toBe(Math.min(...allZones.map(count)));
          if (hard.includes(balancedListed)) expect(count(zone!)).toBe(Math.min(count('a'), count('b')));
          placed.push({ group: t.groupName, hostname: a.hostname, exclusive: hard.includes(exclusiveHost) });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic whatever the order of the leases', () => {
    fc.assert(
      fc.property(scenario, fc.nat(CALCULATORS.length - 1), fc.constantFrom(0.1, 1), (s, which, goodEnough) => {
        const options = { fitnessCalculator: CALCULATORS[which]!, fitnessGoodEnough: goodEnough, runningTasks: s.runningTasks, knownHosts: s.knownHosts };
        expect(scheduleOnce(s.tasks, [...s.leases].reverse(), options)).toEqual(scheduleOnce(s.tasks, s.leases, options));
      }),
      { numRuns: 150 },
    );
  });
});
