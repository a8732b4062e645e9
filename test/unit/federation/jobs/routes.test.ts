import { describe, expect, it } from 'vitest';
import { FederatedJobsController } from '../../../../src/federation/jobs/controller.js';
import { registryJobs } from '../../../../src/federation/jobs/local-jobs.js';
import { federatedJobsRoutes } from '../../../../src/federation/jobs/routes.js';
import { RegionGossip } from '../../../../src/federation/gossip/region-gossip.js';
import { InProcessGossipNetwork } from '../../../../src/federation/gossip/in-process-transport.js';
import type { JsonResponse } from '../../../../src/http/types.js';
import { silentLogger } from '../../../../src/core/logger.js';
import { Master } from '../../../../src/master-lambda/master.js';

// POST/GET/PUT/DELETE /api/v1/federation/jobs on a master's API: bad input is a 4xx naming the
// field and changes nothing; changes go to the owner.

function region() {
  const master = new Master({ log: silentLogger });
  const gossip = new RegionGossip({ region: 'eu-west-1', peers: ['us-east-1', 'ap-south-1'], registry: master.registry, transport: new InProcessGossipNetwork().transport('eu-west-1'), log: silentLogger });
  const controller = new FederatedJobsController({ gossip, jobs: registryJobs(master.registry), log: silentLogger });
  federatedJobsRoutes(master.api, controller);
  const call = async (method: string, path: string, body?: unknown): Promise<JsonResponse> =>
    (await master.api.handle({ method, path, query: new URLSearchParams(), headers: { 'content-type': 'application/json' }, body: body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body) })) as JsonResponse;
  return { master, controller, call };
}

const GOOD = { name: 'web', policy: { counts: { 'eu-west-1': 3, 'us-east-1': 2 } }, job: { cpus: 0.5, mem: 128, command: 'serve' } };

describe('federated jobs routes', () => {
  it('refuses bad input with a 400 naming the field, and stores nothing', async () => {
    const { call, controller } = region();
    const cases: [unknown, string][] = [
      [{ ...GOOD, policy: { counts: { 'eu-west-1': 1, 'mars-1': 2 } } }, 'policy.counts.mars-1'],
      [{ ...GOOD, policy: { counts: { 'us-east-1': -2 } } }, 'policy.counts.us-east-1'],
      [{ ...GOOD, policy: { weights: { 'ap-south-1': -1 }, total: 2 } }, 'policy.weights.ap-south-1'],
      [{ ...GOOD, policy: { weights: { 'ap-south-1': 1 } } }, 'policy.total'],
      [{ ...GOOD, policy: undefined }, 'policy'],
      [{ ...GOOD, name: 'Web!' }, 'name'],
      [{ ...GOOD, job: { ...GOOD.job, cpus: -1 } }, 'job.cpus'],
      [{ ...GOOD, job: { ...GOOD.job, instances: 3 } }, 'job.instances'],
      [{ ...GOOD, job: { ...GOOD.job, name: 'x' } }, 'job.name'],
      [{ ...GOOD, job: { cpus: 1, mem: 64 } }, 'job.command'],
      [{ ...GOOD, job: { ...GOOD.job, colour: 'red' } }, 'job.colour'],
      [{ ...GOOD, job: { ...GOOD.job, labels: { 'stratus.federated-job': 'other' } } }, 'job.labels.stratus.federated-job'],
      [{ ...GOOD, job: { ...GOOD.job, command: 'x'.repeat(20_000) } }, 'job'],
      [{ ...GOOD, extra: 1 }, 'extra'],
      ['not json', 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await call('POST', '/api/v1/federation/jobs', body);
      expect({ status: res.status, field: (res.body as { field?: string }).field }, JSON.stringify(body).slice(0, 120)).toEqual({ status: 400, field });
    }
    expect(await controller.list()).toEqual([]);
  });

  it('submits, lists, changes and deletes; changes are refused with a 4xx when invalid', async () => {
    const { call } = region();
    const created = await call('POST', '/api/v1/federation/jobs', GOOD);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ job: { id: 'web', home: 'eu-west-1', owner: 'eu-west-1', ownerTerm: 1, role: 'owner', state: 'active', counts: { wanted: 5 }, job: { name: 'fed-web', cpus: 0.5 } } });
    expect((await call('POST', '/api/v1/federation/jobs', GOOD)).status).toBe(409);

    const scaled = await call('PUT', '/api/v1/federation/jobs/web', { policy: { weights: { 'eu-west-1': 1, 'ap-south-1': 1 }, total: 4 } });
    expect(scaled.status).toBe(200);
    expect(scaled.body).toMatchObject({ job: { counts: { wanted: 4 }, regions: [{ region: 'eu-west-1', share: 2 }, { region: 'ap-south-1', share: 2 }, { region: 'us-east-1', share: 0 }] } });
    const bad = await call('PUT', '/api/v1/federation/jobs/web', { policy: { counts: { 'eu-west-1': -1 } } });
    expect(bad).toMatchObject({ status: 400, body: { field: 'policy.counts.eu-west-1' } });
    expect(await call('PUT', '/api/v1/federation/jobs/web', { job: { mem: 0 } })).toMatchObject({ status: 400, body: { field: 'job.mem' } });
    expect(await call('PUT', '/api/v1/federation/jobs/web', {})).toMatchObject({ status: 400, body: { field: 'body' } });
    expect((await call('PUT', '/api/v1/federation/jobs/web', { job: { mem: 256 } })).body).toMatchObject({ job: { job: { mem: 256 }, generation: 3 } });

    expect(await call('GET', '/api/v1/federation/jobs')).toMatchObject({ status: 200, body: { region: 'eu-west-1', jobs: [{ id: 'web' }] } });
    expect(await call('GET', '/api/v1/federation/jobs/nope')).toMatchObject({ status: 404, body: { field: 'id' } });
    expect(await call('DELETE', '/api/v1/federation/jobs/web')).toMatchObject({ status: 202, body: { job: { state: 'deleting' } } });
    expect(await call('PUT', '/api/v1/federation/jobs/web', { job: { mem: 64 } })).toMatchObject({ status: 409, body: { field: 'id' } });
  });
});
