import { describe, expect, it } from 'vitest';
import {
  asSoftConstraint,
  BalancedHostAttrConstraint,
  cpuBinPacker,
  exclusiveHost,
  HostAttrValueConstraint,
  scheduleOnce,
  UniqueHostAttrConstraint,
  type ConstraintEvaluator,
} from '../../../src/fenzo/index.js';
import { countBy, lease, placement, running, task, zones } from './helpers.js';

describe('BalancedHostAttrConstraint (hard)', () => {
  const zone = new BalancedHostAttrConstraint();

  it('only allows the least loaded values, counting running tasks of the group', () => {
    const leases = zones(2, ['a', 'b', 'c']);
    // Zone a already runs two, zone b one: the first new task must go to c, then b or c...
    const r = scheduleOnce([task('t1', { group: 'web', hard: [zone] }), task('t2', { group: 'web', hard: [zone] }), task('t3', { group: 'web', hard: [zone] })], leases, {
      fitnessCalculator: cpuBinPacker,
      runningTasks: [running('r1', 'a-host0', 'web'), running('r2', 'a-host1', 'web'), running('r3', 'b-host0', 'web'), running('x', 'b-host1', 'other')],
    });
    expect(countBy(r, leases, 'zone')).toEqual({ c: 2, b: 1 });
    expect(placement(r).t1!.startsWith('c-')).toBe(true);
  });

  it('balances over an explicit list of values, even ones no host offers', () => {
    const leases = zones(1, ['a', 'b']);
    const balanced = new BalancedHostAttrConstraint({ attribute: 'zone', values: ['a', 'b', 'c'] });
    const r = scheduleOnce([task('t1', { group: 'g', hard: [balanced] }), task('t2', { group: 'g', hard: [balanced] }), task('t3', { group: 'g', hard: [balanced] })], leases);
    // c can never take one, so a and b get one each and the third would imbalance.
    expect(countBy(r, leases, 'zone')).toEqual({ a: 1, b: 1 });
    expect(r.failures.map((f) => f.taskId)).toEqual(['t3']);
  });

  it('refuses hosts without the attribute, or with a value outside the list', () => {
    const leases = [lease('bare'), lease('zoned', { attributes: { zone: 'x' } })];
    const listed = new BalancedHostAttrConstraint({ values: ['a'] });
    expect(placement(scheduleOnce([task('t', { hard: [zone] })], leases))).toEqual({ t: 'zoned' });
    expect(scheduleOnce([task('t', { hard: [listed] })], leases).failures).toHaveLength(1);
  });

  it('keeps groups apart: another group does not count', () => {
    const leases = zones(1, ['a', 'b']);
    const r = scheduleOnce([task('t1', { group: 'web', hard: [zone] })], leases, { runningTasks: [running('r', 'a-host0', 'db')] });
    expect(placement(r)).toEqual({ t1: 'a-host0' });
  });
});

describe('BalancedHostAttrConstraint (soft)', () => {
  it('prefers the least loaded value where packing alone would stack one zone', () => {
    const leases = [lease('a1', { attributes: { zone: 'a' } }), lease('b1', { attributes: { zone: 'b' } })];
    const soft = asSoftConstraint(new BalancedHostAttrConstraint());
    const tasks = (withSoft: boolean) => [1, 2, 3, 4].map((k) => task(`t${k}`, { group: 'g', cpus: 2, ...(withSoft ? { soft: [soft] } : {}) }));
    expect(countBy(scheduleOnce(tasks(false), leases), leases, 'zone')).toEqual({ a: 4 });
    expect(placement(scheduleOnce(tasks(true), leases))).toEqual({ t1: 'a1', t2: 'b1', t3: 'a1', t4: 'b1' });
  });

  it('does not refuse a host that would imbalance when nothing else fits', () => {
    // b1 holds one 2-CPU task; then only a1 has room.
    const leases = [lease('a1', { attributes: { zone: 'a' } }), lease('b1', { cpus: 3, attributes: { zone: 'b' } })];
    const c = new BalancedHostAttrConstraint();
    const tasks = (hard: boolean) => [1, 2, 3, 4].map((k) => task(`t${k}`, { group: 'g', cpus: 2, ...(hard ? { hard: [c] } : { soft: [asSoftConstraint(c)] }) }));
    const soft = scheduleOnce(tasks(false), leases, { fitnessCalculator: cpuBinPacker });
    expect(placement(soft)).toEqual({ t1: 'b1', t2: 'a1', t3: 'a1', t4: 'a1' });
    const hard = scheduleOnce(tasks(true), leases, { fitnessCalculator: cpuBinPacker });
    // a 2 / b 1 is as balanced as it gets; a third task in a would make it 3 / 1.
    expect(placement(hard)).toEqual({ t1: 'b1', t2: 'a1', t3: 'a1' });
    expect(hard.failures[0]!.reasons).toEqual([
      { kind: 'resource', resource: 'cpus', hosts: 1, requested: 2000, largestFree: 4000 },
      {
        kind: 'constraint',
        constraint: 'BalancedHostAttrConstraint[zone]',
        hosts: 1,
        detail: "zone=a already has 2 task(s) of group 'g', the least loaded has 1",
      },
    ]);
  });

  it('scores 1 on the least loaded values and less on the others', () => {
    const c = new BalancedHostAttrConstraint();
    const leases = zones(1, ['a', 'b']);
    const fits: number[] = [];
    const probe: ConstraintEvaluator = {
      name: 'probe',
      evaluate: (t, host, tracker) => {
        fits.push(c.softFitness(t, host, tracker));
        return true;
      },
    };
    scheduleOnce([task('t', { group: 'g', hard: [probe] })], leases, { runningTasks: [running('r1', 'a-host0', 'g'), running('r2', 'a-host0', 'g')] });
    // a has 2 (max), b has 0 (min): a scores (1 + 2 - 2) / (1 + 2 - 0) = 1/3, b scores 1.
    expect(fits).toEqual([1 / 3, 1]);
  });
});

