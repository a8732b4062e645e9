import { describe, expect, it } from 'vitest';
import { asSoftConstraint, BalancedHostAttrConstraint, cpuBinPacker, isResourceShortfall, scheduleOnce } from '../../../src/fenzo/index.js';
import { countBy, lease, task, zones } from './helpers.js';

// Acceptance from the issue: a 6-instance group over zones a, b and c.

const zone = new BalancedHostAttrConstraint({ attribute: 'zone' });
const instances = (spec: { hard?: boolean }) =>
  [1, 2, 3, 4, 5, 6].map((k) =>
    task(`web-${k}`, { group: 'web', cpus: 1, mem: 1000, ...(spec.hard ? { hard: [zone] } : { soft: [asSoftConstraint(zone)] }) }),
  );

describe('zone spread', () => {
  it('hard balance lands 2/2/2 on three zones with ample room', () => {
    const leases = zones(2, ['a', 'b', 'c']);
    for (const fitnessCalculator of [cpuBinPacker, undefined]) {
      const r = scheduleOnce(instances({ hard: true }), leases, fitnessCalculator ? { fitnessCalculator } : {});
      expect(countBy(r, leases, 'zone')).toEqual({ a: 2, b: 2, c: 2 });
      expect(r.failures).toEqual([]);
    }
  });

  // Zone c's hosts are full: their leases offer too little for an instance.
  const oneZoneFull = [...zones(2, ['a', 'b']), lease('c-host0', { cpus: 0.5, attributes: { zone: 'c' } }), lease('c-host1', { cpus: 0.5, attributes: { zone: 'c' } })];

  it('hard balance keeps balance and names the zone constraint for the tasks it cannot place', () => {
    const r = scheduleOnce(instances({ hard: true }), oneZoneFull, { fitnessCalculator: cpuBinPacker });
    expect(countBy(r, oneZoneFull, 'zone')).toEqual({ a: 1, b: 1 });
    expect(r.failures.map((f) => f.taskId)).toEqual(['web-3', 'web-4', 'web-5', 'web-6']);
    for (const f of r.failures) {
      expect(f.reasons).toEqual([
        { kind: 'resource', resource: 'cpus', hosts: 2, requested: 1000, largestFree: 8000 },
        expect.objectContaining({ kind: 'constraint', constraint: 'BalancedHostAttrConstraint[zone]', hosts: 4 }),
      ]);
      expect(f.message).toContain('BalancedHostAttrConstraint[zone] refused 4 host(s)');
    }
  });

  it('a full zone known only from its running tasks counts as well', () => {
    const leases = zones(2, ['a', 'b']);
    const r = scheduleOnce(instances({ hard: true }), leases, { knownHosts: [{ hostname: 'c-host0', attributes: { zone: 'c' } }] });
    expect(countBy(r, leases, 'zone')).toEqual({ a: 1, b: 1 });
    expect(r.failures).toHaveLength(4);
    // Every host had room: a policy failure, not one more hosts of the same kind would fix.
    expect(r.failures[0]!.reasons).toEqual([expect.objectContaining({ kind: 'constraint', hosts: 4 })]);
    expect(isResourceShortfall(r.failures[0]!)).toBe(false);
  });

  it('soft balance spreads 3/3/0 over the zones that have room', () => {
    const r = scheduleOnce(instances({ hard: false }), oneZoneFull, { fitnessCalculator: cpuBinPacker });
    expect(countBy(r, oneZoneFull, 'zone')).toEqual({ a: 3, b: 3 });
    expect(r.failures).toEqual([]);
  });
});
