import { performance } from 'node:perf_hooks';
import { decide, type ControllerInput, type HostState, type PendingDemand } from '../src/autoscaler/decide.js';
import type { GroupRule } from '../src/autoscaler/rules.js';
import { median, percentile, type BenchSuite, type Cell } from './report.js';

// The autoscaler's decision function (pure) at 1,000 agents and 10,000 pending tasks: one
// decide() per pass, so its time bounds how often the leader can afford to look.

const NOW = 10_000_000;

function rule(group: string, cpus: number, mem: number): GroupRule {
  return { group, minSize: 1, maxSize: 5_000, minIdle: 2, maxIdle: 10, scaleUpCooldownMs: 60_000, scaleDownCooldownMs: 300_000, shape: { cpus, mem, disk: 0, ports: 0 }, zones: ['a', 'b', 'c'], drainBusy: false, drainTimeoutMs: 600_000 };
}

const RULES = [rule('small', 4, 16_384), rule('medium', 16, 65_536), rule('large', 64, 262_144)];

function input(agents: number, pending: number, idleShare: number, zoneSpread: 'hard' | 'off' = 'off'): ControllerInput {
  let seed = 42;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const hosts: HostState[] = Array.from({ length: agents }, (_, i) => {
    const idle = rand() < idleShare;
    return {
      agentId: `agent-${i}`,
      hostname: `host-${i}`,
      group: RULES[i % RULES.length]!.group,
      zone: ['a', 'b', 'c'][i % 3]!,
      activity: idle ? 'idle' : 'busy',
      registeredAt: 0,
      removing: false,
      ...(idle ? { idleSince: 0 } : {}),
    };
  });
  const tasks: PendingDemand[] = Array.from({ length: pending }, (_, i) => {
    const r = rand();
    const cpus = r < 0.6 ? 0.5 + Math.floor(rand() * 4) * 0.5 : r < 0.9 ? 4 + Math.floor(rand() * 8) : 16 + Math.floor(rand() * 32);
    return { id: `job-${i % 500}/${i}`, job: `job-${i % 500}`, zoneSpread, resources: { cpus, mem: cpus * 2048, disk: 0, ports: rand() < 0.3 ? 2 : 0 }, kind: rand() < 0.9 ? 'resource' : 'constraint', at: NOW - 1_000 };
  });
  return { rules: RULES, hosts, pending: tasks, inFlight: { small: 20 }, history: {}, options: { settleMs: 0 } };
}

function time(i: ControllerInput, runs: number, warmup: number): { median: number; p90: number; decisions: number; hosts: number } {
  let decisions = 0;
  let hosts = 0;
  for (let k = 0; k < warmup; k++) decide(i, NOW);
  const sample: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    const r = decide(i, NOW);
    sample.push(performance.now() - t0);
    decisions = r.decisions.length;
    hosts = r.decisions.reduce((n, d) => n + (d.kind === 'scale-up' ? d.count : -d.hosts.length), 0);
  }
  return { median: median(sample), p90: percentile(sample, 90), decisions, hosts };
}

export const autoscalerBench: BenchSuite = {
  name: 'autoscaler',
  description: 'the autoscaler decision function: decide() at 1,000 agents x 10,000 pending tasks (pure, no I/O)',
  async run(args) {
    const quick = args.includes('--quick');
    const runs = quick ? 5 : 20;
    const warmup = quick ? 2 : 5;
    const rows: Record<string, Cell>[] = [];
    for (const [shape, agents, pending, idle, spread] of [
      ['shortfall, 3 groups', 1_000, 10_000, 0, 'off'],
      ['shortfall + idle hosts', 1_000, 10_000, 0.3, 'off'],
      // The jobs' default: each job balanced over the zones, which the estimate honours.
      ['shortfall, hard zone spread', 1_000, 10_000, 0, 'hard'],
      ['scale-down only', 1_000, 0, 0.6, 'off'],
    ] as const) {
      const t = time(input(agents, pending, idle, spread), runs, warmup);
      rows.push({ shape, agents, pending, 'ms (median)': t.median, 'p90 ms': t.p90, decisions: t.decisions, 'net hosts': t.hosts, 'goal ms': 100, 'meets goal': t.median <= 100 ? 'yes' : 'no' });
    }
    return [
      {
        title: 'Autoscaler decision function: one decide() pass',
        columns: ['shape', 'agents', 'pending', 'ms (median)', 'p90 ms', 'decisions', 'net hosts', 'goal ms', 'meets goal'],
        rows,
        notes: [`median of ${runs} passes after ${warmup} warm-up passes on the same input; node ${process.version}`, 'tasks: 60% 0.5-2 cpus, 30% 4-11 cpus, 10% 16-47 cpus, 2 GiB per cpu, 500 jobs; 10% constraint failures (ignored)'],
      },
    ];
  },
};
