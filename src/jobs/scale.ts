import type { InstanceDoc } from './model.js';

// Scale down: which slots go. Slots without a running task first (they serve nothing), then
// running ones from the zone holding the most of the job's instances (so the spread stays even),
// the highest slot number first.

const RANK: Readonly<Record<InstanceDoc['state'], number>> = {
  pending: 0,
  failed: 0,
  finished: 0,
  launching: 1,
  staging: 1,
  starting: 2,
  killing: 2,
  running: 3,
};

export function chooseScaleDownVictims(instances: readonly InstanceDoc[], count: number): InstanceDoc[] {
  const left = [...instances];
  const victims: InstanceDoc[] = [];
  const perZone = new Map<string, number>();
  for (const i of left) if (i.zone !== undefined) perZone.set(i.zone, (perZone.get(i.zone) ?? 0) + 1);
  while (victims.length < count && left.length > 0) {
    let best = 0;
    for (let k = 1; k < left.length; k++) {
      const a = left[k]!;
      const b = left[best]!;
      const ra = RANK[a.state];
      const rb = RANK[b.state];
      if (ra !== rb) {
        if (ra < rb) best = k;
        continue;
      }
      const za = a.zone !== undefined ? (perZone.get(a.zone) ?? 0) : 0;
      const zb = b.zone !== undefined ? (perZone.get(b.zone) ?? 0) : 0;
      if (za > zb || (za === zb && a.index > b.index)) best = k;
    }
    const victim = left.splice(best, 1)[0]!;
    if (victim.zone !== undefined) perZone.set(victim.zone, (perZone.get(victim.zone) ?? 1) - 1);
    victims.push(victim);
  }
  return victims;
}
