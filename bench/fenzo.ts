import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Resources } from '../src/core/resources.js';
import { cpuBinPacker, scheduleOnce, type TaskRequest, type VMLease } from '../src/fenzo/index.js';
import { median, percentile, type BenchSuite, type BenchTable, type Cell } from './report.js';

// Fenzo's own published workload, its TestLotsOfTasks, run on Stratus's scheduler and on Netflix's
// released fenzo-core (bench/peers/fenzo-java) in the same run: 8-CPU hosts (1000 MB per CPU, ports
// 1-10); 20% 1-CPU tasks, 40% half-host, 40% three-quarter-host, then 1-CPU tasks to fill, shuffled;
// five single-task calls, then batches of 200 per scheduleOnce; CPU bin packing. Both sides generate
// the identical workload (mulberry32, same order; a checksum proves it) and each run happens in its
// own process, so peak RSS is that run's.

const CORES = 8;
const MEM_PER_CORE = 1000;
const BATCH = 200;
const SINGLE_CALLS = 5;
const SEED = 42;
/** Batches left out of the median while the JIT settles (both sides). */
const WARMUP_BATCHES = 5;

// ---- the shared workload (keep in step with FenzoPeer.java) ----

export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** CPUs (cores) of each task in submission order, as TestLotsOfTasks builds them (double arithmetic included). */
export function workload(numHosts: number, numCores: number, seed: number): number[] {
  let requests: number[] = [];
  const fractionSingleCore = 0.2;
  const fractionHalfSized = 0.4;
  const fractionThreeQuarterSized = 1.0 - fractionHalfSized - fractionSingleCore;
  const half = Math.trunc(numCores / 2);
  let numCoresUsed = 0;
  for (let t = 0; t < numHosts * numCores * fractionSingleCore; t++, numCoresUsed++) requests.push(1);
  for (let t = 0; t < (numCores * numHosts * fractionHalfSized) / half; t++) {
    requests.push(half);
    numCoresUsed += half;
  }
  for (let t = 0; t < (numCores * numHosts * fractionThreeQuarterSized) / (numCores * 0.75); t++) {
    requests.push(numCores * 0.75);
    numCoresUsed = Math.trunc(numCoresUsed + numCores * 0.75); // Java's int += double
  }
  for (let t = 0; t < numCores * numHosts - numCoresUsed; t++) requests.push(1);
  const random = mulberry32(seed);
  const result: number[] = [];
  for (let pass = 0; pass < 20; pass++) {
    const kept: number[] = [];
    for (const r of requests) {
      if (Math.trunc(random() * 10) % 2 === 0) result.push(r);
      else kept.push(r);
    }
    requests = kept;
  }
  return result.concat(requests);
}

/** FNV-1a over the tasks' millicpus (same as the Java side). */
export function checksum(cpus: readonly number[]): number {
  let h = 0x811c9dc5 | 0;
  for (const c of cpus) h = Math.imul(h ^ Math.round(c * 1000), 16777619);
  return h;
}

// ---- one run ----

export interface RunFigures {
  readonly engine: string;
  readonly hosts: number;
  readonly goodEnough: number;
  readonly tasks: number;
  readonly checksum: number;
  readonly calls: number;
  readonly measuredBatches: number;
  readonly msMedian: number;
  readonly msMean: number;
  readonly msP95: number;
  readonly assignedTasks: number;
  readonly assignedCpus: number;
  readonly utilisation: number;
  readonly peakRssMiB: number;
  readonly fenzoVersion?: string;
  /** fenzo-core: the JVM's processors (its evaluation threads). */
  readonly threads?: number;
}

interface Pass {
  readonly batchMs: number[];
  readonly calls: number;
  readonly assignedTasks: number;
  readonly assignedCpus: number;
}

/** One pass over the whole workload with fresh hosts; times are per scheduleOnce call, lease bookkeeping excluded. */
function passOnce(tasks: readonly TaskRequest[], numHosts: number, goodEnough: number): Pass {
  const total: Resources = { cpus: CORES * 1000, mem: CORES * MEM_PER_CORE, disk: 0, network: 0, ports: [{ begin: 1, end: 10 }] };
  // The caller keeps one lease per host, in hostname order (saves scheduleOnce a sort).
  const names = Array.from({ length: numHosts }, (_, h) => `host${h}`).sort();
  let offer = 0;
  const slots: (VMLease | undefined)[] = names.map((hostname) => ({
    hostname,
    agentId: `agent-${hostname}`,
    offerIds: [`offer-${offer++}`],
    resources: total,
    totalResources: total,
  }));
  const slotOf = new Map(names.map((h, k) => [h, k]));
  let leases = slots as VMLease[];
  let assignedCpus = 0;
  let assignedTasks = 0;
  let calls = 0;
  const batchMs: number[] = [];
  let n = 0;
  // As TestLotsOfTasks: five single-task calls first, then batches.
  while (n < tasks.length) {
    const until = calls < SINGLE_CALLS ? n + 1 : Math.min(n + BATCH, tasks.length);
    const batch = tasks.slice(n, until);
    const st = process.hrtime.bigint();
    const result = scheduleOnce(batch, leases, { fitnessCalculator: cpuBinPacker, fitnessGoodEnough: goodEnough });
    const elapsed = Number(process.hrtime.bigint() - st) / 1e6;
    calls++;
    if (calls > SINGLE_CALLS) batchMs.push(elapsed);
    for (const a of result.assignments) assignedCpus += a.resources.cpus / 1000;
    assignedTasks += result.assignments.length;
    // The used hosts come back with what their leases have left, as new offers.
    for (const h of result.hosts) {
      const k = slotOf.get(h.hostname)!;
      const r = h.remaining;
      slots[k] = r.cpus > 0 && r.mem > 0 ? { ...slots[k]!, offerIds: [`offer-${offer++}`], resources: r } : undefined;
    }
    if (result.hosts.length > 0) leases = slots.filter((l): l is VMLease => l !== undefined);
    n = until;
  }
  return { batchMs, calls, assignedTasks, assignedCpus };
}