describe('UniqueHostAttrConstraint', () => {
  it('puts at most one task of the group on each host by default', () => {
    const leases = [lease('h1'), lease('h2')];
    const unique = new UniqueHostAttrConstraint();
    const r = scheduleOnce([1, 2, 3].map((k) => task(`t${k}`, { group: 'g', hard: [unique] })), leases, { fitnessCalculator: cpuBinPacker });
    expect(placement(r)).toEqual({ t1: 'h1', t2: 'h2' });
    expect(r.failures[0]!.reasons).toEqual([
      { kind: 'constraint', constraint: 'UniqueHostAttrConstraint[hostname]', hosts: 2, detail: "hostname=h1 already has 1 task(s) of group 'g'" },
    ]);
  });

  it('counts running tasks, and works on any attribute', () => {
    const leases = zones(2, ['a', 'b', 'c']);
    const perZone = new UniqueHostAttrConstraint('zone');
    const r = scheduleOnce([1, 2, 3].map((k) => task(`t${k}`, { group: 'g', hard: [perZone] })), leases, {
      runningTasks: [running('r', 'b-host1', 'g')],
    });
    expect(countBy(r, leases, 'zone')).toEqual({ a: 1, c: 1 });
    expect(r.failures.map((f) => f.taskId)).toEqual(['t3']);
  });

  it("soft, scores as Fenzo's AsSoftConstraint: 1 on a host without the group, 0 with any of it; graded only when asked", () => {
    const leases = [lease('one'), lease('two'), lease('none')];
    const runningTasks = [running('r1', 'one', 'g'), running('r2', 'two', 'g'), running('r3', 'two', 'g')];
    const score = (c: UniqueHostAttrConstraint): Record<string, number> => {
      const soft = asSoftConstraint(c);
      const out: Record<string, number> = {};
      const probe: ConstraintEvaluator = {
        name: 'probe',
        evaluate: (t, host, tracker) => {
          out[host.hostname] = soft.calculateFitness(t, host, tracker);
          return true;
        },
      };
      scheduleOnce([task('t', { group: 'g', hard: [probe] })], leases, { runningTasks });
      return out;
    };
    // One co-task is as bad as two: a job does not pile onto the hosts it already holds.
    expect(score(new UniqueHostAttrConstraint())).toEqual({ one: 0, two: 0, none: 1 });
    expect(score(new UniqueHostAttrConstraint('hostname', { graded: true }))).toEqual({ one: 0.5, two: 1 / 3, none: 1 });
  });

  it('soft, it prefers hosts without the group but allows doubling up', () => {
    const leases = [lease('h1'), lease('h2', { cpus: 1 })];
    const soft = asSoftConstraint(new UniqueHostAttrConstraint());
    const r = scheduleOnce([1, 2, 3].map((k) => task(`t${k}`, { group: 'g', soft: [soft] })), leases, { fitnessCalculator: cpuBinPacker });
    expect(placement(r)).toEqual({ t1: 'h2', t2: 'h1', t3: 'h1' });
  });
});

