import { describe, expect, it } from 'vitest';
import { freeAgents, SimFederatedJobs } from '../../../support/federation-jobs-sim.js';

// What a region's digest says about federated jobs (the controller's summaries()): every job it
// keeps a definition of, with the definitions of the jobs it owns, taking turns when they do not
// all fit one digest; between rounds it reuses what the latest round read.

const JOB = { cpus: 1, mem: 512, command: 'serve' };

async function submitted(names: readonly string[], jobsConfig = {}): Promise<SimFederatedJobs> {
  const s = new SimFederatedJobs({ regions: ['a', 'b'], jobsConfig });
  for (const r of ['a', 'b']) await s.seed(r, freeAgents(r, 2));
  for (const name of names) await s.controller('a').submit({ name, policy: { counts: { a: 1, b: 1 } }, job: JOB });
  return s;
}

const withDefinition = async (s: SimFederatedJobs, region: string): Promise<string[]> =>
  (await s.controller(region).summaries()).filter((j) => j.definition !== undefined).map((j) => j.jobId);

describe('federated job summaries of a region', () => {
  it('lists every job it owns, with all definitions when they fit', async () => {
    const s = await submitted(['x', 'y', 'z']);
    const summaries = await s.controller('a').summaries();
    expect(summaries.map((j) => [j.jobId, j.owner, j.ownerTerm, j.wanted])).toEqual([['x', 'a', 1, 0], ['y', 'a', 1, 0], ['z', 'a', 1, 0]]);
    expect(summaries[0]!.definition).toMatchObject({ generation: 1, policy: { counts: { a: 1, b: 1 } }, spec: { name: 'fed-x', cpus: 1 }, targets: {}, displaced: [] });
    expect(await withDefinition(s, 'a')).toEqual(['x', 'y', 'z']);
  });

  it('has definitions take turns when they do not fit the budget of one digest', async () => {
    const s = await submitted(['x', 'y', 'z'], { definitionBytesPerDigest: 1 });
    const turns = [];
    for (let i = 0; i < 4; i++) turns.push(await withDefinition(s, 'a'));
    expect(turns).toEqual([['x'], ['y'], ['z'], ['x']]);
    expect((await s.controller('a').summaries()).map((j) => j.jobId)).toEqual(['x', 'y', 'z']);
  });

  it('lists the replicas a peer keeps and the children it runs, without definitions', async () => {
    const s = await submitted([]);
    await s.rounds(5);
    await s.controller('a').submit({ name: 'web', policy: { counts: { a: 1, b: 2 } }, job: JOB });
    await s.rounds(2);
    const [web] = await s.controller('b').summaries();
    expect(web).toMatchObject({ jobId: 'web', home: 'a', owner: 'a', ownerTerm: 1, wanted: 2 });
    expect(web!.definition).toBeUndefined();
    expect(web!.specHash).toBeDefined();
  });

  it('reuses the definitions the latest round read for one interval; an API change has them read afresh', async () => {
    const s = await submitted(['x', 'y']);
    const a = s.controller('a');
    await a.round();
    // Removed behind the controller's back: the summaries still come from the round's reading...
    await a.store.remove('x', (await a.store.get('x'))!.version);
    expect((await a.summaries()).map((j) => j.jobId)).toEqual(['x', 'y']);
    // ...until a change through the API.
    await a.update('y', { job: { mem: 256 } });
    expect((await a.summaries()).map((j) => j.jobId)).toEqual(['y']);

    await a.round();
    await a.store.remove('y', (await a.store.get('y'))!.version);
    expect((await a.summaries()).map((j) => j.jobId)).toEqual(['y']);
    // Or until an interval has passed.
    s.sim.advance(1_000);
    expect(await a.summaries()).toEqual([]);
  });
});
