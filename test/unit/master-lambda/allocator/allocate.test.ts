import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../src/core/errors.js';
import { add, dominantShare, EMPTY, resources, type Resources } from '../../../../src/core/resources.js';
import { allocate } from '../../../../src/master-lambda/allocator/allocate.js';
import { declineFilterKey } from '../../../../src/master-lambda/allocator/decline-filter.js';
import type { AllocationInput, OfferDecision } from '../../../../src/master-lambda/allocator/types.js';
import { acceptAll, agent, framework, input, role } from './helpers.js';

const who = (offers: readonly OfferDecision[]): string[] => offers.map((o) => `${o.frameworkId}@${o.agentId}/${o.role}`);
const sumOf = (offers: readonly OfferDecision[]): Resources => offers.reduce((s, o) => add(s, o.resources), EMPTY);

describe('allocate: one round', () => {
  it('offers all of an agent, ports included, to the only framework', () => {
    const a = agent('a1', { cpus: 4, mem: 4096, disk: 100, network: 10, ports: [{ begin: 31000, end: 31010 }] });
    const { offers } = allocate(input({ agents: [a], frameworks: [framework('f1', ['web'])] }));
    expect(offers).toEqual([{ frameworkId: 'f1', agentId: 'a1', role: 'web', resources: a.available }]);
  });

  it('makes no offers without agents, frameworks or free resources', () => {
    expect(allocate(input({ agents: [], frameworks: [framework('f1', ['r'])] })).offers).toEqual([]);
    expect(allocate(input({ agents: [agent('a', { cpus: 1, mem: 64 })], frameworks: [] })).offers).toEqual([]);
    const busy = agent('a', { cpus: 1, mem: 64 }, { available: {} });
    expect(allocate(input({ agents: [busy], frameworks: [framework('f1', ['r'])] })).offers).toEqual([]);
  });

  // Mesos's UnreservedDRF test, as one round: the role with the lowest share gets the agent.
  it('gives each agent to the role with the lowest dominant share', () => {
    const inp = input({
      agents: [agent('new', { cpus: 1, mem: 512 }), agent('busy', { cpus: 4, mem: 4096 }, { available: {} })],
      frameworks: [
        framework('f1', ['role1'], { allocated: { role1: { cpus: 2, mem: 1024 } } }), // 0.4
        framework('f2', ['role2'], { allocated: { role2: { cpus: 1, mem: 2048 } } }), // 0.45 (mem)
      ],
    });
    expect(who(allocate(inp).offers)).toEqual(['f1@new/role1']);
  });

  it('weights roles: share / weight decides', () => {
    const inp = input({
      agents: [agent('a', { cpus: 1, mem: 256 }), agent('busy', { cpus: 9, mem: 9000 }, { available: {} })],
      frameworks: [
        framework('f1', ['light'], { allocated: { light: { cpus: 2 } } }), // 0.2
        framework('f3', ['heavy'], { allocated: { heavy: { cpus: 3 } } }), // 0.3 / 3 = 0.1
      ],
      roles: [role('heavy', 3)],
    });
    expect(who(allocate(inp).offers)).toEqual(['f3@a/heavy']);
  });

  it('within a role, the framework with the lowest share gets the offer', () => {
    const inp = input({
      agents: [agent('a', { cpus: 1, mem: 256 }), agent('busy', { cpus: 9, mem: 9000 }, { available: {} })],
      frameworks: [
        framework('f1', ['r'], { allocated: { r: { cpus: 3 } } }),
        framework('f2', ['r'], { allocated: { r: { cpus: 1 } } }),
        framework('f3', ['r'], { allocated: { r: { cpus: 2 } } }),
      ],
    });
    expect(who(allocate(inp).offers)).toEqual(['f2@a/r']);
  });

  it('spreads agents across frameworks as their shares grow, ties broken by name', () => {
    const agents = ['a1', 'a2', 'a3', 'a4'].map((id) => agent(id, { cpus: 2, mem: 1024 }));
    const { offers } = allocate(input({ agents, frameworks: [framework('fb', ['r']), framework('fa', ['r'])] }));
    expect(offers).toHaveLength(4);
    const count = (f: string): number => offers.filter((o) => o.frameworkId === f).length;
    expect([count('fa'), count('fb')]).toEqual([2, 2]);
    // The first agent visited goes to 'fa' (equal shares, 'fa' < 'fb').
    expect(offers[0]!.frameworkId).toBe('fa');
  });

  it('counts non-allocatable agents in the cluster total for shares, but never offers them', () => {
    // With 'drained' counted, cpus are plentiful: r1's share is 2/102, r2's 512/1024.
    // Without it, r1 would hold 2/2 of the cpus and r2 would come first.
    const agents = [
      agent('free', { cpus: 2, mem: 1024 }, { available: { cpus: 1, mem: 256 } }),
      agent('drained', { cpus: 100 }, { allocatable: false }),
    ];
    const frameworks = [
      framework('f1', ['r1'], { allocated: { r1: { cpus: 2 } } }),
      framework('f2', ['r2'], { allocated: { r2: { mem: 512 } } }),
    ];
    const { offers } = allocate(input({ agents, frameworks }));
    expect(who(offers)).toEqual(['f1@free/r1']);
  });

  it('withholds agents that are not allocatable (draining, deactivated)', () => {
    const agents = [agent('draining', { cpus: 8, mem: 8192 }, { allocatable: false }), agent('ok', { cpus: 1, mem: 128 })];
    const { offers } = allocate(input({ agents, frameworks: [framework('f1', ['r']), framework('f2', ['r'])] }));
    expect(who(offers)).toEqual(['f1@ok/r']);
  });

  it('gives inactive frameworks nothing, though what they hold counts for their role', () => {
    const frameworks = [
      framework('gone', ['r1'], { active: false, allocated: { r1: { cpus: 4 } } }),
      framework('f1', ['r1']),
      framework('f2', ['r2'], { allocated: { r2: { cpus: 1 } } }),
    ];
    const agents = [agent('a', { cpus: 1, mem: 128 }), agent('busy', { cpus: 9, mem: 1 }, { available: {} })];
    expect(who(allocate(input({ agents, frameworks })).offers)).toEqual(['f2@a/r2']);
    const onlyInactive = [framework('gone', ['r1'], { active: false })];
    expect(allocate(input({ agents, frameworks: onlyInactive })).offers).toEqual([]);
  });

  it('gives suppressed roles nothing', () => {
    const agents = [agent('a1', { cpus: 1, mem: 128 }), agent('a2', { cpus: 1, mem: 128 })];
    const frameworks = [framework('f1', ['r1'], { suppressed: ['r1'] }), framework('f2', ['r2'], { suppressed: ['r2'] })];
    expect(allocate(input({ agents, frameworks })).offers).toEqual([]);
    // Suppressing one of two roles leaves the other, and other frameworks in the role.
    const multi = [framework('f1', ['r1', 'r2'], { suppressed: ['r1'] }), framework('f3', ['r1'])];
    const offers = allocate(input({ agents, frameworks: multi })).offers;
    expect(offers.filter((o) => o.frameworkId === 'f1').every((o) => o.role === 'r2')).toBe(true);
    expect(offers.filter((o) => o.role === 'r1').every((o) => o.frameworkId === 'f3')).toBe(true);
    expect(offers).toHaveLength(2);
  });

  it('respects decline filters: the next framework of the role, then the next role', () => {
    const agents = [agent('a1', { cpus: 1, mem: 128 })];
    const frameworks = [framework('f1', ['r1']), framework('f2', ['r1']), framework('f3', ['r2'], { allocated: { r2: { mem: 64 } } })];
    const filtered = (...keys: [string, string][]): AllocationInput =>
      input({ agents, frameworks, filters: new Set(keys.map(([f, a]) => declineFilterKey(f, a))) });
    expect(who(allocate(filtered()).offers)).toEqual(['f1@a1/r1']);
    expect(who(allocate(filtered(['f1', 'a1'])).offers)).toEqual(['f2@a1/r1']);
    expect(who(allocate(filtered(['f1', 'a1'], ['f2', 'a1'])).offers)).toEqual(['f3@a1/r2']);
    expect(allocate(filtered(['f1', 'a1'], ['f2', 'a1'], ['f3', 'a1'])).offers).toEqual([]);
    // A filter is per agent: another agent is still offered.
    const two = { ...filtered(['f1', 'a1']), agents: [...agents, agent('a2', { cpus: 1, mem: 128 })] };
    expect(allocate(two).offers.some((o) => o.frameworkId === 'f1' && o.agentId === 'a2')).toBe(true);
  });

  it('offers only what holds at least one of minAllocatable', () => {
    const agents = [
      agent('crumbs', { cpus: 0.005, mem: 16 }),
      agent('cpu-only', { cpus: 1 }),
      agent('mem-only', { mem: 64 }),
      agent('ports-only', { ports: [{ begin: 1, end: 2 }] }),
    ];
    const frameworks = [framework('f1', ['r'])];
    const made = allocate(input({ agents, frameworks })).offers.map((o) => o.agentId).sort();
    expect(made).toEqual(['cpu-only', 'mem-only']);
    // No minimum: anything non-empty is offered.
    const any = allocate(input({ agents, frameworks, minAllocatable: [] })).offers.map((o) => o.agentId).sort();
    expect(any).toEqual(['cpu-only', 'crumbs', 'mem-only', 'ports-only']);
    // A minimum with both scalars needs both.
    const both = allocate(input({ agents, frameworks, minAllocatable: [resources({ cpus: 0.01, mem: 32 })] })).offers;
    expect(both).toEqual([]);
  });

  it('frameworks in several roles are a client in each, and offers carry the role', () => {
    const agents = ['a1', 'a2', 'a3'].map((id) => agent(id, { cpus: 2, mem: 1024 }));
    const frameworks = [
      framework('multi', ['r1', 'r2'], { allocated: { r1: { cpus: 1 } } }),
      framework('f2', ['r2'], { allocated: { r2: { cpus: 2 } } }),
    ];
    // Total cpus 6: r1 = 1/6, r2 = 2/6. Within r2 'multi' holds nothing, so it is first there.
    const { offers } = allocate(input({ agents, frameworks }));
    expect(offers.map((o) => `${o.frameworkId}/${o.role}`).sort()).toEqual(['multi/r1', 'multi/r1', 'multi/r2']);
  });

  it('is deterministic for a seed, and the seed changes the agent order', () => {
    const agents = Array.from({ length: 12 }, (_, i) => agent(`a${i}`, { cpus: 1 + (i % 4), mem: 1024 }));
    const frameworks = ['f1', 'f2', 'f3'].map((id) => framework(id, ['r']));
    const run = (seed: number): string[] => who(allocate(input({ agents, frameworks, seed })).offers);
    expect(run(42)).toEqual(run(42));
    const distinct = new Set([0, 1, 2, 3, 4, 5].map((s) => run(s).join(',')));
    expect(distinct.size).toBeGreaterThan(1);
  });

  it('rejects a role weight that is not positive', () => {
    const inp = input({ agents: [], frameworks: [], roles: [role('r', 0)] });
    expect(() => allocate(inp)).toThrow(ValidationError);
  });
});

