import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatAge, regionRows, regionsCommand } from '../../../../src/cli/commands/regions.js';
import { gossipRoutes } from '../../../../src/federation/gossip/routes.js';
import { silentLogger } from '../../../../src/core/logger.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { startLocalServer } from '../../../../src/master-lambda/local-server.js';
import { SimGossip } from '../../../support/federation-gossip-sim.js';
import { fleet, seedFleet } from '../../../support/federation-fixtures.js';
import { captureStdout } from '../../../support/stdout.js';

describe('stratus regions', () => {
  afterEach(() => vi.restoreAllMocks());

  it('formats ages and rows', () => {
    expect([formatAge(undefined), formatAge(250), formatAge(4_250), formatAge(125_000), formatAge(7_500_000)]).toEqual(['-', '250ms', '4.3s', '2m5s', '2h5m']);
    const rows = regionRows({
      region: 'a',
      peers: [
        { name: 'b', state: 'alive', ageMs: 1200, incarnation: 9, seq: 4, agents: { total: 3, reachable: 2 }, capacity: { free: { cpus: 2500, mem: 4096 }, total: { cpus: 8000, mem: 16384 } }, health: { status: 'degraded' } },
        { name: 'c', state: 'unknown' },
      ],
    });
    expect(rows).toEqual([
      ['b', 'alive', '1.2s', 9, 4, '2/3', '2.5/8', '4/16', 'degraded'],
      ['c', 'unknown', '-', '-', '-', '-', '-', '-', '-'],
    ]);
  });

  it('shows the peers a running master reports', async () => {
    const sim = new SimGossip({ regions: ['a', 'b', 'c'] });
    await seedFleet(sim.region('b').registry, fleet('b', { agents: 4 }));
    await sim.round();
    sim.region('c').connected = false;
    await sim.rounds(4);
    const master = new Master({ log: silentLogger });
    gossipRoutes(master.api, sim.region('a').gossip);
    const server = await startLocalServer(master, { port: 0, host: '127.0.0.1' });
    const out = captureStdout();
    try {
      expect(await regionsCommand.run(['--master', server.url])).toBe(0);
    } finally {
      await server.close();
    }
    const text = out.text();
    expect(text).toMatch(/^region a: 2 peer\(s\)/);
    expect(text).toMatch(/REGION\s+STATE\s+LAST DIGEST/);
    expect(text).toMatch(/\nb\s+alive\s+\S+\s+\d+\s+5\s+4\/4/);
    expect(text).toMatch(/\nc\s+suspect\s+4\.0s\s+\d+\s+1\s/);
  });
});
