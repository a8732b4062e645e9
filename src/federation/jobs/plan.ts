// The owner's plan for one federated job: how many instances to ask of each region. Pure, so
// the controller, the tests and the benchmark compute the same plan from the same view.
//
//   1. Each region's share comes from the policy (counts, or weights apportioned).
//   2. A region judged dead becomes displaced: its share is placed elsewhere. It is handed
//      back only once it has been alive and healthy for `handBackAfterMs` (hysteresis: a
//      region that flaps keeps being served by its peers instead of bouncing work around).
//      A suspect region keeps its share untouched: suspicion alone never moves work.
//   3. An eligible region (alive, not displaced) takes its share up to what it can run
//      (`slots`: placed instances plus what its free capacity fits, and `limit`, what it
//      reported it could not place). The rest spills over.
//   4. Spilled and displaced instances go first where they went last time (no churn), then
//      one by one to the eligible region with the most room left, ties by name.
//   5. What fits nowhere stays with its own region if that one is eligible (it waits there,
//      where the policy wants it), or else waits in the region with the most room.

export type RegionLiveness = 'alive' | 'suspect' | 'dead' | 'unknown';

export interface PlanRegion {
  readonly name: string;
  readonly state: RegionLiveness;
  /** How long the region has been alive and healthy without a break (0 when it is not). */
  readonly stableForMs: number;
  /** Instances of this job the region can run; undefined when its capacity is not known. */
  readonly slots?: number;
  /** At most this many, because the region reported instances it could not place. */
  readonly limit?: number;
}

export interface PlanInput {
  /** Each region's share from the policy (absent: 0). */
  readonly shares: Readonly<Record<string, number>>;
  /** Every region of the federation, this one included. */
  readonly regions: readonly PlanRegion[];
  readonly previous: { readonly targets: Readonly<Record<string, number>>; readonly displaced: readonly string[] };
  readonly handBackAfterMs: number;
}

export interface Plan {
  /** Instances asked of each region (a displaced region: 0; a suspect or unknown one: as before). */
  readonly targets: Record<string, number>;
  readonly displaced: string[];
  /** The regions whose targets the owner applies now: alive and not displaced. */
  readonly act: string[];
  /** Instances no eligible region had room for (they wait). */
  readonly short: number;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function planTargets(input: PlanInput): Plan {
  const regions = [...input.regions].sort((a, b) => byName(a.name, b.name));
  const share = (r: string): number => input.shares[r] ?? 0;
  const known = new Set(regions.map((r) => r.name));

  const displaced = new Set(input.previous.displaced.filter((r) => known.has(r)));
  for (const r of regions) {
    if (r.state === 'dead') displaced.add(r.name);
    else if (displaced.has(r.name) && r.state === 'alive' && r.stableForMs >= input.handBackAfterMs) displaced.delete(r.name);
  }

  const targets: Record<string, number> = {};
  const eligible = regions.filter((r) => r.state === 'alive' && !displaced.has(r.name));
  const cap = new Map(eligible.map((r) => [r.name, Math.min(r.slots ?? Infinity, r.limit ?? Infinity)]));
  // Room for instances of other regions: none where the capacity is unknown.
  const room = (r: PlanRegion): number => (r.slots === undefined && r.limit === undefined ? 0 : cap.get(r.name)! - targets[r.name]!);

  let need = 0;
  for (const r of regions) {
    if (displaced.has(r.name)) {
      targets[r.name] = 0;
      need += share(r.name);
    } else if (r.state !== 'alive') {
      // Suspect or not heard from yet: leave it as it was; its share stays its own.
      targets[r.name] = input.previous.targets[r.name] ?? share(r.name);
    } else {
      const mine = Math.max(0, Math.min(share(r.name), cap.get(r.name)!));
      targets[r.name] = mine;
      need += share(r.name) - mine;
    }
  }

  // Where extra instances went last time, they stay while there is room and need.
  for (const r of eligible) {
    if (need === 0) break;
    const before = Math.max(0, (input.previous.targets[r.name] ?? 0) - targets[r.name]!);
    const keep = Math.min(before, Math.max(0, room(r)), need);
    targets[r.name]! += keep;
    need -= keep;
  }
  while (need > 0) {
    let best: PlanRegion | undefined;
    for (const r of eligible) if (room(r) > 0 && (best === undefined || room(r) > room(best))) best = r;
    if (!best) break;
    targets[best.name]! += 1;
    need -= 1;
  }

  const short = need;
  if (need > 0 && eligible.length > 0) {
    // Nowhere has room: a capped region waits for its own share...
    for (const r of eligible) {
      const back = Math.min(need, Math.max(0, share(r.name) - targets[r.name]!));
      targets[r.name]! += back;
      need -= back;
    }
    // ...and a displaced region's share waits where there is the most room.
    if (need > 0) {
      const most = eligible.reduce((a, b) => (room(b) > room(a) ? b : a));
      targets[most.name]! += need;
    }
  }
  return { targets, displaced: [...displaced].sort(byName), act: eligible.map((r) => r.name), short };
}