describe('allocate: quota limits', () => {
  it('caps each scalar at the role limit headroom and never caps ports', () => {
    const a = agent('a', { cpus: 8, mem: 8192, disk: 100, ports: [{ begin: 1000, end: 1010 }] });
    const frameworks = [framework('f1', ['q'], { allocated: { q: { cpus: 1, mem: 1024 } } })];
    const roles = [role('q', 1, { cpus: 3, mem: 10_000, disk: 50 })];
    const { offers } = allocate(input({ agents: [a], frameworks, roles }));
    expect(offers).toHaveLength(1);
    expect(offers[0]!.resources).toEqual(resources({ cpus: 2, mem: 8192, disk: 50, ports: [{ begin: 1000, end: 1010 }] }));
  });

  it('offers the remainder of a capped agent to the next candidate', () => {
    const agents = [agent('a', { cpus: 4, mem: 4096 })];
    const frameworks = [framework('small', ['q']), framework('other', ['free'], { allocated: { free: { cpus: 0.5 } } })];
    const roles = [role('q', 1, { cpus: 1, mem: 1024 })];
    const { offers } = allocate(input({ agents, frameworks, roles }));
    expect(who(offers)).toEqual(['small@a/q', 'other@a/free']);
    expect(offers[0]!.resources).toEqual(resources({ cpus: 1, mem: 1024 }));
    expect(offers[1]!.resources).toEqual(resources({ cpus: 3, mem: 3072 }));
  });

  it('chops agents between limited roles, as in Mesos LargeAndSmallQuota', () => {
    const agents = Array.from({ length: 5 }, (_, i) => agent(`a${i}`, { cpus: 2, mem: 2048, disk: 2048 }));
    const roles = [
      ...[0, 1, 2, 3].map((i) => role(`small${i}`, 1, { cpus: 1, mem: 1024, disk: 1024 })),
      role('large', 1, { cpus: 4, mem: 4096, disk: 4096 }),
    ];
    const frameworks = roles.map((r) => framework(`f-${r.name}`, [r.name]));
    const { offers } = allocate(input({ agents, frameworks, roles }));
    // 4 halves + 2 whole agents, and one agent left because every role is at its limit.
    expect(offers).toHaveLength(6);
    expect(sumOf(offers)).toEqual(resources({ cpus: 8, mem: 8192, disk: 8192 }));
    for (const r of roles) {
      expect(sumOf(offers.filter((o) => o.role === r.name))).toEqual(r.quotaLimit);
    }
  });

  it('keeps a role within its limit as allocations accumulate over a round', () => {
    const agents = Array.from({ length: 10 }, (_, i) => agent(`a${i}`, { cpus: 1, mem: 1024 }));
    const frameworks = [framework('f1', ['q']), framework('f2', ['q']), framework('g', ['free'])];
    const roles = [role('q', 10, { cpus: 2.5, mem: 1_000_000 })];
    // Limits are per scalar: once q has its 2.5 cpus it may still take memory, and Mesos's
    // default minimums (cpus:0.01 OR mem:32) let memory-only offers through...
    const { offers } = allocate(input({ agents, frameworks, roles }));
    const q = sumOf(offers.filter((o) => o.role === 'q'));
    expect(q.cpus).toBe(2500);
    expect(offers.filter((o) => o.role === 'q' && o.resources.cpus === 0).length).toBeGreaterThan(0);
    expect(sumOf(offers)).toEqual(resources({ cpus: 10, mem: 10_240 }));
    // ...while a minimum of cpus AND mem (Mesos's advice against such offers) stops q at
    // its cpu limit: 3 agents to q (the third chopped to 0.5 cpus, with all its memory,
    // which leaves a memory-less remainder no one is offered) and 7 to 'free'.
    const both = allocate(input({ agents, frameworks, roles, minAllocatable: [resources({ cpus: 0.01, mem: 32 })] }));
    expect(sumOf(both.offers.filter((o) => o.role === 'q'))).toEqual(resources({ cpus: 2.5, mem: 3072 }));
    expect(sumOf(both.offers.filter((o) => o.role === 'free'))).toEqual(resources({ cpus: 7, mem: 7168 }));
    expect(both.offers).toHaveLength(10);
  });

  it('a role at its limit gets nothing; over it in one scalar gets none of that scalar', () => {
    const agents = [agent('a', { cpus: 4, mem: 4096 })];
    const at = allocate(
      input({
        agents,
        frameworks: [framework('f1', ['q'], { allocated: { q: { cpus: 2, mem: 2048 } } })],
        roles: [role('q', 1, { cpus: 2, mem: 2048 })],
      }),
    );
    expect(at.offers).toEqual([]);
    const over = allocate(
      input({
        agents,
        frameworks: [framework('f1', ['q'], { allocated: { q: { cpus: 3, mem: 1024 } } })],
        roles: [role('q', 1, { cpus: 2, mem: 2048 })],
      }),
    );
    expect(over.offers.map((o) => o.resources)).toEqual([resources({ mem: 1024 })]);
  });

  it('skips a role whose capped offer fails minAllocatable, and tries the next role', () => {
    const agents = [agent('a', { cpus: 4, mem: 4096 })];
    const frameworks = [framework('f1', ['q']), framework('f2', ['other'], { allocated: { other: { cpus: 1 } } })];
    // q may take 0.005 cpus and 16 MiB: under both of Mesos's minimums.
    const roles = [role('q', 1, { cpus: 0.005, mem: 16 })];
    const { offers } = allocate(input({ agents, frameworks, roles }));
    expect(who(offers)).toEqual(['f2@a/other']);
    expect(offers[0]!.resources).toEqual(resources({ cpus: 4, mem: 4096 }));
  });
});

