import { performance } from 'node:perf_hooks';
import { resources, subtract, type Resources } from '../src/core/resources.js';
import { allocate } from '../src/master-lambda/allocator/allocate.js';
import { declineFilterKey } from '../src/master-lambda/allocator/decline-filter.js';
import type {
  AllocationInput,
  AllocatorAgent,
  AllocatorFramework,
  AllocatorRole,
} from '../src/master-lambda/allocator/types.js';
import { median, percentile, type BenchSuite, type BenchTable, type Cell } from './report.js';

// One allocation round at the scale of Mesos's allocator benchmarks, with Mesos's own
// figures as the anchor. The shapes mirror (not copy) Mesos's tests:
//
// A. HierarchicalAllocator_BENCHMARK_Test.DeclineOffers at 10,000 agents x 1,000 frameworks:
//    agents of cpus:24;mem:4096;disk:4096;ports:[31000-32000], each already running
//    cpus:16;mem:2014;disk:1024 and 16 two-port ranges for framework (agent % 1000); every
//    framework in role "*"; frameworks decline every offer with a filter that never expires,
//    so each later round carries more filters. Anchor: ~1.06 s per round (optimized build).
// B. BENCHMARK_HierarchicalAllocator_WithQuotaParam.LargeAndSmallQuota at 2,500 + 500 roles:
//    3,000 agents of cpus:2;mem:2048;disk:2048, one framework per role; 2,500 roles limited
//    to cpus:1;mem:1024;disk:1024 (half an agent: the agent is chopped) and 500 roles to
//    cpus:4;mem:4096;disk:4096 (two agents). Anchor: ~16.8 s for the round.
// Both use Mesos's default min allocatable resources (cpus:0.01 or mem:32).

const MIN_ALLOCATABLE: readonly Resources[] = [resources({ cpus: 0.01 }), resources({ mem: 32 })];

function declineShape(agentCount: number, frameworkCount: number, rolePerFramework = false): AllocationInput {
  const total = resources({ cpus: 24, mem: 4096, disk: 4096, ports: [{ begin: 31000, end: 32000 }] });
  // 16 tasks, 1 cpu each and a port pair each, spread over the range (as Mesos's makePortRanges).
  const step = Math.floor(1000 / 16);
  const usedPorts = Array.from({ length: 16 }, (_, i) => ({ begin: 31000 + i * step, end: 31000 + i * step + 1 }));
  const used = resources({ cpus: 16, mem: 2014, disk: 1024, ports: usedPorts });
  const available = subtract(total, used);
  const agents: AllocatorAgent[] = Array.from({ length: agentCount }, (_, i) => ({
    id: `agent-${i}`,
    total,
    available,
    allocatable: true,
  }));
  const perFramework = Math.ceil(agentCount / frameworkCount);
  const held: Resources = {
    cpus: used.cpus * perFramework,
    mem: used.mem * perFramework,
    disk: used.disk * perFramework,
    network: 0,
    ports: usedPorts,
  };
  const frameworks: AllocatorFramework[] = Array.from({ length: frameworkCount }, (_, i) => {
    const role = rolePerFramework ? `role-${i}` : '*';
    return { id: `framework-${i}`, roles: [role], suppressedRoles: [], active: true, allocated: { [role]: held } };
  });
  return { agents, frameworks, roles: [], filters: new Set(), minAllocatable: MIN_ALLOCATABLE, seed: 1 };
}

function quotaShape(smallRoles: number, largeRoles: number): AllocationInput {
  const agentCount = smallRoles / 5 + largeRoles * 5;
  const total = resources({ cpus: 2, mem: 2048, disk: 2048 });
  const agents: AllocatorAgent[] = Array.from({ length: agentCount }, (_, i) => ({
    id: `agent-${i}`,
    total,
    available: total,
    allocatable: true,
  }));
  const small = resources({ cpus: 1, mem: 1024, disk: 1024 });
  const large = resources({ cpus: 4, mem: 4096, disk: 4096 });
  const roles: AllocatorRole[] = [
    ...Array.from({ length: smallRoles }, (_, i) => ({ name: `smallQuotaRole${i}`, weight: 1, quotaLimit: small })),
    ...Array.from({ length: largeRoles }, (_, i) => ({ name: `largeQuotaRole${i}`, weight: 1, quotaLimit: large })),
  ];
  const frameworks: AllocatorFramework[] = roles.map((r, i) => ({
    id: `framework-${i}`,
    roles: [r.name],
    suppressedRoles: [],
    active: true,
    allocated: {},
  }));
  return { agents, frameworks, roles, filters: new Set(), minAllocatable: MIN_ALLOCATABLE, seed: 1 };
}

