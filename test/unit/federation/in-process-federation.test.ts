import { afterEach, describe, expect, it } from 'vitest';
import { federateInProcess, type InProcessFederation } from '../../../src/federation/in-process-federation.js';
import type { JsonResponse } from '../../../src/http/types.js';
import { silentLogger } from '../../../src/core/logger.js';
import { Master } from '../../../src/master-lambda/master.js';
import { waitUntil } from '../../support/wait.js';

// `stratus dev --regions a,b,c` wiring on real timers: three in-memory masters gossiping
// every 40 ms through the in-process transport.

describe('in-process federation (stratus dev --regions)', () => {
  let fed: InProcessFederation | undefined;
  const masters: Master[] = [];
  afterEach(async () => {
    await fed?.stop();
    await Promise.all(masters.map((m) => m.stop()));
  });

  it('federates masters of one process and serves the federation routes on each', async () => {
    const regions = ['a', 'b', 'c'].map((name) => {
      const master = new Master({ log: silentLogger, config: { leaseDurationMs: 1_000 } }).start();
      masters.push(master);
      return { name, master, api: `http://127.0.0.1/${name}` };
    });
    fed = federateInProcess(regions, { intervalMs: 40, receiveWaitMs: 200 });
    const allAlive = async (): Promise<boolean> => {
      for (const f of fed!.gossip.values()) if ((await f.peers()).some((p) => p.state !== 'alive')) return false;
      return true;
    };
    await waitUntil(allAlive, 5_000, 'every region to see its peers alive', 20);
    const res = (await regions[0]!.master.api.handle({ method: 'GET', path: '/api/v1/federation/peers', query: new URLSearchParams(), headers: {}, body: '' })) as JsonResponse;
    expect(res.body).toMatchObject({ region: 'a', peers: [{ name: 'b', state: 'alive' }, { name: 'c', state: 'alive' }] });
    const digests = await fed.gossip.get('a')!.peerDigests();
    expect(digests.map((d) => d.digest.api)).toEqual(['http://127.0.0.1/b', 'http://127.0.0.1/c']);

    // Stopping one region's gossip: the others suspect it, never before 3 intervals have passed
    // since the last digest it sent (the exact bounds are proven on a fake clock in region-gossip.test.ts).
    let lastSent = 0;
    fed.gossip.get('c')!.subscribe((e) => {
      if (e.type === 'sent') lastSent = Date.now();
    });
    await waitUntil(() => lastSent > 0, 5_000, 'c to send once more', 5);
    await fed.gossip.get('c')!.stop();
    await waitUntil(async () => (await fed!.gossip.get('a')!.peers()).find((p) => p.name === 'c')!.state !== 'alive', 10_000, 'c to become suspect', 10);
    expect(Date.now() - lastSent).toBeGreaterThanOrEqual(3 * 40);
  });
});
