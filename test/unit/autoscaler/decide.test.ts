import { describe, expect, it } from 'vitest';
import { decide, type ControllerInput, type Decision, type GroupHistory, type HostState, type PendingDemand, type ScaleDownDecision, type ScaleUpDecision } from '../../../src/autoscaler/decide.js';
import type { GroupRule } from '../../../src/autoscaler/rules.js';
import { host, rule, tasks } from './helpers.js';

// The decision function alone, on a simulated clock: every input is plain data, `now` an argument.

const T0 = 10_000_000;
const FAST = { settleMs: 0 };

function input(over: Partial<ControllerInput>): ControllerInput {
  return { rules: [rule()], hosts: [], pending: [], inFlight: {}, history: {}, options: FAST, ...over };
}

const ups = (d: readonly Decision[]): ScaleUpDecision[] => d.filter((x): x is ScaleUpDecision => x.kind === 'scale-up');
const downs = (d: readonly Decision[]): ScaleDownDecision[] => d.filter((x): x is ScaleDownDecision => x.kind === 'scale-down');

describe('scale-up from shortfall', () => {
  it('asks once for the hosts that would place the unplaced tasks (the scheduler on pseudo hosts)', () => {
    // 20 tasks of 1.5 cpus: two fit a 4-cpu host, so 10 hosts.
    const r = decide(input({ hosts: [host('busy')], pending: tasks(20, T0 - 1_000) }), T0);
    expect(r.decisions).toHaveLength(1);
    expect(ups(r.decisions)[0]).toMatchObject({ group: 'general', count: 10, cause: 'shortfall', tasks: 20 });
    expect(r.pending).toMatchObject({ counted: 20, stale: 0, constraint: 0 });
  });

  it('packs mixed sizes tightly: memory-bound tasks decide the count', () => {
    const big = tasks(6, T0 - 1_000, { resources: { cpus: 0.5, mem: 6000, disk: 0, ports: 0 } });
    const small = tasks(8, T0 - 1_000, { resources: { cpus: 0.5, mem: 1000, disk: 0, ports: 0 } }).map((t, i) => ({ ...t, id: `small/${i}` }));
    // Each 8192 MiB host takes one 6000 MiB task and two 1000 MiB ones: 6 hosts, the other 2 small tasks fit in them too.
    const r = decide(input({ hosts: [host('busy')], pending: [...big, ...small] }), T0);
    expect(ups(r.decisions)[0]?.count).toBe(6);
  });

  it('never asks beyond maxSize, and says so', () => {
    const r = decide(input({ rules: [rule({ maxSize: 6 })], hosts: [host('busy')], pending: tasks(20, T0 - 1_000) }), T0);
    expect(ups(r.decisions)[0]).toMatchObject({ count: 5 });
    expect(ups(r.decisions)[0]!.reason).toContain('capped by maxSize 6');
    expect(r.pending.unplaced).toBe(10);
    const full = decide(input({ rules: [rule({ maxSize: 1 })], hosts: [host('busy')], pending: tasks(20, T0 - 1_000) }), T0);
    expect(full.decisions).toEqual([]);
  });

  it('counts hosts in flight: a scale-up already asked for is not asked again', () => {
    const r = decide(input({ hosts: [host('busy')], pending: tasks(20, T0 - 1_000), inFlight: { general: 10 } }), T0);
    expect(r.decisions).toEqual([]);
    const more = decide(input({ hosts: [host('busy')], pending: tasks(24, T0 - 1_000), inFlight: { general: 10 } }), T0);
    expect(ups(more.decisions)[0]?.count).toBe(2);
  });

  it('respects the scale-up cooldown, then scales up once it has passed', () => {
    const history: Record<string, GroupHistory> = { general: { lastScaleUpAt: T0 - 30_000 } };
    const held = decide(input({ hosts: [host('busy')], pending: tasks(4, T0 - 1_000), history }), T0);
    expect(held.decisions).toEqual([]);
    expect(held.holds[0]?.reason).toMatch(/cooldown/);
    const later = T0 + 30_000;
    const r = decide(input({ hosts: [host('busy')], pending: tasks(4, later - 1_000), history }), later);
    expect(ups(r.decisions)[0]?.count).toBe(2);
  });

  it('repairs a group below minSize even within the cooldown', () => {
    const r = decide(input({ rules: [rule({ minSize: 3 })], hosts: [host('busy')], history: { general: { lastScaleUpAt: T0 - 1_000 } } }), T0);
    expect(ups(r.decisions)[0]).toMatchObject({ count: 2, cause: 'min-size' });
  });

  it('keeps minIdle idle hosts as headroom', () => {
    const r = decide(input({ rules: [rule({ minIdle: 2, maxIdle: 3 })], hosts: [host('busy'), host('busy'), host('idle')] }), T0);
    expect(ups(r.decisions)[0]).toMatchObject({ count: 1, cause: 'min-idle' });
  });

  it('sends a task to the cheapest group whose shape holds it, or to the group its constraint names', () => {
    const rules: GroupRule[] = [rule({ group: 'small', shape: { cpus: 2, mem: 4096, disk: 0, ports: 0 } }), rule({ group: 'big', shape: { cpus: 16, mem: 65536, disk: 0, ports: 0 } })];
    const pending: PendingDemand[] = [
      ...tasks(2, T0 - 1_000, { resources: { cpus: 1, mem: 1024, disk: 0, ports: 0 } }),
      { id: 'huge/0', job: 'huge', resources: { cpus: 8, mem: 30_000, disk: 0, ports: 0 }, kind: 'resource', at: T0 - 1_000 },
      { id: 'pinned/0', job: 'pinned', resources: { cpus: 1, mem: 1024, disk: 0, ports: 0 }, kind: 'resource', at: T0 - 1_000, constraints: [{ type: 'hostAttribute', attribute: 'group', values: ['big'] }] },
    ];
    const r = decide(input({ rules, hosts: [host('busy', { group: 'small' }), host('busy', { group: 'big' })], pending }), T0);
    expect(Object.fromEntries(ups(r.decisions).map((d) => [d.group, d.count]))).toEqual({ small: 1, big: 1 });
  });

  it('does not scale up for a task no group can hold', () => {
    const r = decide(input({ hosts: [host('busy')], pending: tasks(3, T0 - 1_000, { resources: { cpus: 64, mem: 1024, disk: 0, ports: 0 } }) }), T0);
    expect(r.decisions).toEqual([]);
    expect(r.pending.unplaced).toBe(3);
  });

  it('spreads new hosts over the zones with the fewest hosts', () => {
    const hosts = [host('busy', { zone: 'a' }), host('busy', { zone: 'a' }), host('busy', { zone: 'b' })];
    const r = decide(input({ rules: [rule({ zones: ['a', 'b', 'c'] })], hosts, pending: tasks(8, T0 - 1_000) }), T0);
    expect(ups(r.decisions)[0]!.zones).toEqual(['c', 'b', 'c', 'a']);
  });
});