describe('running tasks on hosts without a lease', () => {
  it('count for zone balance by their own attributes, with no knownHosts given', () => {
    // Zone a's hosts are full (no lease); its two running tasks still count: b and c get the next two.
    const leases = zones(1, ['b', 'c']);
    const balanced = new BalancedHostAttrConstraint({ values: ['a', 'b', 'c'] });
    const runningTasks = [
      { ...running('r1', 'a-full0', 'g'), attributes: { zone: 'a' } },
      { ...running('r2', 'a-full1', 'g'), attributes: { zone: 'a' } },
    ];
    const r = scheduleOnce([1, 2, 3].map((k) => task(`t${k}`, { group: 'g', hard: [balanced] })), leases, { runningTasks });
    expect(countBy(r, leases, 'zone')).toEqual({ b: 2, c: 1 });
    // Without their attributes they could not be counted: the first task would go anywhere.
    const blind = scheduleOnce([task('t1', { group: 'g', hard: [balanced] })], leases, { runningTasks: runningTasks.map(({ attributes: _a, ...t }) => t) });
    expect(blind.assignments).toHaveLength(1);
  });
});

describe('HostAttrValueConstraint', () => {
  const leases = [lease('small', { attributes: { type: 'm5.large' } }), lease('big', { attributes: { type: 'm5.4xlarge' } }), lease('none')];

  it('only allows hosts whose attribute is one of the values', () => {
    const c = new HostAttrValueConstraint('type', ['m5.4xlarge', 'm5.8xlarge']);
    expect(placement(scheduleOnce([task('t', { hard: [c] })], leases))).toEqual({ t: 'big' });
    const f = scheduleOnce([task('t', { hard: [new HostAttrValueConstraint('type', 'c5.large')] })], leases).failures[0]!;
    expect(f.reasons).toEqual([expect.objectContaining({ kind: 'constraint', constraint: 'HostAttrValueConstraint[type]', hosts: 3 })]);
  });

  it('soft, it is a preference', () => {
    const soft = asSoftConstraint(new HostAttrValueConstraint('type', 'm5.large'));
    const r = scheduleOnce([task('t1', { cpus: 8, soft: [soft] }), task('t2', { cpus: 8, soft: [soft] })], leases);
    expect(placement(r)).toEqual({ t1: 'small', t2: 'big' });
  });
});

describe('ExclusiveHostConstraint', () => {
  it('needs an empty host, and then keeps every other task off it', () => {
    const leases = [lease('h1'), lease('h2'), lease('h3')];
    const r = scheduleOnce([task('plain1'), task('alone', { hard: [exclusiveHost] }), task('plain2'), task('plain3', { cpus: 8 })], leases, {
      fitnessCalculator: cpuBinPacker,
      runningTasks: [running('r', 'h1', 'g')],
    });
    // h1 runs a task: plain1 packs onto it; alone takes h2, the first empty host; nothing else may join h2.
    expect(placement(r)).toEqual({ plain1: 'h1', alone: 'h2', plain2: 'h1', plain3: 'h3' });
  });

  it('a running exclusive task holds its host', () => {
    const leases = [lease('h1'), lease('h2', { cpus: 1 })];
    const r = scheduleOnce([task('a'), task('b')], leases, { runningTasks: [{ taskId: 'x', groupName: 'g', hostname: 'h1', exclusive: true }] });
    expect(placement(r)).toEqual({ a: 'h2' });
    expect(r.failures[0]!.reasons).toContainEqual(expect.objectContaining({ kind: 'constraint', constraint: expect.stringContaining('ExclusiveHost'), hosts: 1 }));
  });

  it('soft, it prefers empty hosts without holding them', () => {
    const soft = asSoftConstraint(exclusiveHost);
    const leases = [lease('h1'), lease('h2')];
    const r = scheduleOnce([task('a'), task('b', { soft: [soft] }), task('c')], leases, { fitnessCalculator: cpuBinPacker });
    expect(placement(r)).toEqual({ a: 'h1', b: 'h2', c: 'h1' });
    // h1 keeps 6 CPUs, h2 7 after b: a 7-CPU task can only join b on h2, and may (b did not hold it).
    const again = scheduleOnce([task('a', { cpus: 2 }), task('b', { soft: [soft] }), task('c', { cpus: 7 })], leases, { fitnessCalculator: cpuBinPacker });
    expect(placement(again)).toEqual({ a: 'h1', b: 'h2', c: 'h2' });
  });
});

describe('custom plugins', () => {
  it('a user constraint and calculator plug in like the built-in ones', () => {
    const evenOnly: ConstraintEvaluator = { name: 'EvenHosts', evaluate: (_t, host) => Number(host.hostname.slice(1)) % 2 === 0 };
    const leases = [lease('h1'), lease('h2'), lease('h3'), lease('h4')];
    const preferHigh = { name: 'PreferHigh', calculateFitness: (_t: unknown, host: { hostname: string }) => Number(host.hostname.slice(1)) / 10 };
    const r = scheduleOnce([task('t', { hard: [evenOnly] })], leases, { fitnessCalculator: preferHigh });
    expect(placement(r)).toEqual({ t: 'h4' });
  });
});
