import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  add,
  contains,
  dominantShare,
  EMPTY,
  isEmpty,
  normalizeRanges,
  rangesContain,
  resources,
  SCALAR_NAMES,
  subtract,
  type PortRange,
  type Resources,
} from '../../../../src/core/resources.js';
import { allocate } from '../../../../src/master-lambda/allocator/allocate.js';
import { declineFilterKey } from '../../../../src/master-lambda/allocator/decline-filter.js';
import { shuffleInPlace } from '../../../../src/master-lambda/allocator/shuffle.js';
import type {
  AllocationInput,
  AllocatorAgent,
  AllocatorFramework,
  AllocatorRole,
  OfferDecision,
} from '../../../../src/master-lambda/allocator/types.js';
import { acceptAll, MESOS_MIN_ALLOCATABLE } from './helpers.js';

// Random clusters: agents with free and busy resources, some not allocatable; frameworks
// in random roles, some inactive or suppressing; weights, quota limits, filters, minimums.

const ROLE_POOL = ['*', 'a', 'b', 'c', 'd/e'];

const portsArb: fc.Arbitrary<PortRange[]> = fc
  .array(fc.tuple(fc.integer({ min: 1000, max: 1100 }), fc.integer({ min: 0, max: 5 })), { maxLength: 3 })
  .map((rs) => normalizeRanges(rs.map(([b, n]) => ({ begin: b, end: b + n }))));

const scalarsArb = (max: { cpus: number; mem: number; disk: number; network: number }): fc.Arbitrary<Resources> =>
  fc.record({
    cpus: fc.integer({ min: 0, max: max.cpus }),
    mem: fc.integer({ min: 0, max: max.mem }),
    disk: fc.integer({ min: 0, max: max.disk }),
    network: fc.integer({ min: 0, max: max.network }),
    ports: fc.constant([] as PortRange[]),
  });

const agentArb = (i: number): fc.Arbitrary<AllocatorAgent> =>
  fc
    .record({
      free: scalarsArb({ cpus: 8000, mem: 8192, disk: 1000, network: 100 }),
      busy: scalarsArb({ cpus: 8000, mem: 8192, disk: 1000, network: 100 }),
      ports: portsArb,
      allocatable: fc.constantFrom(true, true, true, false),
    })
    .map(({ free, busy, ports, allocatable }) => {
      const available = { ...free, ports };
      return { id: `agent-${i}`, available, total: add(available, busy), allocatable };
    });

const frameworkArb = (i: number): fc.Arbitrary<AllocatorFramework> =>
  fc
    .record({
      roles: fc.array(fc.constantFrom(...ROLE_POOL), { minLength: 1, maxLength: 3 }),
      suppressed: fc.array(fc.constantFrom(...ROLE_POOL), { maxLength: 2 }),
      active: fc.boolean(),
      held: fc.array(fc.tuple(fc.constantFrom(...ROLE_POOL), scalarsArb({ cpus: 6000, mem: 6000, disk: 500, network: 50 })), {
        maxLength: 2,
      }),
    })
    .map(({ roles, suppressed, active, held }) => ({
      id: `fw-${i}`,
      roles,
      suppressedRoles: suppressed,
      active: active || i === 0,
      allocated: Object.fromEntries(held),
    }));

const roleArb: fc.Arbitrary<AllocatorRole[]> = fc
  .array(
    fc.record({
      name: fc.constantFrom(...ROLE_POOL),
      weight: fc.constantFrom(0.5, 1, 2, 3),
      quotaLimit: fc.option(scalarsArb({ cpus: 12_000, mem: 12_000, disk: 1500, network: 150 }), { nil: undefined }),
    }),
    { maxLength: 5 },
  )
  .map((rs) => {
    const seen = new Set<string>();
    return rs.filter((r) => !seen.has(r.name) && seen.add(r.name)).map((r) => (r.quotaLimit ? r : { name: r.name, weight: r.weight }));
  });

const minAllocatableArb: fc.Arbitrary<readonly Resources[]> = fc.constantFrom(
  MESOS_MIN_ALLOCATABLE,
  [] as Resources[],
  [resources({ cpus: 0.5, mem: 512 })],
  [resources({ disk: 100 }), resources({ ports: [{ begin: 1000, end: 1000 }] })],
);