describe('pending information must be fresh', () => {
  it('ignores reasons computed before the newest host registered (or within settleMs of it)', () => {
    const hosts = [host('busy', { registeredAt: T0 - 5_000 })];
    const before = decide(input({ hosts, pending: tasks(4, T0 - 6_000) }), T0);
    expect(before.decisions).toEqual([]);
    expect(before.pending.stale).toBe(4);
    const settling = decide(input({ hosts, pending: tasks(4, T0 - 4_000), options: { settleMs: 2_000 } }), T0);
    expect(settling.decisions).toEqual([]);
    const after = decide(input({ hosts, pending: tasks(4, T0 - 2_000), options: { settleMs: 2_000 } }), T0);
    expect(ups(after.decisions)[0]?.count).toBe(2);
  });

  it('ignores reasons older than pendingMaxAgeMs, from the future, or without a time', () => {
    const old = decide(input({ hosts: [host('busy')], pending: tasks(4, T0 - 11 * 60_000) }), T0);
    expect(old.decisions).toEqual([]);
    expect(old.pending.stale).toBe(4);
    const future = decide(input({ hosts: [host('busy')], pending: tasks(4, T0 + 60_000) }), T0);
    expect(future.decisions).toEqual([]);
    const untimed = decide(input({ hosts: [host('busy')], pending: tasks(4, T0).map(({ at: _at, ...t }) => t) }), T0);
    expect(untimed.decisions).toEqual([]);
    expect(untimed.pending.unevaluated).toBe(4);
  });
});

