import { GROUP_ATTRIBUTE, ZONE_ATTRIBUTE, type Agent } from '../../core/agent.js';
import { subtractSaturating, type Resources } from '../../core/resources.js';
import type { Task } from '../../core/task.js';
import type { GossipConfig } from './config.js';
import {
  DIGEST_VERSION,
  type AgentCounts,
  type CapacityBucket,
  type FederatedJobSummary,
  type RegionDigest,
  type RegionHealth,
  type Scalars,
} from './digest.js';
import { localServices } from './services.js';

// Builds a region's digest from its Registry's agents and tasks: pure, so the size test and
// the benchmark build the same digest the sender does.

/** The bucket of agents without a zone (or group) attribute. */
export const NO_ATTRIBUTE = '(none)';
/** Zones or groups past `maxBuckets` share this bucket. */
export const OTHER_BUCKET = '(other)';

/** Below this share of reachable agents a region reports itself degraded. */
const HEALTHY_REACHABLE_SHARE = 0.9;

export interface DigestInput {
  readonly region: string;
  readonly incarnation: number;
  readonly seq: number;
  readonly agents: readonly Agent[];
  readonly tasks: readonly Task[];
  readonly jobs?: readonly FederatedJobSummary[];
  readonly api?: string;
}

export type DigestLimits = Pick<GossipConfig, 'maxBuckets' | 'maxEndpointsPerService' | 'maxServices'>;

const zero = (): Scalars => ({ cpus: 0, mem: 0, disk: 0, network: 0 });

function emptyBucket(): CapacityBucket {
  return { agents: 0, reachable: 0, schedulable: 0, total: zero(), allocated: zero(), offered: zero(), free: zero(), largestFree: zero() };
}

function addTo(s: Scalars, r: Resources | Scalars): void {
  s.cpus += r.cpus;
  s.mem += r.mem;
  s.disk += r.disk;
  s.network += r.network;
}

function maxInto(s: Scalars, r: Resources): void {
  s.cpus = Math.max(s.cpus, r.cpus);
  s.mem = Math.max(s.mem, r.mem);
  s.disk = Math.max(s.disk, r.disk);
  s.network = Math.max(s.network, r.network);
}

function mergeInto(into: CapacityBucket, b: CapacityBucket): void {
  into.agents += b.agents;
  into.reachable += b.reachable;
  into.schedulable += b.schedulable;
  addTo(into.total, b.total);
  addTo(into.allocated, b.allocated);
  addTo(into.offered, b.offered);
  addTo(into.free, b.free);
  into.largestFree.cpus = Math.max(into.largestFree.cpus, b.largestFree.cpus);
  into.largestFree.mem = Math.max(into.largestFree.mem, b.largestFree.mem);
  into.largestFree.disk = Math.max(into.largestFree.disk, b.largestFree.disk);
  into.largestFree.network = Math.max(into.largestFree.network, b.largestFree.network);
}

export const isSchedulable = (a: Agent): boolean => a.reachability === 'REACHABLE' && !a.deactivated && a.drain === undefined;

function account(b: CapacityBucket, a: Agent): void {
  b.agents++;
  if (a.reachability !== 'REACHABLE') return;
  b.reachable++;
  addTo(b.total, a.total);
  addTo(b.allocated, a.allocated);
  addTo(b.offered, a.offered);
  if (!isSchedulable(a)) return;
  b.schedulable++;
  // Saturating: an agent that reregistered smaller may hold more than its new total.
  const free = subtractSaturating(subtractSaturating(a.total, a.allocated), a.offered);
  addTo(b.free, free);
  maxInto(b.largestFree, free);
}

/** Keeps the `max - 1` largest buckets (by agents, then name) and folds the rest into one. */
function capBuckets(m: Map<string, CapacityBucket>, max: number): Record<string, CapacityBucket> {
  const entries = [...m].sort(([an, a], [bn, b]) => b.agents - a.agents || (an < bn ? -1 : an > bn ? 1 : 0));
  const kept = entries.length <= max ? entries : entries.slice(0, Math.max(0, max - 1));
  const out: Record<string, CapacityBucket> = {};
  for (const [k, v] of [...kept].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[k] = v;
  if (kept.length < entries.length) {
    const other = out[OTHER_BUCKET] ?? emptyBucket();
    for (const [, v] of entries.slice(kept.length)) mergeInto(other, v);
    out[OTHER_BUCKET] = other;
  }
  return out;
}

export function agentCounts(agents: readonly Agent[]): AgentCounts {
  const c = { total: 0, reachable: 0, unreachable: 0, schedulable: 0, draining: 0, deactivated: 0 };
  for (const a of agents) {
    if (a.reachability === 'GONE') continue;
    c.total++;
    if (a.reachability === 'REACHABLE') c.reachable++;
    else c.unreachable++;
    if (isSchedulable(a)) c.schedulable++;
    if (a.drain) c.draining++;
    if (a.deactivated) c.deactivated++;
  }
  return c;
}

/** A region's own view of its health: enough reachable agents to run what it was asked to. */
export function regionHealth(c: AgentCounts): RegionHealth {
  if (c.total === 0) return { status: 'unhealthy', reasons: ['no agents registered'] };
  if (c.schedulable === 0) return { status: 'unhealthy', reasons: ['no schedulable agents'] };
  const reasons: string[] = [];
  if (c.reachable / c.total < HEALTHY_REACHABLE_SHARE) reasons.push(`${c.unreachable} of ${c.total} agents unreachable`);
  return { status: reasons.length ? 'degraded' : 'healthy', reasons };
}

/** The region-wide capacity bucket of a set of agents (what a digest's `capacity.region` says). */
export function regionCapacity(agents: readonly Agent[]): CapacityBucket {
  const b = emptyBucket();
  for (const a of agents) if (a.reachability !== 'GONE') account(b, a);
  return b;
}

export function buildDigest(input: DigestInput, limits: DigestLimits): RegionDigest {
  const region = emptyBucket();
  const zones = new Map<string, CapacityBucket>();
  const groups = new Map<string, CapacityBucket>();
  const bucket = (m: Map<string, CapacityBucket>, key: string | undefined): CapacityBucket => {
    const k = key && key.length <= 255 ? key : NO_ATTRIBUTE;
    let b = m.get(k);
    if (!b) m.set(k, (b = emptyBucket()));
    return b;
  };
  const live = input.agents.filter((a) => a.reachability !== 'GONE');
  for (const a of live) {
    account(region, a);
    account(bucket(zones, a.attributes[ZONE_ATTRIBUTE]), a);
    account(bucket(groups, a.attributes[GROUP_ATTRIBUTE]), a);
  }
  const counts = agentCounts(live);

  const services: Record<string, RegionDigest['services'][string]> = {};
  const truncated: string[] = [];
  let n = 0;
  for (const [name, endpoints] of localServices(live, input.tasks)) {
    // Past maxServices, names are left out entirely (listing them would grow without bound too).
    if (n++ >= limits.maxServices) break;
    services[name] = endpoints.slice(0, limits.maxEndpointsPerService);
    if (endpoints.length > limits.maxEndpointsPerService) truncated.push(name);
  }
  return {
    version: DIGEST_VERSION,
    region: input.region,
    incarnation: input.incarnation,
    seq: input.seq,
    ...(input.api ? { api: input.api } : {}),
    capacity: { region, byZone: capBuckets(zones, limits.maxBuckets), byGroup: capBuckets(groups, limits.maxBuckets) },
    agents: counts,
    health: regionHealth(counts),
    jobs: [...(input.jobs ?? [])],
    services,
    ...(truncated.length ? { truncatedServices: truncated } : {}),
  };
}
