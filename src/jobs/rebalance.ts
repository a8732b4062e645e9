import type { ClusterAgent } from './agents.js';
import type { InstanceDoc } from './model.js';
import type { JobSpec } from './spec.js';

// A rebalance after an outage: instances crowd the zones that stayed up. The plan gives each
// available zone its even share (the remainder to the zones already holding most, so fewer
// moves), and marks the surplus in crowded zones to be moved: killed and replaced, the
// replacements going to the emptier zones through the zone-balance constraint.

export interface RebalancePlan {
  /** Instances per zone once balanced. */
  readonly targets: Readonly<Record<string, number>>;
  /** Surplus instances to move, per zone they leave. */
  readonly moves: Readonly<Record<string, number>>;
  /** The slots to move. */
  readonly victims: readonly number[];
}

const PLACED: ReadonlySet<InstanceDoc['state']> = new Set(['launching', 'staging', 'starting', 'running']);

export function planRebalance(instances: readonly InstanceDoc[], zones: readonly string[]): RebalancePlan {
  const live = instances.filter((i) => i.remove !== true && i.kill === undefined && i.state !== 'finished' && i.state !== 'failed');
  const available = [...new Set(zones)].sort();
  if (available.length === 0) return { targets: {}, moves: {}, victims: [] };
  const placed = live.filter((i) => PLACED.has(i.state) && i.zone !== undefined && i.move !== true);
  const count = new Map<string, number>(available.map((z) => [z, 0]));
  for (const i of placed) count.set(i.zone!, (count.get(i.zone!) ?? 0) + 1);
  const base = Math.floor(live.length / available.length);
  let extra = live.length % available.length;
  const targets: Record<string, number> = {};
  const byLoad = [...available].sort((a, b) => count.get(b)! - count.get(a)! || (a < b ? -1 : 1));
  for (const z of byLoad) targets[z] = base + (extra-- > 0 ? 1 : 0);
  const moves: Record<string, number> = {};
  const victims: number[] = [];
  for (const [zone, n] of [...count].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const surplus = n - (targets[zone] ?? 0);
    if (surplus <= 0) continue;
    // Not-yet-running ones first, then the highest slots.
    const inZone = placed.filter((i) => i.zone === zone).sort((a, b) => Number(a.state === 'running') - Number(b.state === 'running') || b.index - a.index);
    for (const i of inZone.slice(0, surplus)) victims.push(i.index);
    moves[zone] = surplus;
  }
  return { targets, moves, victims: victims.sort((a, b) => a - b) };
}

/** Zones with a reachable agent the job may run on (its hard host-attribute constraints hold there). */
export function eligibleZones(spec: JobSpec, agents: readonly ClusterAgent[], zoneAttribute = 'zone'): string[] {
  const hard = spec.constraints.filter((c) => c.type === 'hostAttribute' && c.soft !== true);
  const zones = new Set<string>();
  for (const a of agents) {
    const zone = a.attributes[zoneAttribute];
    if (!a.reachable || zone === undefined) continue;
    if (hard.every((c) => c.type !== 'hostAttribute' || c.values.includes(a.attributes[c.attribute] ?? '\u0000'))) zones.add(zone);
  }
  return [...zones].sort();
}
