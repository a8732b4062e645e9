import { describe, expect, it } from 'vitest';
import { evaluateShortfall, type ShortfallGroup, type ShortfallTask } from '../../../src/autoscaler/shortfall.js';

// The shortfall estimate: the Fenzo scheduler placing tasks short of resources on pseudo hosts
// of each group's shape. Every input is plain data.

function group(over: Partial<ShortfallGroup> = {}): ShortfallGroup {
  return { group: 'general', shape: { cpus: 4, mem: 8192, disk: 0, ports: 0 }, attributes: {}, zones: [], hostsPerZone: new Map(), inFlight: 0, room: 100, ...over };
}

function tasks(count: number, over: Partial<ShortfallTask> = {}, job = 'job'): ShortfallTask[] {
  return Array.from({ length: count }, (_, i) => ({ id: `${job}/${i}`, job, resources: { cpus: 1.5, mem: 1024, disk: 0, ports: 0 }, ...over }));
}

const THREE_ZONES = { zones: ['a', 'b', 'c'], hostsPerZone: new Map([['a', 1], ['b', 1], ['c', 1]]) };

describe('shortfall on pseudo hosts', () => {
  it('counts the hosts tasks need, several per host where they fit', () => {
    const r = evaluateShortfall(tasks(20), [group()]);
    expect(r.newHosts.get('general')).toBe(10);
    expect(r.tasks.get('general')).toBe(20);
    expect(r.unplaced).toEqual([]);
  });

  it('reports tasks too big for every shape and does not count them', () => {
    const r = evaluateShortfall([...tasks(2), ...tasks(3, { resources: { cpus: 64, mem: 1024, disk: 0, ports: 0 } }, 'huge')], [group()]);
    expect(r.newHosts.get('general')).toBe(1);
    expect(r.tasks.get('general')).toBe(2);
    expect(r.unplaced).toEqual(['huge/0', 'huge/1', 'huge/2']);
    expect(r.capped.size).toBe(0);
  });

  it('sends a task only to the groups its group constraint allows, else to the cheapest shape that holds it', () => {
    const small = group({ group: 'small', shape: { cpus: 2, mem: 4096, disk: 0, ports: 0 } });
    const big = group({ group: 'big', shape: { cpus: 16, mem: 65536, disk: 0, ports: 0 } });
    const pinned = tasks(3, { resources: { cpus: 1, mem: 1024, disk: 0, ports: 0 }, constraints: [{ type: 'hostAttribute', attribute: 'group', values: ['big'] }] }, 'pinned');
    const r = evaluateShortfall([...tasks(2, { resources: { cpus: 1, mem: 1024, disk: 0, ports: 0 } }), ...pinned], [big, small]);
    expect(Object.fromEntries(r.newHosts)).toEqual({ small: 1, big: 1 });
    expect(Object.fromEntries(r.tasks)).toEqual({ small: 2, big: 3 });
    const nowhere = evaluateShortfall(tasks(1, { constraints: [{ type: 'hostAttribute', attribute: 'group', values: ['gpu'] }] }), [small, big]);
    expect(nowhere.unplaced).toEqual(['job/0']);
  });

  it('spreads a job over the group zones when its zone spread is hard, which first-fit packing ignored', () => {
    // Two 1.5-cpu tasks fit one 4-cpu host; balanced over three zones, four tasks need three hosts.
    const spread = evaluateShortfall(tasks(4, { zoneSpread: 'hard' }), [group(THREE_ZONES)]);
    expect(spread.newHosts.get('general')).toBe(3);
    expect([...spread.zones.get('general')!].sort()).toEqual(['a', 'b', 'c']);
    const packed = evaluateShortfall(tasks(4, { zoneSpread: 'off' }), [group(THREE_ZONES)]);
    expect(packed.newHosts.get('general')).toBe(2);
    // Each job is balanced on its own.
    const two = evaluateShortfall([...tasks(3, { zoneSpread: 'hard' }, 'web'), ...tasks(3, { zoneSpread: 'hard' }, 'api')], [group(THREE_ZONES)]);
    expect(two.newHosts.get('general')).toBe(3);
  });

  it('keeps a job balanced across groups: hosts one group received count for the next', () => {
    const small = group({ group: 'small', shape: { cpus: 2, mem: 4096, disk: 0, ports: 0 }, zones: ['a'], room: 1 });
    const big = group({ group: 'big', shape: { cpus: 16, mem: 65536, disk: 0, ports: 0 }, zones: ['a', 'b'] });
    const r = evaluateShortfall(tasks(2, { resources: { cpus: 1, mem: 1024, disk: 0, ports: 0 }, zoneSpread: 'hard' }), [small, big]);
    // The first task takes the one small host (zone a); the second must go to zone b, a big host.
    expect(Object.fromEntries(r.newHosts)).toEqual({ small: 1, big: 1 });
    expect(r.zones.get('big')).toEqual(['b']);
  });

  it('honours unique-host and attribute constraints on the hosts the group would get', () => {
    expect(evaluateShortfall(tasks(3, { resources: { cpus: 0.5, mem: 256, disk: 0, ports: 0 }, constraints: [{ type: 'uniqueHost' }] }), [group()]).newHosts.get('general')).toBe(3);
    const m5 = group({ attributes: { instance_type: 'm5.large' } });
    const wantsXl = tasks(2, { constraints: [{ type: 'hostAttribute', attribute: 'instance_type', values: ['m5.xlarge'] }] });
    const refused = evaluateShortfall(wantsXl, [m5]);
    expect(refused.newHosts.get('general')).toBe(0);
    expect(refused.unplaced).toHaveLength(2);
    expect(refused.capped.size).toBe(0);
    expect(evaluateShortfall(wantsXl, [group({ attributes: { instance_type: 'm5.xlarge' } })]).newHosts.get('general')).toBe(1);
  });

  it('fills the hosts in flight first and says how many stay unused', () => {
    const r = evaluateShortfall(tasks(6), [group({ inFlight: 5 })]);
    expect(r.newHosts.get('general')).toBe(0);
    expect(r.unusedInFlight.get('general')).toBe(2);
    const more = evaluateShortfall(tasks(12), [group({ inFlight: 5 })]);
    expect(more.newHosts.get('general')).toBe(1);
    expect(more.unusedInFlight.get('general')).toBe(0);
    expect(evaluateShortfall([], [group({ inFlight: 3 })]).unusedInFlight.get('general')).toBe(3);
  });

  it('stops at the group room and reports the tasks left over as capped by that group', () => {
    const r = evaluateShortfall(tasks(20), [group({ room: 4 })]);
    expect(r.newHosts.get('general')).toBe(4);
    expect(r.unplaced).toHaveLength(12);
    expect(r.capped.get('general')).toBe(12);
    const none = evaluateShortfall(tasks(3), [group({ room: 0 })]);
    expect(none.newHosts.get('general')).toBe(0);
    expect(none.capped.get('general')).toBe(3);
  });

  it('grows its pool of pseudo hosts until the tasks fit, whatever their summed resources suggest', () => {
    // Summed, 40 half-cpu tasks fill 5 hosts; one per host they need 40.
    const unique = tasks(40, { resources: { cpus: 0.5, mem: 256, disk: 0, ports: 0 }, constraints: [{ type: 'uniqueHost' }] });
    expect(evaluateShortfall(unique, [group()], { fitnessGoodEnough: 1 }).newHosts.get('general')).toBe(40);
    expect(evaluateShortfall(unique, [group({ room: 30 })], { fitnessGoodEnough: 1 }).capped.get('general')).toBe(10);
  });

  it('gives the same count searching every host for the fittest (fitnessGoodEnough 1) on mixed sizes', () => {
    const mixed = [...tasks(6, { resources: { cpus: 0.5, mem: 6000, disk: 0, ports: 0 } }, 'big'), ...tasks(8, { resources: { cpus: 0.5, mem: 1000, disk: 0, ports: 0 } }, 'small')];
    for (const fitnessGoodEnough of [0, 1]) expect(evaluateShortfall(mixed, [group()], { fitnessGoodEnough }).newHosts.get('general')).toBe(6);
  });

  it('accepts tasks whose ids repeat', () => {
    const r = evaluateShortfall([...tasks(2), ...tasks(2)], [group()]);
    expect(r.tasks.get('general')).toBe(4);
  });
});