const inputArb: fc.Arbitrary<AllocationInput> = fc
  .record({
    agentCount: fc.integer({ min: 0, max: 10 }),
    frameworkCount: fc.integer({ min: 1, max: 6 }),
    seed: fc.nat(),
  })
  .chain(({ agentCount, frameworkCount, seed }) =>
    fc.record({
      agents: fc.tuple(...Array.from({ length: agentCount }, (_, i) => agentArb(i))),
      frameworks: fc.tuple(...Array.from({ length: frameworkCount }, (_, i) => frameworkArb(i))),
      roles: roleArb,
      filters: fc.array(fc.tuple(fc.nat({ max: frameworkCount - 1 }), fc.nat({ max: Math.max(0, agentCount - 1) })), {
        maxLength: 8,
      }),
      minAllocatable: minAllocatableArb,
      seed: fc.constant(seed),
    }),
  )
  .map(({ agents, frameworks, roles, filters, minAllocatable, seed }) => ({
    agents,
    frameworks,
    roles,
    filters: new Set(filters.map(([f, a]) => declineFilterKey(`fw-${f}`, `agent-${a}`))),
    minAllocatable,
    seed,
  }));

// ---- a naive reference: re-sort everything for every offer, with core Resources ----

function roleAllocation(inp: AllocationInput, role: string): Resources {
  return inp.frameworks.reduce((s, f) => add(s, f.allocated[role] ?? EMPTY), EMPTY);
}

function headroom(limit: Resources, held: Resources): Resources {
  const h = { ...EMPTY };
  for (const d of SCALAR_NAMES) h[d] = Math.max(0, limit[d] - held[d]);
  return h;
}

function cap(available: Resources, room: Resources | undefined): Resources {
  if (room === undefined) return available;
  const r = { ...available };
  for (const d of SCALAR_NAMES) r[d] = Math.min(available[d], room[d]);
  return r;
}

function meetsMinimum(offer: Resources, mins: readonly Resources[]): boolean {
  if (isEmpty(offer)) return false;
  return mins.length === 0 || mins.some((m) => contains(offer, m));
}

function interested(f: AllocatorFramework, role: string): boolean {
  return f.active && f.roles.includes(role) && !f.suppressedRoles.includes(role);
}

function reference(inp: AllocationInput): OfferDecision[] {
  const total = inp.agents.reduce((s, a) => add(s, a.total), EMPTY);
  const config = new Map(inp.roles.map((r) => [r.name, r]));
  const roles = [...new Set(inp.frameworks.flatMap((f) => [...f.roles, ...Object.keys(f.allocated)]))];
  const roleHeld = new Map(roles.map((r) => [r, roleAllocation(inp, r)]));
  const fwHeld = new Map<string, Resources>();
  for (const f of inp.frameworks) for (const r of roles) fwHeld.set(`${f.id} ${r}`, f.allocated[r] ?? EMPTY);
  const weight = (r: string): number => config.get(r)?.weight ?? 1;
  const room = (r: string): Resources | undefined => {
    const l = config.get(r)?.quotaLimit;
    return l === undefined ? undefined : headroom(l, roleHeld.get(r)!);
  };
  const byShare = (share: (x: string) => number) => (x: string, y: string) =>
    share(x) - share(y) || (x < y ? -1 : x > y ? 1 : 0);

  const order = shuffleInPlace(
    Int32Array.from(inp.agents.flatMap((a, i) => (a.allocatable ? [i] : []))),
    inp.seed ?? 0,
  );
  const offers: OfferDecision[] = [];
  for (const i of order) {
    const agent = inp.agents[i]!;
    let available = agent.available;
    const offeredRoles = new Set<string>();
    while (!isEmpty(available)) {
      const candidates = roles
        .filter((r) => !offeredRoles.has(r) && inp.frameworks.some((f) => interested(f, r)))
        .filter((r) => {
          const h = room(r);
          return h === undefined || SCALAR_NAMES.some((d) => h[d] > 0);
        })
        .sort(byShare((r) => dominantShare(roleHeld.get(r)!, total) / weight(r)));
      let made: OfferDecision | undefined;
      for (const r of candidates) {
        const offer = cap(available, room(r));
        if (!meetsMinimum(offer, inp.minAllocatable)) continue;
        const fw = inp.frameworks
          .filter((f) => interested(f, r))
          .map((f) => f.id)
          .sort(byShare((id) => dominantShare(fwHeld.get(`${id} ${r}`)!, total)))
          .find((id) => !inp.filters.has(declineFilterKey(id, agent.id)));
        if (fw === undefined) continue;
        made = { frameworkId: fw, agentId: agent.id, role: r, resources: offer };
        break;
      }
      if (made === undefined) break;
      offers.push(made);
      available = subtract(available, made.resources);
      offeredRoles.add(made.role);
      roleHeld.set(made.role, add(roleHeld.get(made.role)!, made.resources));
      const k = `${made.frameworkId} ${made.role}`;
      fwHeld.set(k, add(fwHeld.get(k)!, made.resources));
    }
  }
  return offers;
}

