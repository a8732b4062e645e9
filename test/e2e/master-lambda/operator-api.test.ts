import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { Master } from '../../../src/master-lambda/master.js';
import { startLocalServer, type RunningServer } from '../../../src/master-lambda/local-server.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { frameworkInfo, launchCall, StreamingFramework, type Json } from '../../support/scheduler-client.js';
import { TestAgent } from '../../support/test-agent.js';
import { expectConsistentAccounting } from '../../support/accounting.js';
import { waitUntil } from '../../support/wait.js';

// The Mesos v1 operator API (POST /api/v1) and GET /master/state.

async function op(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Json | undefined }> {
  const res = await fetch(`${url}/api/v1`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Json) : undefined };
}

describe('operator API', () => {
  let master: Master;
  let server: RunningServer;
  let agents: TestAgent[];
  let f: StreamingFramework;

  beforeEach(async () => {
    master = new Master({ store: new MemoryItemStore(), log: silentLogger, config: { allocationIntervalMs: 100, pollIntervalMs: 50 } });
    server = await startLocalServer(master, { port: 0 });
    master.start();
    agents = [];
    for (const z of ['a', 'b']) agents.push(await new TestAgent({ master: server.url, hostname: `host-${z}`, attributes: { zone: z } }).start());
    f = await new StreamingFramework(server.url).subscribe(frameworkInfo('ops', { roles: ['web'] }));
  });

  afterEach(async () => {
    f.close();
    for (const a of agents) await a.stop();
    await master.stop();
    await server.close();
    await expectConsistentAccounting(master.registry);
  });

  async function snapshotState(): Promise<string> {
    const r = master.registry;
    const [a, fw, t, o, roles] = await Promise.all([r.listAgents(), r.listFrameworks(), r.listTasks(), r.listOffers(), r.listRoles()]);
    // Offers and their agents' `offered` move with allocation rounds; compare what calls could change.
    return JSON.stringify({ a: a.map((x) => [x.id, x.deactivated, x.drain, x.reachability]), fw: fw.map((x) => [x.id, x.removedAt]), t: t.map((x) => [x.taskId, x.state, x.killRequestedAt]), roles, offers: o.length >= 0 });
  }

  it('answers the GET calls in Mesos shapes', async () => {
    const offer = await f.nextOffer();
    await f.call(launchCall(offer, [{ id: 'w1', cpus: 1, mem: 64, command: 'run forever' }]));
    await f.waitForState('w1', 'TASK_RUNNING');
    expect((await op(server.url, { type: 'GET_HEALTH' })).json).toEqual({ type: 'GET_HEALTH', get_health: { healthy: true } });
    const agentsRes = (await op(server.url, { type: 'GET_AGENTS' })).json as { get_agents: { agents: Json[] } };
    expect(agentsRes.get_agents.agents).toHaveLength(2);
    expect(agentsRes.get_agents.agents[0]).toMatchObject({ active: true, agent_info: { hostname: expect.stringMatching(/^host-/) } });
    const tasks = (await op(server.url, { type: 'GET_TASKS' })).json as { get_tasks: { tasks: Json[] } };
    expect(tasks.get_tasks.tasks).toEqual([expect.objectContaining({ task_id: { value: 'w1' }, state: 'TASK_RUNNING', framework_id: { value: f.frameworkId } })]);
    const fws = (await op(server.url, { type: 'GET_FRAMEWORKS' })).json as { get_frameworks: { frameworks: Json[] } };
    expect(fws.get_frameworks.frameworks[0]).toMatchObject({ framework_info: { name: 'ops', roles: ['web'] }, active: true, connected: true });
    const roles = (await op(server.url, { type: 'GET_ROLES' })).json as { get_roles: { roles: { name: string }[] } };
    expect(roles.get_roles.roles.map((r) => r.name)).toEqual(['*', 'web']);
    const state = (await op(server.url, { type: 'GET_STATE' })).json as { get_state: Json };
    expect(Object.keys(state.get_state).sort()).toEqual(['get_agents', 'get_executors', 'get_frameworks', 'get_tasks']);
    const ms = (await (await fetch(`${server.url}/master/state`)).json()) as { slaves: Json[]; frameworks: { tasks: Json[]; used_resources: { cpus: number } }[]; activated_slaves: number };
    expect(ms.activated_slaves).toBe(2);
    expect(ms.slaves[0]).toMatchObject({ resources: { cpus: 4, mem: 4096, ports: '[31000-31099]' } });
    expect(ms.frameworks[0]!.tasks).toHaveLength(1);
    expect(ms.frameworks[0]!.used_resources.cpus).toBe(1);
  });

  it('updates weights and quota limits, and reads them back', async () => {
    expect((await op(server.url, { type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'web', weight: 3 }] } })).status).toBe(200);
    expect((await op(server.url, { type: 'GET_WEIGHTS' })).json).toEqual({ type: 'GET_WEIGHTS', get_weights: { weight_infos: [{ role: 'web', weight: 3 }] } });
    expect((await op(server.url, { type: 'UPDATE_QUOTA', update_quota: { quota_configs: [{ role: 'web', limits: { cpus: { value: 1.5 } } }] } })).status).toBe(200);
    const q = (await op(server.url, { type: 'GET_QUOTA' })).json as { get_quota: { status: { configs: Json[] } } };
    expect(q.get_quota.status.configs).toEqual([{ role: 'web', guarantees: {}, limits: { cpus: { value: 1.5 } } }]);
    // The weight survived the quota update.
    expect((await master.registry.getRole('web'))?.weight).toBe(3);
    // The limit holds: a framework of a role limited before it subscribes is never offered more than
    // 1.5 CPUs in all, over several rounds. ('web' may have had offers before its limit was set.)
    expect((await op(server.url, { type: 'UPDATE_QUOTA', update_quota: { quota_configs: [{ role: 'batch', limits: { cpus: { value: 1.5 } } }] } })).status).toBe(200);
    // 'ops' steps aside: no more offers, and those it holds go back to the pool.
    await f.call({ type: 'SUPPRESS', suppress: { roles: ['web'] } } as Json);
    const held = f.events.filter((e) => e.type === 'OFFERS').flatMap((e) => e.offers!.offers.map((o) => o.id));
    if (held.length) await f.call({ type: 'DECLINE', decline: { offer_ids: held, filters: { refuse_seconds: 60 } } } as Json);
    const g = await new StreamingFramework(server.url).subscribe(frameworkInfo('limited', { roles: ['batch'] }));
    try {
      await waitUntil(() => g.events.some((e) => e.type === 'OFFERS'), 5_000);
      const rounds = master.leader.stats.rounds;
      await waitUntil(() => master.leader.stats.rounds >= rounds + 5, 10_000, 'five more allocation rounds');
      const offered = g.events.filter((e) => e.type === 'OFFERS').flatMap((e) => e.offers!.offers);
      const cpus = offered.reduce((s, o) => s + o.resources.filter((r) => r.name === 'cpus').reduce((x, r) => x + (r.scalar?.value ?? 0), 0), 0);
      expect(cpus).toBeGreaterThan(0);
      expect(cpus).toBeLessThanOrEqual(1.5);
    } finally {
      g.close();
    }
  });

  it('refuses bad operator input with a 4xx naming the field, and changes nothing', async () => {
    const before = await snapshotState();
    const cases: [unknown, number, string][] = [
      ['{not json', 400, 'body'],
      [{ type: 'NOPE' }, 400, 'type'],
      [{ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'web', weight: -1 }] } }, 400, 'update_weights.weight_infos[0].weight'],
      [{ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: '../x', weight: 1 }] } }, 400, 'update_weights.weight_infos[0].role'],
      [{ type: 'UPDATE_QUOTA', update_quota: { quota_configs: [{ role: 'web', limits: { cpus: { value: 1000 } } }] } }, 400, 'update_quota.quota_configs[0].limits.cpus.value'],
      [{ type: 'UPDATE_QUOTA', update_quota: { quota_configs: [{ role: 'web', limits: { gpus: { value: 1 } } }] } }, 400, 'update_quota.quota_configs[0].limits.gpus'],
      [{ type: 'UPDATE_QUOTA', update_quota: { quota_configs: [{ role: 'web', limits: { constructor: { value: 1 } } }] } }, 400, 'update_quota.quota_configs[0].limits.constructor'],
      ['{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"web","limits":{"__proto__":{"value":1}}}]}}', 400, 'update_quota.quota_configs[0].limits.__proto__'],
      [{ type: 'constructor' }, 400, 'type'],
      [{ type: 'UPDATE_QUOTA', update_quota: { quota_configs: [{ role: 'web', limits: { mem: { value: -5 } } }] } }, 400, 'update_quota.quota_configs[0].limits.mem.value'],
      [{ type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: 'no-such-agent' } } }, 404, 'drain_agent.agent_id'],
      [{ type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: agents[0]!.agentId }, max_grace_period: { seconds: -3 } } }, 400, 'drain_agent.max_grace_period.seconds'],
      [{ type: 'DEACTIVATE_AGENT', deactivate_agent: { agent_id: { value: 'ghost' } } }, 404, 'deactivate_agent.agent_id'],
      [{ type: 'MARK_AGENT_GONE', mark_agent_gone: {} }, 400, 'mark_agent_gone.agent_id'],
      [{ type: 'TEARDOWN', teardown: { framework_id: { value: 'nobody' } } }, 404, 'teardown.framework_id'],
      [{ type: 'DRAIN_AGENT' }, 400, 'drain_agent'],
    ];
    for (const [body, status, field] of cases) {
      const r = await op(server.url, body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.json, JSON.stringify(body)).toMatchObject({ field, error: expect.any(String) });
    }
    expect(await snapshotState()).toBe(before);
  });

  it('drains an agent: no offers, tasks killed within the grace, DRAINING → DRAINED; a repeated drain is idempotent', async () => {
    const offer = await f.nextOffer();
    const agentId = offer.agent_id.value;
    await f.call(launchCall(offer, [{ id: 'd1', cpus: 1, mem: 64, command: 'run forever' }]));
    await f.waitForState('d1', 'TASK_RUNNING');
    const drain = { type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: agentId }, max_grace_period: { seconds: 1 } } };
    expect((await op(server.url, drain)).status).toBe(200);
    await f.waitForState('d1', 'TASK_KILLED');
    expect((await op(server.url, drain)).status).toBe(200);
    await waitUntil(async () => (await master.registry.getAgent(agentId))?.drain?.state === 'DRAINED', 5_000);
    const mark = f.events.length;
    const rounds = master.leader.stats.rounds;
    await waitUntil(() => master.leader.stats.rounds >= rounds + 5, 10_000, 'five more allocation rounds');
    const fromDrained = f.events.slice(mark).filter((e) => e.type === 'OFFERS').flatMap((e) => e.offers!.offers).filter((o) => o.agent_id.value === agentId);
    expect(fromDrained).toEqual([]);
    expect((await op(server.url, { type: 'REACTIVATE_AGENT', reactivate_agent: { agent_id: { value: agentId } } })).status).toBe(200);
    await f.waitFor((e) => e.type === 'OFFERS' && e.offers!.offers.some((o) => o.agent_id.value === agentId), 5_000, mark);
  });

  it('deactivates an agent (its offers rescinded, tasks untouched) and marks an agent gone', async () => {
    const offer = await f.nextOffer();
    const agentId = offer.agent_id.value;
    await f.call(launchCall(offer, [{ id: 'g1', cpus: 1, mem: 64, command: 'run forever' }]));
    await f.waitForState('g1', 'TASK_RUNNING');
    expect((await op(server.url, { type: 'DEACTIVATE_AGENT', deactivate_agent: { agent_id: { value: agentId } } })).status).toBe(200);
    expect((await master.registry.listOffersByAgent(agentId))).toEqual([]);
    expect((await master.registry.getTask(f.frameworkId, 'g1'))?.state).toBe('RUNNING');
    expect((await op(server.url, { type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: agentId } } })).status).toBe(200);
    await f.waitFor((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === 'g1' && e.update!.status.state === 'TASK_GONE_BY_OPERATOR');
    const agentsRes = (await op(server.url, { type: 'GET_AGENTS' })).json as { get_agents: { agents: Json[] } };
    expect(agentsRes.get_agents.agents).toHaveLength(1);
  });

  it('tears a framework down for the operator', async () => {
    expect((await op(server.url, { type: 'TEARDOWN', teardown: { framework_id: { value: f.frameworkId } } })).status).toBe(200);
    expect((await master.registry.getFramework(f.frameworkId))?.removedAt).toBeDefined();
    await f.waitFor((e) => e.type === 'ERROR');
  });
});