describe('constraint failures', () => {
  it('never cause a scale-up, however many', () => {
    const r = decide(input({ hosts: [host('busy')], pending: [...tasks(50, T0 - 1_000, { kind: 'constraint' }), ...tasks(5, T0 - 1_000, { kind: 'unevaluated' })] }), T0);
    expect(r.decisions).toEqual([]);
    expect(r.pending).toMatchObject({ counted: 0, constraint: 50, unevaluated: 5 });
  });
});

describe('scale-down of idle hosts', () => {
  const idleLong = (over: Partial<HostState> = {}): HostState => host('idle', { idleSince: T0 - 600_000, ...over });

  it('removes idle hosts beyond maxIdle once idle for the scale-down cooldown', () => {
    const hosts = [host('busy'), idleLong(), idleLong(), idleLong()];
    const r = decide(input({ hosts }), T0);
    expect(downs(r.decisions)[0]).toMatchObject({ cause: 'max-idle' });
    expect(downs(r.decisions)[0]!.hosts).toHaveLength(2);
    expect(downs(r.decisions)[0]!.hosts.every((h) => !h.busy)).toBe(true);
  });

  it('keeps hosts idle for less than the cooldown, and waits a cooldown after any scaling', () => {
    const recent = [host('busy'), host('idle', { idleSince: T0 - 60_000 }), host('idle', { idleSince: T0 - 60_000 })];
    expect(decide(input({ hosts: recent }), T0).decisions).toEqual([]);
    const hosts = [host('busy'), idleLong(), idleLong()];
    expect(decide(input({ hosts, history: { general: { lastScaleUpAt: T0 - 60_000 } } }), T0).decisions).toEqual([]);
    expect(decide(input({ hosts, history: { general: { lastScaleDownAt: T0 - 60_000 } } }), T0).decisions).toEqual([]);
    expect(downs(decide(input({ hosts, history: { general: { lastScaleDownAt: T0 - 300_000 } } }), T0).decisions)).toHaveLength(1);
  });

  it('never goes below minSize', () => {
    const hosts = [idleLong(), idleLong(), idleLong()];
    expect(decide(input({ rules: [rule({ minSize: 3, maxIdle: 0 })], hosts }), T0).decisions).toEqual([]);
    const r = decide(input({ rules: [rule({ minSize: 2, maxIdle: 0 })], hosts }), T0);
    expect(downs(r.decisions)[0]!.hosts).toHaveLength(1);
  });

  it('removes from the zone with the most hosts first', () => {
    const hosts = [idleLong({ zone: 'a' }), idleLong({ zone: 'a' }), idleLong({ zone: 'a' }), idleLong({ zone: 'b' }), host('busy', { zone: 'b' }), idleLong({ zone: 'c' })];
    const r = decide(input({ rules: [rule({ minSize: 3, maxIdle: 1 })], hosts }), T0);
    const zones = downs(r.decisions)[0]!.hosts.map((h) => h.zone);
    // a has 3 hosts, b 2 (one busy), c 1: two from a; then b (2) has more than a (1).
    expect(zones).toEqual(['a', 'a', 'b']);
  });

  it('never removes busy hosts for idleness, nor while tasks wait or hosts are in flight', () => {
    const hosts = [host('busy'), host('busy'), idleLong(), idleLong(), idleLong()];
    const waiting = decide(input({ hosts, pending: tasks(1, T0 - 1_000, { resources: { cpus: 8, mem: 1024, disk: 0, ports: 0 } }), rules: [rule({ shape: { cpus: 8, mem: 8192, disk: 0, ports: 0 } })] }), T0);
    expect(downs(waiting.decisions)).toEqual([]);
    expect(downs(decide(input({ hosts, inFlight: { general: 1 } }), T0).decisions)).toEqual([]);
    const r = decide(input({ hosts, rules: [rule({ maxIdle: 0, minSize: 0 })] }), T0);
    expect(downs(r.decisions)[0]!.hosts).toHaveLength(3);
  });

  it('above maxSize removes the excess: unreachable, then idle, and busy hosts only when draining them is allowed', () => {
    const hosts = [host('busy', { zone: 'a' }), host('busy', { zone: 'b' }), host('unreachable', { zone: 'a' }), host('idle', { zone: 'b', idleSince: T0 })];
    const r = decide(input({ rules: [rule({ maxSize: 1, maxIdle: 5 })], hosts }), T0);
    expect(downs(r.decisions)[0]!.hosts.map((h) => h.agentId)).toEqual([hosts[2]!.agentId, hosts[3]!.agentId]);
    expect(r.holds.some((h) => /drainBusy is off/.test(h.reason))).toBe(true);
    const busy = decide(input({ rules: [rule({ maxSize: 1, maxIdle: 5, drainBusy: true })], hosts }), T0);
    expect(downs(busy.decisions)[0]!.hosts).toHaveLength(3);
    expect(downs(busy.decisions)[0]!.hosts.filter((h) => h.busy)).toHaveLength(1);
  });

  it('does not count hosts already being removed', () => {
    const hosts = [host('busy'), idleLong({ removing: true }), idleLong({ removing: true }), idleLong()];
    expect(decide(input({ hosts }), T0).decisions).toEqual([]);
  });
});