/** Passes over the workload for a size: enough for ~60 measured batches after one warm-up pass. */
export function runsFor(numHosts: number): number {
  return numHosts <= 200 ? 21 : numHosts <= 2000 ? 3 : 1;
}

/**
 * With runs > 1 the first pass only warms the JIT up; with one pass its first WARMUP_BATCHES
 * batches are left out. Same rule as the Java side.
 */
export function runStratus(numHosts: number, goodEnough: number, runs = runsFor(numHosts), seed = SEED): RunFigures {
  const cpus = workload(numHosts, CORES, seed);
  const tasks: TaskRequest[] = cpus.map((c, k) => ({
    id: `task${k}`,
    groupName: '',
    resources: { cpus: c * 1000, mem: c * MEM_PER_CORE, disk: 0, network: 0, ports: 1 },
  }));
  const measured: number[] = [];
  let last: Pass | undefined;
  for (let r = 0; r < runs; r++) {
    last = passOnce(tasks, numHosts, goodEnough);
    if (runs === 1) measured.push(...last.batchMs.slice(Math.min(WARMUP_BATCHES, last.batchMs.length)));
    else if (r > 0) measured.push(...last.batchMs);
  }
  const pass = last!;
  return {
    engine: 'stratus',
    hosts: numHosts,
    goodEnough,
    tasks: tasks.length,
    checksum: checksum(cpus),
    calls: pass.calls,
    measuredBatches: measured.length,
    msMedian: median(measured),
    msMean: measured.reduce((s, x) => s + x, 0) / measured.length,
    msP95: percentile(measured, 95),
    assignedTasks: pass.assignedTasks,
    assignedCpus: pass.assignedCpus,
    utilisation: (100 * pass.assignedCpus) / (CORES * numHosts),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

// ---- harness ----

const here = dirname(fileURLToPath(import.meta.url));
/** bench/peers/fenzo-java, from dist/bench (compiled) or bench (tsx). */
function peerDir(): string {
  for (const candidate of [resolve(here, '../../bench/peers/fenzo-java'), resolve(here, 'peers/fenzo-java')]) {
    if (existsSync(join(candidate, 'pom.xml'))) return candidate;
  }
  return resolve('bench/peers/fenzo-java');
}

function has(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.error === undefined && r.status === 0;
}

/** Builds the peer jar; returns its path, or why it cannot run here. */
function buildPeer(): { jar: string } | { missing: string } {
  if (!has('java', ['-version'])) return { missing: 'java not found' };
  const dir = peerDir();
  const jar = join(dir, 'target', 'fenzo-peer.jar');
  if (!has('mvn', ['-v'])) return existsSync(jar) ? { jar } : { missing: 'mvn not found' };
  // Offline when already built (every dependency is in ~/.m2), else a full build from Maven Central.
  const attempts = existsSync(jar) ? [['-q', '-o', 'package'], ['-q', 'package']] : [['-q', 'package']];
  let output = '';
  for (const args of attempts) {
    const r = spawnSync('mvn', args, { cwd: dir, encoding: 'utf8', timeout: 600_000 });
    if (r.status === 0 && existsSync(jar)) return { jar };
    output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' ');
  }
  return { missing: `maven build failed: ${output}` };
}

function parseFigures(stdout: string): RunFigures {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`no JSON in output: ${stdout.slice(-300)}`);
  return JSON.parse(line) as RunFigures;
}

function runStratusChild(hosts: number, goodEnough: number): RunFigures {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--fenzo-worker', String(hosts), String(goodEnough)], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`stratus run (${hosts} hosts) failed: ${r.stderr}`);
  return parseFigures(r.stdout);
}

