// Keeping a group balanced over its zones: hosts are removed from the zone with the most hosts
// first, and new hosts go to the zone with the fewest. Hosts without a zone count as zone ''.

export interface RemovalCandidate {
  readonly agentId: string;
  readonly hostname: string;
  readonly zone?: string;
  /** Lower goes first (e.g. 0 unreachable, 1 idle, 2 busy). */
  readonly rank: number;
  /** Longest idle first within a zone. */
  readonly idleSince?: number;
}

/**
 * Picks `n` candidates: each pick takes, among the best-ranked candidates left, one from the zone
 * that has the most hosts right now (`hostsPerZone`, all the group's hosts), then the longest
 * idle, then by hostname. The counts are updated after each pick.
 */
export function chooseForRemoval<C extends RemovalCandidate>(candidates: readonly C[], hostsPerZone: ReadonlyMap<string, number>, n: number): C[] {
  const counts = new Map(hostsPerZone);
  const left = [...candidates];
  const out: C[] = [];
  while (out.length < n && left.length > 0) {
    let best = 0;
    for (let i = 1; i < left.length; i++) if (better(left[i]!, left[best]!, counts)) best = i;
    const [pick] = left.splice(best, 1);
    out.push(pick!);
    const z = pick!.zone ?? '';
    counts.set(z, (counts.get(z) ?? 1) - 1);
  }
  return out;
}

function better(a: RemovalCandidate, b: RemovalCandidate, counts: ReadonlyMap<string, number>): boolean {
  if (a.rank !== b.rank) return a.rank < b.rank;
  const za = counts.get(a.zone ?? '') ?? 0;
  const zb = counts.get(b.zone ?? '') ?? 0;
  if (za !== zb) return za > zb;
  if ((a.zone ?? '') !== (b.zone ?? '')) return (a.zone ?? '') < (b.zone ?? '');
  const ia = a.idleSince ?? Infinity;
  const ib = b.idleSince ?? Infinity;
  if (ia !== ib) return ia < ib;
  return a.hostname < b.hostname;
}

/** Zones for `n` new hosts: each to the zone with the fewest hosts (ties by name). Empty when no zone is known. */
export function zonesForNewHosts(hostsPerZone: ReadonlyMap<string, number>, zones: readonly string[], n: number): string[] {
  const known = zones.length > 0 ? [...new Set(zones)] : [...hostsPerZone.keys()].filter((z) => z !== '');
  if (known.length === 0) return [];
  const counts = new Map(known.map((z) => [z, hostsPerZone.get(z) ?? 0]));
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let zone = known[0]!;
    for (const z of known) if (counts.get(z)! < counts.get(zone)! || (counts.get(z) === counts.get(zone) && z < zone)) zone = z;
    out.push(zone);
    counts.set(zone, counts.get(zone)! + 1);
  }
  return out;
}
