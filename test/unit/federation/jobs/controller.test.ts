import { describe, expect, it } from 'vitest';
import { freeAgents, SimFederatedJobs } from '../../../support/federation-jobs-sim.js';

// Federated job controllers of three regions on simulated time (interval 1 s; suspect after 3
// missed intervals, dead after 6; hand-back after 3 alive intervals; warm-up 4 intervals).
// No jobs framework runs: the tests read the instance counts the owner asks of each region's
// child job, and who each region says the owner is.

const JOB = { cpus: 1, mem: 512, command: 'serve' };

async function started(regions = ['a', 'b', 'c'], agents: Record<string, number> = { a: 3, b: 3, c: 3 }): Promise<SimFederatedJobs> {
  const s = new SimFederatedJobs({ regions });
  for (const r of regions) await s.seed(r, freeAgents(r, agents[r] ?? 0));
  await s.rounds(5);
  return s;
}

describe('federated jobs controller (simulated time)', () => {
  it('places each region its count, replicates the definition, and has exactly one owner', async () => {
    const s = await started();
    const job = await s.controller('a').submit({ name: 'web', policy: { counts: { a: 3, b: 2, c: 1 } }, job: JOB });
    expect(job).toMatchObject({ id: 'web', home: 'a', owner: 'a', ownerTerm: 1, role: 'owner' });
    await s.rounds(2);
    expect(await s.childCounts('web')).toEqual({ a: 3, b: 2, c: 1 });
    expect(await s.owners('web')).toEqual({ a: 'a/1', b: 'a/1', c: 'a/1' });
    const child = (await s.child('b', 'web'))!;
    expect(child.spec).toMatchObject({ name: 'fed-web', cpus: 1, mem: 512, labels: { 'stratus.federated-job': 'web', 'stratus.federated-home': 'a' } });
    // A replica answers GET too, and says who decides.
    expect(await s.controller('c').get('web')).toMatchObject({ role: 'replica', owner: 'a', regions: [{ region: 'c', share: 1, target: 1 }, { region: 'a' }, { region: 'b' }] });
  });

  it('spreads by weights and follows a policy change', async () => {
    const s = await started();
    await s.controller('a').submit({ name: 'api', policy: { weights: { a: 1, b: 2 }, total: 7 }, job: JOB });
    await s.rounds(2);
    expect(await s.childCounts('api')).toEqual({ a: 2, b: 5, c: 0 });
    await s.controller('a').update('api', { policy: { counts: { c: 2 } }, job: { mem: 256 } });
    await s.rounds(2);
    expect(await s.childCounts('api')).toEqual({ a: 0, b: 0, c: 2 });
    expect((await s.child('c', 'api'))!.spec.mem).toBe(256);
  });

  it('spills instances a region has no room for over to the peer with the most free capacity', async () => {
    // c has no agents at all; b has more free room than a.
    const s = await started(['a', 'b', 'c'], { a: 1, b: 3, c: 0 });
    await s.controller('a').submit({ name: 'spill', policy: { counts: { a: 1, c: 4 } }, job: { ...JOB, cpus: 2 } });
    await s.rounds(2);
    // a: 1 agent of 4 cores fits 2 (1 own + 1 spilled at most); b: 3 agents fit 6.
    expect(await s.childCounts('spill')).toEqual({ a: 1, b: 4, c: 0 });
    const view = await s.controller('a').get('spill');
    expect(view.regions.find((r) => r.region === 'c')).toMatchObject({ share: 4, target: 0 });
  });

  it('spills over what a region reports it cannot place, although its capacity looked enough', async () => {
    const s = await started();
    await s.controller('a').submit({ name: 'api', policy: { counts: { a: 1, c: 3 } }, job: JOB });
    await s.rounds(2);
    expect(await s.childCounts('api')).toEqual({ a: 1, b: 0, c: 3 });
    // c's framework says two of its three cannot be placed (Fenzo: no room), for a while now.
    const store = s.jobs.get('c')!.store;
    const shortage = { message: 'no host has 1 cpus free', reasons: [{ kind: 'resource' as const, resource: 'cpus' as const, hosts: 3, requested: 1, largestFree: 0 }], shortfall: true, at: s.sim.wall - 10_000 };
    await store.writeInstances('fed-api', [0, 1, 2].map((index) => ({
      doc: { index, state: index === 0 ? ('running' as const) : ('pending' as const), specVersion: 1, launches: 0, failures: 0, updatedAt: s.sim.wall, ...(index > 0 ? { pending: shortage } : {}) },
      expect: 'absent' as const,
    })));
    await s.rounds(2);
    // Held at the one it placed; the two go where there is the most room (b, then a: ties by name).
    expect(await s.childCounts('api')).toEqual({ a: 2, b: 1, c: 1 });
    expect((await s.controller('a').get('api')).regions.find((r) => r.region === 'c')).toMatchObject({ share: 3, target: 1, child: { wanted: 1, running: 1, unplaceable: 0 } });
  });

  it('fails a dead region over, hands it back after it stays alive, and the home does not reclaim ownership', async () => {
    const s = await started();
    await s.controller('a').submit({ name: 'web', policy: { counts: { a: 2, b: 2, c: 2 } }, job: JOB });
    await s.controller('b').submit({ name: 'db', policy: { counts: { a: 1, b: 1, c: 1 } }, job: JOB });
    await s.rounds(2);
    expect(await s.childCounts('web')).toEqual({ a: 2, b: 2, c: 2 });

    // c is cut off: suspect after 3 missed intervals (nothing moves), dead after 6 (its share moves).
    s.cut('c');
    await s.rounds(4);
    expect(await s.childCounts('web')).toEqual({ a: 2, b: 2, c: 2 });
    await s.rounds(3);
    const failed = await s.childCounts('web');
    expect(failed.a! + failed.b!).toBe(6);
    expect((await s.controller('a').get('web')).regions.find((r) => r.region === 'c')).toMatchObject({ displaced: true, target: 0 });

    // Back: no hand-back before 3 intervals alive, then its share returns and the extras go.
    s.restore('c');
    await s.rounds(2);
    expect(await s.childCounts('web')).toEqual(failed);
    await s.rounds(3);
    expect(await s.childCounts('web')).toEqual({ a: 2, b: 2, c: 2 });
    expect(await s.childCounts('db')).toEqual({ a: 1, b: 1, c: 1 });
    expect(await s.owners('web')).toEqual({ a: 'a/1', b: 'a/1', c: 'a/1' });

    // The home a dies: b (next after the home, by name) takes over with a higher term; c follows.
    s.cut('a');
    await s.rounds(8);
    expect(await s.owners('web')).toMatchObject({ b: 'b/2', c: 'b/2' });
    const moved = await s.childCounts('web');
    expect(moved.b! + moved.c!).toBe(6);
    expect(s.controller('b').stats.takeovers).toBe(1);
    expect(s.controller('c').stats.takeovers).toBe(0);

    // a returns: it adopts b's claim and leaves the job to b (no reclaim while b lives).
    s.restore('a');
    await s.rounds(6);
    expect(await s.owners('web')).toEqual({ a: 'b/2', b: 'b/2', c: 'b/2' });
    expect(await s.childCounts('web')).toEqual({ a: 2, b: 2, c: 2 });
    expect(s.controller('a').stats.takeovers).toBe(0);
    await expect(s.controller('a').update('web', { policy: { counts: { a: 1 } } })).rejects.toMatchObject({ code: 'CONFLICT', field: 'id' });

    // Then b dies: the home comes first in the order, so a takes the job back, term 3.
    s.cut('b');
    await s.rounds(8);
    expect(await s.owners('web')).toMatchObject({ a: 'a/3', c: 'a/3' });
  });

  it('an owner cut off from a majority stops deciding; only the successor changes the children', async () => {
    const s = await started();
    await s.controller('c').submit({ name: 'edge', policy: { counts: { a: 1, b: 1, c: 1 } }, job: JOB });
    await s.rounds(2);
    s.cut('c');
    await s.rounds(3);
    const sentBefore = s.controller('c').stats.changesSent;
    await s.rounds(6);
    // c lost its quorum when its peers turned suspect: it sent nothing since, and took nothing over.
    expect(s.controller('c').stats.changesSent).toBe(sentBefore);
    // c is the home and dead: a is first among the others by name.
    expect(await s.owners('edge')).toMatchObject({ a: 'a/2', b: 'a/2', c: 'c/1' });
    s.restore('c');
    await s.rounds(2);
    expect(await s.owners('edge')).toEqual({ a: 'a/2', b: 'a/2', c: 'a/2' });
    expect(s.controller('c').stats.stepDowns).toBe(1);
  });

  it('deletes children everywhere, and a region that was away removes its orphan when it returns', async () => {
    const s = await started();
    await s.controller('a').submit({ name: 'tmp', policy: { counts: { a: 1, b: 1, c: 1 } }, job: JOB });
    await s.rounds(2);
    s.cut('c');
    await s.rounds(7);
    await s.controller('a').remove('tmp');
    await s.rounds(3);
    expect(await s.childCounts('tmp')).toEqual({ a: 0, b: 0, c: 1 });
    expect(await s.owners('tmp')).toEqual({ a: '-', b: '-', c: 'a/1' });
    s.restore('c');
    await s.rounds(8);
    expect(await s.child('c', 'tmp')).toBeUndefined();
    expect(await s.owners('tmp')).toEqual({ a: '-', b: '-', c: '-' });
    expect(s.controller('c').stats.orphansRemoved).toBe(1);
  });
});