function runFenzoChild(jar: string, hosts: number, goodEnough: number): RunFigures | string {
  const args = ['-jar', jar, '--hosts', String(hosts), '--good-enough', String(goodEnough), '--seed', String(SEED)];
  args.push('--batch', String(BATCH), '--warmup', String(WARMUP_BATCHES), '--runs', String(runsFor(hosts)));
  const r = spawnSync('java', args, { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) return `fenzo-core run failed: ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' ')}`;
  return parseFigures(r.stdout);
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

export const fenzoBench: BenchSuite = {
  name: 'fenzo',
  description: "TestLotsOfTasks workload: Stratus's scheduleOnce vs Netflix fenzo-core (ms per call, utilisation, RSS)",
  async run(args) {
    const quick = args.includes('--quick');
    const sizes = quick ? [200, 2000] : [200, 2000, 10_000];
    const goodEnoughs = [0.1, 1.0];
    const peer = buildPeer();
    const rows: Record<string, Cell>[] = [];
    const tails: Record<string, Cell>[] = [];
    const notes: string[] = [];
    let fenzoVersion = 'unknown';
    let threads: number | undefined;
    for (const hosts of sizes) {
      for (const goodEnough of goodEnoughs) {
        const s = runStratusChild(hosts, goodEnough);
        const f = 'jar' in peer ? runFenzoChild(peer.jar, hosts, goodEnough) : `not run: ${peer.missing}`;
        const fenzo = typeof f === 'string' ? undefined : f;
        if (fenzo !== undefined) {
          fenzoVersion = fenzo.fenzoVersion ?? fenzoVersion;
          threads = fenzo.threads ?? threads;
          if (fenzo.checksum !== s.checksum || fenzo.tasks !== s.tasks) {
            notes.push(`WORKLOAD MISMATCH at ${hosts} hosts: stratus ${s.tasks} tasks/${s.checksum}, fenzo ${fenzo.tasks} tasks/${fenzo.checksum}`);
          }
        }
        const label = goodEnough.toFixed(1);
        rows.push({
          hosts,
          'good enough': label,
          tasks: s.tasks,
          calls: s.calls,
          'stratus ms': round(s.msMedian, 3),
          'fenzo-core ms': fenzo ? round(fenzo.msMedian, 2) : (f as string),
          'ratio fenzo/stratus': fenzo ? round(fenzo.msMedian / s.msMedian, 1) : null,
          'stratus util %': round(s.utilisation, 2),
          'fenzo-core util %': fenzo ? round(fenzo.utilisation, 2) : null,
          'stratus RSS MiB': Math.round(s.peakRssMiB),
          'fenzo-core RSS MiB': fenzo ? Math.round(fenzo.peakRssMiB) : null,
        });
        tails.push({
          hosts,
          'good enough': label,
          'measured calls': s.measuredBatches,
          'stratus mean ms': round(s.msMean, 3),
          'stratus p95 ms': round(s.msP95, 3),
          'fenzo-core mean ms': fenzo ? round(fenzo.msMean, 2) : null,
          'fenzo-core p95 ms': fenzo ? round(fenzo.msP95, 2) : null,
        });
      }
    }
    notes.unshift(
      `ms = median per scheduleOnce over ${BATCH}-task batches: 200 and 2,000 hosts repeat the workload (21 and 3 passes) ` +
        `and measure all passes but the first; 10,000 hosts run it once and skip ${WARMUP_BATCHES} warm-up batches. ` +
        `calls = scheduleOnce calls per pass (${SINGLE_CALLS} single-task, then batches); util = CPUs assigned / CPUs of all hosts`,
      'jar' in peer
        ? `fenzo-core ${fenzoVersion} from Maven Central, default JVM settings${threads ? `, ${threads} evaluation threads` : ''}; ` +
            `its leases never expire, and it runs with maxOffersToReject(0), which skips 1.0.x's O(hosts^2) idle-lease walk (identical placements, much faster Fenzo)`
        : `fenzo-core peer (bench/peers/fenzo-java) not run: ${peer.missing}`,
      'Stratus gets every leftover lease on each call (stateless); fenzo-core keeps unused leases and gets back the leftovers of the hosts it used, as in TestLotsOfTasks. ' +
        'Each run is its own process: RSS is that run\'s peak',
    );
    if (quick) notes.push('--quick: 10,000 hosts left out');
    return [
      {
        title: 'Fenzo TestLotsOfTasks: 8-CPU hosts, batches of 200, CPU bin packing (Stratus vs fenzo-core)',
        columns: ['hosts', 'good enough', 'tasks', 'calls', 'stratus ms', 'fenzo-core ms', 'ratio fenzo/stratus', 'stratus util %', 'fenzo-core util %', 'stratus RSS MiB', 'fenzo-core RSS MiB'],
        rows,
        notes,
      },
      {
        title: 'Fenzo TestLotsOfTasks: spread of ms per scheduleOnce',
        columns: ['hosts', 'good enough', 'measured calls', 'stratus mean ms', 'stratus p95 ms', 'fenzo-core mean ms', 'fenzo-core p95 ms'],
        rows: tails,
      },
    ] satisfies BenchTable[];
  },
};

// Worker mode: `node dist/bench/fenzo.js --fenzo-worker <hosts> <goodEnough>` runs one size and prints its figures.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv[2] === '--fenzo-worker') {
  const figures = runStratus(Number(process.argv[3]), Number(process.argv[4]));
  process.stdout.write(JSON.stringify(figures) + '\n');
}