describe('allocate: fairness over rounds', () => {
  // Frameworks accept every offer in full; agents join in waves until the cluster is
  // saturated. Weighted DRF should leave the weight-3 role three times the weight-1 one.
  it('weights 1 and 3 hold resources within 10% of 1:3 on a saturated cluster', () => {
    const sizes = [2, 3, 4, 6, 8, 12, 16];
    let inp = input({
      agents: [],
      frameworks: [framework('f1', ['one']), framework('f3', ['three'])],
      roles: [role('one', 1), role('three', 3)],
    });
    let rounds = 0;
    for (let wave = 0; wave < 4; wave++) {
      const joined = Array.from({ length: 40 }, (_, i) => {
        const cpus = sizes[(i * 5 + wave) % sizes.length]!;
        return agent(`w${wave}-${i}`, { cpus, mem: cpus * 1024 });
      });
      inp = { ...inp, agents: [...inp.agents, ...joined] };
      while (true) {
        const result = allocate({ ...inp, seed: rounds });
        rounds++;
        if (result.offers.length === 0) break;
        inp = acceptAll(inp, result);
      }
    }
    expect(rounds).toBeGreaterThanOrEqual(8);
    expect(inp.agents.every((a) => a.available.cpus === 0 && a.available.mem === 0)).toBe(true);
    const total = inp.agents.reduce((s, a) => add(s, a.total), EMPTY);
    const share = (id: string, r: string): number =>
      dominantShare(inp.frameworks.find((f) => f.id === id)!.allocated[r] ?? EMPTY, total);
    const one = share('f1', 'one');
    const three = share('f3', 'three');
    expect(one + three).toBeCloseTo(1, 9);
    expect(three / one).toBeGreaterThan(3 * 0.9);
    expect(three / one).toBeLessThan(3 * 1.1);
  });
});
