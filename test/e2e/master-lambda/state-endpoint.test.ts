import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { Master } from '../../../src/master-lambda/master.js';
import { startLocalServer, type RunningServer } from '../../../src/master-lambda/local-server.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { frameworkInfo, launchCall, StreamingFramework } from '../../support/scheduler-client.js';
import { TestAgent } from '../../support/test-agent.js';
import { waitUntil } from '../../support/wait.js';

// GET /master/state as the dashboard polls it: a strong ETag of the body and 304 while nothing
// changed; each task's status history; DRF shares per framework and per role.

interface Scalars {
  cpus: number;
  mem: number;
}
interface StateJson {
  slaves: { resources: Scalars; reachability: string }[];
  frameworks: { id: string; dominant_share: number; used_resources: Scalars; offered_resources: Scalars; tasks: { id: string; statuses: { state: string; timestamp: number }[] }[] }[];
  roles: { name: string; weight: number; dominant_share: number; weighted_share: number; frameworks: string[] }[];
}

describe('GET /master/state for pollers', () => {
  let master: Master;
  let server: RunningServer;
  let agent: TestAgent;
  let f: StreamingFramework;

  beforeEach(async () => {
    master = new Master({ store: new MemoryItemStore(), log: silentLogger, config: { allocationIntervalMs: 100, pollIntervalMs: 50 } });
    server = await startLocalServer(master, { port: 0 });
    master.start();
    agent = await new TestAgent({ master: server.url, hostname: 'host-a', attributes: { zone: 'a' }, cpus: 4, mem: 4096 }).start();
    f = await new StreamingFramework(server.url).subscribe(frameworkInfo('drf', { roles: ['web'] }));
  });

  afterEach(async () => {
    f.close();
    await agent.stop();
    await master.stop();
    await server.close();
  });

  const get = (headers: Record<string, string> = {}): Promise<Response> => fetch(`${server.url}/master/state`, { headers });

  it('answers 304 with no body while the ETag matches, and 200 with a new ETag after a change', async () => {
    const offer = await f.nextOffer();
    const first = await get();
    const etag = first.headers.get('etag');
    expect(first.status).toBe(200);
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    // The same state: the same tag, and a conditional GET gets no body.
    await waitUntil(async () => (await get()).headers.get('etag') === etag, 10_000, 'a stable state');
    const again = await get({ 'if-none-match': etag! });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe('');
    expect((await get({ 'if-none-match': `"other", ${etag!}` })).status).toBe(304);
    expect((await get({ 'if-none-match': '"stale"' })).status).toBe(200);

    await f.call(launchCall(offer, [{ id: 't1', cpus: 1, mem: 512, command: 'run forever' }]));
    await f.waitForState('t1', 'TASK_RUNNING');
    const changed = await get({ 'if-none-match': etag! });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    const body = (await changed.json()) as StateJson;
    expect(body.frameworks[0]!.tasks[0]!.id).toBe('t1');
  });

  it("keeps each task's status history, oldest first, and shows DRF shares and weights", async () => {
    const offer = await f.nextOffer();
    await f.call(launchCall(offer, [{ id: 't1', cpus: 1, mem: 512, command: 'run forever' }]));
    await f.waitForState('t1', 'TASK_RUNNING');
    const weights = await fetch(`${server.url}/api/v1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'web', weight: 2 }] } }),
    });
    expect(weights.status).toBe(200);
    const s = (await (await get()).json()) as StateJson;
    const fw = s.frameworks[0]!;
    const states = fw.tasks[0]!.statuses.map((x) => x.state);
    expect(states[0]).toBe('TASK_STAGING');
    expect(states[states.length - 1]).toBe('TASK_RUNNING');
    expect(states.length).toBeGreaterThanOrEqual(2);
    const times = fw.tasks[0]!.statuses.map((x) => x.timestamp);
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    // DRF: what the framework holds (used + offered) over the region's total, the larger scalar.
    const total = s.slaves[0]!.resources;
    const held = { cpus: fw.used_resources.cpus + fw.offered_resources.cpus, mem: fw.used_resources.mem + fw.offered_resources.mem };
    const expected = Math.max(held.cpus / total.cpus, held.mem / total.mem);
    expect(fw.used_resources).toMatchObject({ cpus: 1, mem: 512 });
    expect(fw.dominant_share).toBeCloseTo(expected, 9);
    expect(fw.dominant_share).toBeGreaterThanOrEqual(0.25);
    const web = s.roles.find((r) => r.name === 'web')!;
    expect(web).toMatchObject({ weight: 2, frameworks: [fw.id] });
    expect(web.dominant_share).toBeCloseTo(expected, 9);
    expect(web.weighted_share).toBeCloseTo(expected / 2, 9);
  });
});
