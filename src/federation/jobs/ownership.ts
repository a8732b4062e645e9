// Who decides for a federated job. Exactly one region owns each job: its home region at first
// (term 1). Ownership moves only when the owner is dead, to a deterministic successor: the
// first region of [home, then the others by name] that is alive, so every region that sees
// the same liveness picks the same one. The successor claims term + 1; claims travel in
// digests, and the higher term wins (at equal terms, the region first by name), so a former
// owner that comes back adopts the new claim instead of fighting it. It does not reclaim the
// job while the successor lives; if the successor dies in turn, the order starts again from
// the home, so the home is the first to take the job back.
//
// Taking over, and acting as owner, need a quorum: a majority of the federation's regions
// alive as this region sees them (itself included). A region cut off from the others loses
// the quorum within the suspect bound and stops deciding, before its peers (at the dead bound)
// take its jobs over. Two regions cannot tell a partition from a failure: there, one region
// is a quorum.

export interface Claim {
  readonly owner: string;
  readonly term: number;
}

/** True when claim `a` wins over claim `b`. */
export function beats(a: Claim, b: Claim): boolean {
  return a.term !== b.term ? a.term > b.term : a.owner < b.owner;
}

export function bestClaim(claims: readonly Claim[]): Claim | undefined {
  let best: Claim | undefined;
  for (const c of claims) if (best === undefined || beats(c, best)) best = c;
  return best;
}

/** The order in which regions take a job over: its home, then the others by name. */
export function successionOrder(home: string, regions: readonly string[]): string[] {
  const others = [...new Set(regions)].filter((r) => r !== home).sort();
  return [home, ...others];
}

/** The region that should own the job now that `owner` is dead, or undefined when none is alive. */
export function successor(home: string, regions: readonly string[], owner: string, alive: (region: string) => boolean): string | undefined {
  return successionOrder(home, regions).find((r) => r !== owner && alive(r));
}

/** Regions that must be alive (as one region sees them, itself included) for it to decide. */
export function quorum(regions: number): number {
  return regions <= 2 ? 1 : Math.floor(regions / 2) + 1;
}