/**
 * A small world on a simulated clock: tasks of 1.5 cpus packed two per host in hostname order,
 * hosts arriving 5 s after a scale-up, removed at once on a scale-down.
 */
function simulate(options: { periodMs: number; durationMs: number; highTasks: number; rule: GroupRule }): { ups: number[]; downs: number[]; sizes: number[] } {
  let hosts: HostState[] = [host('idle', { agentId: 'h-000', hostname: 'h-000', registeredAt: 0 })];
  const flying: { arriveAt: number; count: number }[] = [];
  const history: { lastScaleUpAt?: number; lastScaleDownAt?: number } = {};
  const idleSince = new Map<string, number>();
  const out = { ups: [] as number[], downs: [] as number[], sizes: [] as number[] };
  let serial = 1;
  for (let t = 1_000; t <= options.durationMs; t += 1_000) {
    for (const f of flying.filter((x) => x.arriveAt <= t)) {
      for (let i = 0; i < f.count; i++) {
        const name = `h-${String(serial++).padStart(3, '0')}`;
        hosts.push(host('idle', { agentId: name, hostname: name, registeredAt: t }));
      }
    }
    flying.splice(0, flying.length, ...flying.filter((x) => x.arriveAt > t));
    const load = t % options.periodMs < options.periodMs / 2 ? options.highTasks : 0;
    let left = load;
    hosts = [...hosts]
      .sort((a, b) => (a.hostname < b.hostname ? -1 : 1))
      .map((h) => {
        const take = Math.min(2, left);
        left -= take;
        if (take > 0) {
          idleSince.delete(h.agentId);
          return { ...h, activity: 'busy' as const, idleSince: undefined } as HostState;
        }
        if (!idleSince.has(h.agentId)) idleSince.set(h.agentId, t);
        return { ...h, activity: 'idle' as const, idleSince: idleSince.get(h.agentId)! };
      });
    const pending = tasks(left, t);
    const inFlight = { general: flying.reduce((n, f) => n + f.count, 0) };
    const r = decide({ rules: [options.rule], hosts, pending, inFlight, history: { general: history }, options: { settleMs: 0 } }, t);
    for (const d of r.decisions) {
      if (d.kind === 'scale-up') {
        out.ups.push(t);
        history.lastScaleUpAt = t;
        flying.push({ arriveAt: t + 5_000, count: d.count });
      } else {
        out.downs.push(t);
        history.lastScaleDownAt = t;
        const gone = new Set(d.hosts.map((h) => h.agentId));
        hosts = hosts.filter((h) => !gone.has(h.agentId));
      }
    }
    out.sizes.push(hosts.length);
  }
  return out;
}

