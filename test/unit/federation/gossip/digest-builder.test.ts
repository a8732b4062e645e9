import { describe, expect, it } from 'vitest';
import { resources } from '../../../../src/core/resources.js';
import { DEFAULT_GOSSIP_CONFIG } from '../../../../src/federation/gossip/config.js';
import { buildDigest, NO_ATTRIBUTE, OTHER_BUCKET } from '../../../../src/federation/gossip/digest-builder.js';
import { digestSchema } from '../../../../src/federation/gossip/digest.js';
import { fakeAgent, fakeTask } from '../../../support/federation-fixtures.js';

const limits = DEFAULT_GOSSIP_CONFIG;

describe('buildDigest', () => {
  it('aggregates capacity by zone and group; free counts schedulable agents only', () => {
    const base = fakeAgent(0, 'r');
    const a = { ...base, id: 'a' as typeof base.id, attributes: { zone: 'z1', group: 'g1' }, total: resources({ cpus: 8, mem: 1000 }), allocated: resources({ cpus: 2, mem: 100 }), offered: resources({ cpus: 1 }) };
    const b = { ...a, id: 'b' as typeof base.id, attributes: { zone: 'z1' }, allocated: resources({}), offered: resources({}) };
    const drained = { ...a, id: 'c' as typeof base.id, attributes: { zone: 'z2', group: 'g1' }, drain: { state: 'DRAINING' as const, markGone: false, startedAt: 0 } };
    const lost = { ...a, id: 'd' as typeof base.id, attributes: { zone: 'z2' }, reachability: 'UNREACHABLE' as const };
    const gone = { ...a, id: 'e' as typeof base.id, reachability: 'GONE' as const };
    const d = buildDigest({ region: 'r', incarnation: 7, seq: 3, agents: [a, b, drained, lost, gone], tasks: [] }, limits);

    expect(digestSchema.parse(d)).toEqual(d);
    expect(d.agents).toEqual({ total: 4, reachable: 3, unreachable: 1, schedulable: 2, draining: 1, deactivated: 0 });
    const z1 = d.capacity.byZone.z1!;
    expect(z1).toMatchObject({ agents: 2, reachable: 2, schedulable: 2 });
    expect(z1.total).toEqual({ cpus: 16_000, mem: 2000, disk: 0, network: 0 });
    expect(z1.free).toEqual({ cpus: 5_000 + 8_000, mem: 900 + 1000, disk: 0, network: 0 });
    expect(z1.largestFree).toEqual({ cpus: 8_000, mem: 1000, disk: 0, network: 0 });
    const z2 = d.capacity.byZone.z2!;
    // The draining agent counts in total but offers nothing free; the unreachable one counts in neither.
    expect(z2).toMatchObject({ agents: 2, reachable: 1, schedulable: 0 });
    expect(z2.total.cpus).toBe(8_000);
    expect(z2.free.cpus).toBe(0);
    expect(Object.keys(d.capacity.byGroup).sort()).toEqual([NO_ATTRIBUTE, 'g1']);
    expect(d.capacity.region.free.cpus).toBe(13_000);
    expect(d.health.status).toBe('degraded'); // 1 of 4 unreachable
    expect(d.jobs).toEqual([]);
  });

  it('reports a region without schedulable agents as unhealthy', () => {
    expect(buildDigest({ region: 'r', incarnation: 1, seq: 1, agents: [], tasks: [] }, limits).health.status).toBe('unhealthy');
  });

  it('folds zones past maxBuckets into one bucket, keeping the totals', () => {
    const agents = Array.from({ length: 50 }, (_, i) => ({ ...fakeAgent(i, 'r'), attributes: { zone: `z${i}` } }));
    const d = buildDigest({ region: 'r', incarnation: 1, seq: 1, agents, tasks: [] }, { ...limits, maxBuckets: 8 });
    expect(Object.keys(d.capacity.byZone)).toHaveLength(8);
    const sum = Object.values(d.capacity.byZone).reduce((n, b) => n + b.agents, 0);
    expect(sum).toBe(50);
    expect(d.capacity.byZone[OTHER_BUCKET]!.agents).toBe(43);
  });

  it('lists endpoints of RUNNING tasks with a discovery name on reachable agents', () => {
    const a = fakeAgent(1, 'r');
    const lost = { ...fakeAgent(2, 'r'), reachability: 'UNREACHABLE' as const };
    const tasks = [
      fakeTask(a, 't1', 'cassandra', 'RUNNING', [9042, 7000]),
      fakeTask(a, 't2', 'cassandra', 'STAGING'),
      fakeTask(a, 't3', undefined),
      fakeTask(lost, 't4', 'cassandra'),
      fakeTask(a, 't5', 'web', 'RUNNING', [8080]),
      fakeTask(a, 't6', 'bad/name'),
    ];
    const d = buildDigest({ region: 'r', incarnation: 1, seq: 1, agents: [a, lost], tasks }, limits);
    expect(d.services).toEqual({
      cassandra: [
        { host: a.hostname, port: 7000, task: 't1' },
        { host: a.hostname, port: 9042, task: 't1', portName: 'main' },
      ],
      web: [{ host: a.hostname, port: 8080, task: 't5', portName: 'main' }],
    });
  });
});
