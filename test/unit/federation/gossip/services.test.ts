import { describe, expect, it } from 'vitest';
import { UnauthenticatedError } from '../../../../src/core/errors.js';
import { gossipRoutes } from '../../../../src/federation/gossip/routes.js';
import type { Authenticator } from '../../../../src/http/auth.js';
import type { HttpRequest, JsonResponse } from '../../../../src/http/types.js';
import { silentLogger } from '../../../../src/core/logger.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { SimGossip } from '../../../support/federation-gossip-sim.js';
import { fakeAgent, fakeTask, seedFleet } from '../../../support/federation-fixtures.js';

const INTERVAL = 1_000;

async function seedService(sim: SimGossip, region: string): Promise<void> {
  const agent = fakeAgent(1, region);
  await seedFleet(sim.region(region).registry, {
    agents: [agent],
    tasks: [fakeTask(agent, `${region}-cass-1`, 'cassandra', 'RUNNING', [9042]), fakeTask(agent, `${region}-cass-2`, 'cassandra', 'STAGING', [9043]), fakeTask(agent, `${region}-web`, 'web')],
  });
}

function get(path: string, headers: Record<string, string> = {}): HttpRequest {
  return { method: 'GET', path, query: new URLSearchParams(), headers, body: '' };
}

describe('cross-region service discovery', () => {
  it('returns endpoints from this region and alive peers only', async () => {
    const sim = new SimGossip({ regions: ['a', 'b', 'c'] });
    for (const r of ['a', 'b', 'c']) await seedService(sim, r);
    await sim.rounds(2);
    const a = sim.region('a').gossip;
    const all = await a.servicesNamed('cassandra');
    expect(all.endpoints.map((e) => `${e.region}:${e.task}:${e.port}`)).toEqual(['a:a-cass-1:9042', 'b:b-cass-1:9042', 'c:c-cass-1:9042']);
    expect(all.endpoints[0]).toEqual({ region: 'a', host: fakeAgent(1, 'a').hostname, port: 9042, task: 'a-cass-1', portName: 'main' });
    expect((await a.servicesNamed('nothing')).endpoints).toEqual([]);

    sim.region('c').connected = false;
    await sim.rounds(3); // c is suspect now: its endpoints are no longer handed out
    expect(await sim.stateOf('a', 'c')).toBe('suspect');
    expect((await a.servicesNamed('cassandra')).endpoints.map((e) => e.region)).toEqual(['a', 'b']);
    await sim.rounds(3);
    expect(await sim.stateOf('a', 'c')).toBe('dead');
    expect((await a.servicesNamed('cassandra')).endpoints.map((e) => e.region)).toEqual(['a', 'b']);

    sim.region('c').connected = true;
    await sim.round();
    sim.advance(INTERVAL);
    expect((await a.servicesNamed('cassandra')).endpoints.map((e) => e.region)).toEqual(['a', 'b', 'c']);
  });

  it('serves GET /api/v1/federation/services/:name and /peers on the master API', async () => {
    const sim = new SimGossip({ regions: ['a', 'b'] });
    await seedService(sim, 'b');
    await sim.round();
    const master = new Master({ log: silentLogger });
    gossipRoutes(master.api, sim.region('a').gossip);

    const services = (await master.api.handle(get('/api/v1/federation/services/cassandra'))) as JsonResponse;
    expect(services.status).toBe(200);
    expect(services.body).toEqual({ name: 'cassandra', endpoints: [{ region: 'b', host: fakeAgent(1, 'b').hostname, port: 9042, task: 'b-cass-1', portName: 'main' }] });

    const peers = (await master.api.handle(get('/api/v1/federation/peers'))) as JsonResponse;
    expect(peers.status).toBe(200);
    expect(peers.body).toMatchObject({ region: 'a', peers: [{ name: 'b', state: 'alive', seq: 1, agents: { total: 1 } }] });

    const bad = (await master.api.handle(get('/api/v1/federation/services/%01x'))) as JsonResponse;
    expect(bad).toMatchObject({ status: 400, body: { field: 'name' } });
  });

  it('asks operators for the peer table and accepts frameworks for service lookups', async () => {
    const sim = new SimGossip({ regions: ['a', 'b'] });
    const frameworksOnly: Authenticator = {
      framework: async () => ({ principal: 'fw' }),
      agent: async () => ({}),
      operator: async () => {
        throw new UnauthenticatedError('operator credentials required');
      },
    };
    const master = new Master({ log: silentLogger, authenticator: frameworksOnly });
    gossipRoutes(master.api, sim.region('a').gossip);
    expect(((await master.api.handle(get('/api/v1/federation/peers'))) as JsonResponse).status).toBe(401);
    expect(((await master.api.handle(get('/api/v1/federation/services/x'))) as JsonResponse).status).toBe(200);
  });
});