describe('no flapping', () => {
  const r = rule({ minSize: 1, maxSize: 20, maxIdle: 1, scaleUpCooldownMs: 60_000, scaleDownCooldownMs: 300_000 });

  it('a load oscillating faster than the cooldown scales up once and never alternates', () => {
    // 16 tasks for 60 s, none for 60 s, for an hour: period 120 s < the 300 s cooldown.
    const s = simulate({ periodMs: 120_000, durationMs: 3_600_000, highTasks: 16, rule: r });
    expect(s.ups.length).toBeGreaterThanOrEqual(1);
    expect(s.ups.every((t) => t < 120_000)).toBe(true);
    expect(s.downs).toEqual([]);
    expect(Math.max(...s.sizes.slice(200))).toBe(Math.min(...s.sizes.slice(200)));
  });

  it('the same load with long quiet phases does scale down (the simulation can flap when it should)', () => {
    const s = simulate({ periodMs: 1_200_000, durationMs: 3_600_000, highTasks: 16, rule: r });
    expect(s.downs.length).toBeGreaterThanOrEqual(2);
    // Each scale-down comes at least a cooldown after the scale-up before it.
    for (const d of s.downs) {
      const lastUp = Math.max(...s.ups.filter((u) => u < d));
      expect(d - lastUp).toBeGreaterThanOrEqual(300_000);
    }
  });
});

describe('the shortfall estimate', () => {
  it('leaves disk and ports out when the shape gives none, counts them when it does', () => {
    const withPorts = tasks(4, T0 - 1_000, { resources: { cpus: 0.5, mem: 256, disk: 500, ports: 3 } });
    expect(ups(decide(input({ hosts: [host('busy')], pending: withPorts }), T0).decisions)[0]?.count).toBe(1);
    const counted = decide(input({ rules: [rule({ shape: { cpus: 4, mem: 8192, disk: 1000, ports: 4 } })], hosts: [host('busy')], pending: withPorts }), T0);
    expect(ups(counted.decisions)[0]?.count).toBe(4);
  });

  it('honours the tasks\' zone balance over the group zones, which first-fit packing ignored, and asks for those zones', () => {
    const hosts = [host('busy', { zone: 'a' }), host('busy', { zone: 'b' }), host('busy', { zone: 'c' })];
    const zones = rule({ zones: ['a', 'b', 'c'] });
    // Two 1.5-cpu tasks fit one 4-cpu host, but a hard zone spread puts four of a job in three zones.
    const spread = ups(decide(input({ rules: [zones], hosts, pending: tasks(4, T0 - 1_000, { zoneSpread: 'hard' }) }), T0).decisions)[0]!;
    expect(spread).toMatchObject({ count: 3, cause: 'shortfall', tasks: 4 });
    expect([...spread.zones].sort()).toEqual(['a', 'b', 'c']);
    expect(ups(decide(input({ rules: [zones], hosts, pending: tasks(4, T0 - 1_000, { zoneSpread: 'off' }) }), T0).decisions)[0]?.count).toBe(2);
  });

  it('gives new hosts the attributes all the group\'s hosts share, so attribute constraints are honoured', () => {
    const hosts = [host('busy', { attributes: { group: 'general', instance_type: 'm5.large', instance_id: 'i-1' } }), host('busy', { attributes: { group: 'general', instance_type: 'm5.large', instance_id: 'i-2' } })];
    const wants = (type: string) => tasks(2, T0 - 1_000, { constraints: [{ type: 'hostAttribute', attribute: 'instance_type', values: [type] }] });
    expect(ups(decide(input({ hosts, pending: wants('m5.large') }), T0).decisions)[0]?.count).toBe(1);
    const refused = decide(input({ hosts, pending: wants('m5.xlarge') }), T0);
    expect(refused.decisions).toEqual([]);
    expect(refused.pending.unplaced).toBe(2);
    // A host's own instance id is not the group's.
    expect(decide(input({ hosts: hosts.slice(0, 1), pending: tasks(1, T0 - 1_000, { constraints: [{ type: 'hostAttribute', attribute: 'instance_id', values: ['i-1'] }] }) }), T0).pending.unplaced).toBe(1);
  });
});