interface Timing {
  ms: number;
  p90: number;
  offers: number;
}

function time(input: AllocationInput, runs: number, warmup: number): Timing {
  let offers = 0;
  for (let i = 0; i < warmup; i++) offers = allocate(input).offers.length;
  const sample: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    offers = allocate(input).offers.length;
    sample.push(performance.now() - t0);
  }
  return { ms: median(sample), p90: percentile(sample, 90), offers };
}

/** The next round of the decline shape: every offer of `input`'s round was declined for good. */
function afterDeclines(input: AllocationInput): AllocationInput {
  const filters = new Set(input.filters);
  for (const o of allocate(input).offers) filters.add(declineFilterKey(o.frameworkId, o.agentId));
  return { ...input, filters, seed: (input.seed ?? 0) + 1 };
}

function row(
  shape: string,
  input: AllocationInput,
  round: string,
  t: Timing,
  anchorMs: number | null,
  goalMs: number,
): Record<string, Cell> {
  return {
    shape,
    agents: input.agents.length,
    frameworks: input.frameworks.length,
    roles: new Set(input.frameworks.flatMap((f) => f.roles)).size,
    round,
    filters: input.filters.size,
    'ms/round (median)': t.ms,
    'p90 ms': t.p90,
    offers: t.offers,
    'Mesos ms': anchorMs,
    'Mesos/Stratus': anchorMs === null ? null : anchorMs / t.ms,
    'goal ms': goalMs,
    'meets goal': t.ms <= goalMs ? 'yes' : 'NO',
  };
}

export const allocatorSuite: BenchSuite = {
  name: 'allocator',
  description: 'one DRF allocation round at Mesos benchmark scale (pure engine, no I/O)',
  async run(args) {
    const quick = args.includes('--quick');
    const runs = quick ? 5 : 15;
    const warmup = quick ? 2 : 5;
    const declineRounds = quick ? 5 : 50;
    const rows: Record<string, Cell>[] = [];

    const a0 = declineShape(10_000, 1_000);
    rows.push(row('A DeclineOffers', a0, '0 (no filters)', time(a0, runs, warmup), 1060, 100));
    let ak = a0;
    for (let k = 0; k < declineRounds; k++) ak = afterDeclines(ak);
    rows.push(row('A DeclineOffers', ak, `${declineRounds} (after declines)`, time(ak, runs, warmup), 1060, 100));

    // Not in Mesos's suite: the same cluster with every framework in a role of its own,
    // so the role sorter (1,000 clients) does the work instead of one role's framework sorter.
    const r0 = declineShape(10_000, 1_000, true);
    rows.push(row('A, a role per framework', r0, '0 (no filters)', time(r0, runs, warmup), null, 100));

    const b = quotaShape(2_500, 500);
    rows.push(row('B LargeAndSmallQuota', b, '0', time(b, runs, warmup), 16_800, 1000));

    const table: BenchTable = {
      title: 'Allocation round: Stratus engine vs Mesos hierarchical allocator',
      columns: [
        'shape',
        'agents',
        'frameworks',
        'roles',
        'round',
        'filters',
        'ms/round (median)',
        'p90 ms',
        'offers',
        'Mesos ms',
        'Mesos/Stratus',
        'goal ms',
        'meets goal',
      ],
      rows,
      notes: [
        `median of ${runs} rounds after ${warmup} warm-up rounds on the same input; node ${process.version}`,
        'Mesos figures: optimized build, 2018, same shapes (A: DeclineOffers 10k agents x 1k frameworks; B: LargeAndSmallQuota 2500+500 roles)',
        'A after declines: each earlier round\'s offers became refusal filters that never expire, as in Mesos\'s benchmark',
        'Mesos/Stratus is the anchor divided by the Stratus median (how many times faster); the same hardware was not used',
      ],
    };
    return [table];
  },
};