const scalarsOf = (r: Resources): number[] => SCALAR_NAMES.map((d) => r[d]);

describe('allocate: properties over random clusters', () => {
  it('makes the same offers as a naive re-sort-everything reference', () => {
    // Coverage of the interesting cases, so the property is not vacuously true.
    const seen = { offers: 0, limitedRole: 0, splitAgent: 0, filterHit: 0 };
    fc.assert(
      fc.property(inputArb, (inp) => {
        const got = allocate(inp).offers;
        const want = reference(inp);
        expect(got.map((o) => ({ ...o, resources: { ...o.resources, ports: [...o.resources.ports] } }))).toEqual(want);
        const limited = new Set(inp.roles.filter((r) => r.quotaLimit).map((r) => r.name));
        if (got.length > 0) seen.offers++;
        if (got.some((o) => limited.has(o.role))) seen.limitedRole++;
        if (new Set(got.map((o) => o.agentId)).size < got.length) seen.splitAgent++;
        if (JSON.stringify(reference({ ...inp, filters: new Set() })) !== JSON.stringify(want)) seen.filterHit++;
      }),
      { numRuns: 400 },
    );
    expect(seen.offers).toBeGreaterThan(200);
    expect(seen.limitedRole).toBeGreaterThan(40);
    expect(seen.splitAgent).toBeGreaterThan(20);
    expect(seen.filterHit).toBeGreaterThan(20);
  });

  it('every offer fits the agent, and all offers on an agent together fit its available resources', () => {
    fc.assert(
      fc.property(inputArb, (inp) => {
        const { offers } = allocate(inp);
        const agents = new Map(inp.agents.map((a) => [a.id, a]));
        const perAgent = new Map<string, Resources>();
        const pairs = new Set<string>();
        for (const o of offers) {
          const a = agents.get(o.agentId)!;
          expect(a.allocatable).toBe(true);
          expect(contains(a.available, o.resources)).toBe(true);
          // Ports are never offered twice: the running sum subtracts cleanly.
          const before = perAgent.get(o.agentId) ?? EMPTY;
          for (const p of o.resources.ports) expect(rangesContain(before.ports, [p])).toBe(false);
          perAgent.set(o.agentId, add(before, o.resources));
          // Who may get it.
          const f = inp.frameworks.find((x) => x.id === o.frameworkId)!;
          expect(interested(f, o.role)).toBe(true);
          expect(inp.filters.has(declineFilterKey(o.frameworkId, o.agentId))).toBe(false);
          expect(meetsMinimum(o.resources, inp.minAllocatable)).toBe(true);
          const pair = `${o.agentId} ${o.role}`;
          expect(pairs.has(pair)).toBe(false);
          pairs.add(pair);
        }
        for (const [id, sum] of perAgent) expect(contains(agents.get(id)!.available, sum)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('never offers a role beyond its quota limit, round after round', () => {
    fc.assert(
      fc.property(inputArb, (first) => {
        let inp = first;
        for (let round = 0; round < 4; round++) {
          const { offers } = allocate({ ...inp, seed: (inp.seed ?? 0) + round });
          for (const r of inp.roles) {
            if (r.quotaLimit === undefined) continue;
            const held = scalarsOf(roleAllocation(inp, r.name));
            const offered = scalarsOf(offers.filter((o) => o.role === r.name).reduce((s, o) => add(s, o.resources), EMPTY));
            const limit = scalarsOf(r.quotaLimit);
            // Within the headroom, per scalar: a role already over a limit gets none of it.
            offered.forEach((v, d) => expect(v).toBeLessThanOrEqual(Math.max(0, limit[d]! - held[d]!)));
          }
          inp = acceptAll(inp, { offers });
        }
      }),
      { numRuns: 300 },
    );
  });
});
