import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type AgentDaemon } from '../../../src/agent/index.js';
import { silentLogger } from '../../../src/core/logger.js';
import { CredentialAuthenticator, hashSecret, hashToken } from '../../../src/http/credentials.js';
import { startLocalServer, type RunningServer } from '../../../src/master-lambda/local-server.js';
import { Master } from '../../../src/master-lambda/master.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { MESOS_COMPATIBLE_VERSION } from '../../../src/wire/mesos-version.js';
import { frameworkInfo, launchCall, StreamingFramework, type Json } from '../../support/scheduler-client.js';

// The agent's Mesos-shaped endpoints (/state, /state.json, /containers, /flags, /version) and
// its operator API (POST /api/v1), on a real agent (process containerizer) under a master with
// authentication: an operator sees everything, a framework only its own tasks, no credential
// nothing.

const basic = (user: string, secret: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}` });
const TEAM_A = basic('team-a', 'secret-a');
const TEAM_B = basic('team-b', 'secret-b');
const OPERATOR = basic('admin', 'ops');

describe('agent operator endpoints', () => {
  let master: Master;
  let server: RunningServer;
  let agent: AgentDaemon;
  let workDir: string;
  let a: StreamingFramework;
  let b: StreamingFramework;

  const get = async (path: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Json }> => {
    const res = await fetch(`${agent.endpoint}${path}`, { headers });
    return { status: res.status, json: (await res.json()) as Json };
  };
  const call = async (body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Json }> => {
    const res = await fetch(`${agent.endpoint}/api/v1`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Json };
  };

  beforeAll(async () => {
    const auth = new CredentialAuthenticator({
      principals: [
        { name: 'team-a', kind: 'framework', secret_hash: hashSecret('secret-a'), roles: ['a'] },
        { name: 'team-b', kind: 'framework', secret_hash: hashSecret('secret-b'), roles: ['b'] },
        { name: 'admin', kind: 'operator', secret_hash: hashSecret('ops') },
        { name: 'fleet', kind: 'agent', token_hash: hashToken('fleet-token') },
      ],
    });
    master = new Master({ store: new MemoryItemStore(), log: silentLogger, authenticator: auth, config: { allocationIntervalMs: 100, pollIntervalMs: 50 } });
    server = await startLocalServer(master, { port: 0 });
    master.start();
    workDir = mkdtempSync(join(tmpdir(), 'stratus-agent-operator-'));
    agent = createAgent({ master: server.url, workDir, hostname: '127.0.0.1', zone: 'z1', ec2Metadata: false, cpus: 2, mem: 1024, disk: 0, port: 0, containerizer: 'process', log: silentLogger, headers: { Authorization: 'Bearer fleet-token' } });
    await agent.start();
    a = await new StreamingFramework(server.url, TEAM_A).subscribe(frameworkInfo('A', { roles: ['a'] }));
    const offerA = await a.nextOffer();
    b = await new StreamingFramework(server.url, TEAM_B).subscribe(frameworkInfo('B', { roles: ['b'] }));
    await a.call(launchCall(offerA, [{ id: 'a-task', cpus: 0.5, mem: 64, command: 'sleep 600' }], 0));
    await a.waitForState('a-task', 'TASK_RUNNING');
    const offerB = await b.nextOffer();
    await b.call(launchCall(offerB, [{ id: 'b-task', cpus: 0.5, mem: 64, command: 'sleep 600' }]));
    await b.waitForState('b-task', 'TASK_RUNNING');
  }, 60_000);

  afterAll(async () => {
    a?.close();
    b?.close();
    await agent?.stop({ destroyTasks: true });
    await master?.stop();
    await server?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('serves /state and /state.json in the Mesos agent shape, filtered by the caller', async () => {
    for (const path of ['/state', '/state.json']) {
      const st = (await get(path, OPERATOR)).json as { id: string; hostname: string; version: string; resources: Json; attributes: Json; frameworks: { id: string; executors: { id: string; tasks: Json[] }[] }[]; start_time: number; pid: string; flags: Json };
      expect(st).toMatchObject({ id: agent.agentId, hostname: '127.0.0.1', version: MESOS_COMPATIBLE_VERSION, resources: { cpus: 2, mem: 1024 }, attributes: { zone: 'z1' } });
      expect(st.start_time).toBeGreaterThan(1e9);
      expect(st.pid).toBe(`slave(1)@${new URL(agent.endpoint!).host}`);
      expect(st.frameworks.map((f) => f.id).sort()).toEqual([a.frameworkId, b.frameworkId].sort());
      const fa = st.frameworks.find((f) => f.id === a.frameworkId)!;
      expect(fa.executors).toHaveLength(1);
      expect(fa.executors[0]!.id).toBe('a-task'); // the command executor's id is the task's
      expect(fa.executors[0]!.tasks).toEqual([expect.objectContaining({ id: 'a-task', name: 'a-task', framework_id: a.frameworkId, executor_id: '', slave_id: agent.agentId, state: 'TASK_RUNNING', resources: expect.objectContaining({ cpus: 0.5, mem: 64 }) })]);
    }
    const asA = (await get('/state', TEAM_A)).json as { frameworks: { id: string }[]; flags: Json };
    expect(asA.frameworks.map((f) => f.id)).toEqual([a.frameworkId]);
    expect((await get('/state')).status).toBe(401);
    expect((await get('/state', basic('team-a', 'wrong'))).status).toBe(401);
  });

  it('serves /containers, /flags and /version', async () => {
    const all = (await get('/containers', OPERATOR)).json as unknown as { container_id: string; executor_id: string; framework_id: string; status: { container_id: { value: string } } }[];
    expect(all.map((c) => c.executor_id).sort()).toEqual(['a-task', 'b-task']);
    for (const c of all) expect(c.status.container_id.value).toBe(c.container_id);
    const mine = (await get('/containers', TEAM_B)).json as unknown as { framework_id: string }[];
    expect(mine.map((c) => c.framework_id)).toEqual([b.frameworkId]);
    expect((await get('/containers')).status).toBe(401);

    const flags = (await get('/flags', OPERATOR)).json as { flags: Record<string, string> };
    expect(flags.flags).toMatchObject({ master: server.url, work_dir: workDir, hostname: '127.0.0.1', containerizers: 'process', port: String(new URL(agent.endpoint!).port) });
    expect((await get('/flags', TEAM_A)).status).toBe(403);
    expect((await get('/flags')).status).toBe(401);
    expect((await get('/version')).json).toEqual({ version: MESOS_COMPATIBLE_VERSION });
  });

  it('answers the agent operator API calls in Mesos shapes, only with what the caller may see', async () => {
    expect((await call({ type: 'GET_HEALTH' }, OPERATOR)).json).toEqual({ type: 'GET_HEALTH', get_health: { healthy: true } });
    expect((await call({ type: 'GET_VERSION' }, OPERATOR)).json).toEqual({ type: 'GET_VERSION', get_version: { version_info: { version: MESOS_COMPATIBLE_VERSION } } });
    const ag = (await call({ type: 'GET_AGENT' }, OPERATOR)).json as { get_agent: { agent_info: { id: Json; hostname: string; attributes: Json[] } } };
    expect(ag.get_agent.agent_info).toMatchObject({ id: { value: agent.agentId }, hostname: '127.0.0.1' });
    expect(ag.get_agent.agent_info.attributes).toContainEqual(expect.objectContaining({ name: 'zone', text: { value: 'z1' } }));
    const fl = (await call({ type: 'GET_FLAGS' }, OPERATOR)).json as { get_flags: { flags: { name: string; value: string }[] } };
    expect(fl.get_flags.flags).toContainEqual({ name: 'work_dir', value: workDir });
    expect((await call({ type: 'GET_FLAGS' }, TEAM_A)).status).toBe(403);
    // GET_METRICS: the agent's /metrics/snapshot figures, for operators only.
    const mt = (await call({ type: 'GET_METRICS' }, OPERATOR)).json as { get_metrics: { metrics: { name: string; value: number }[] } };
    expect(mt.get_metrics.metrics).toContainEqual({ name: 'slave/tasks_running', value: 2 });
    expect(mt.get_metrics.metrics).toContainEqual({ name: 'slave/registered', value: 1 });
    expect((await call({ type: 'GET_METRICS' }, TEAM_A)).status).toBe(403);

    const tasks = (await call({ type: 'GET_TASKS' }, OPERATOR)).json as { get_tasks: { launched_tasks: { task_id: { value: string }; state: string; agent_id: Json }[]; completed_tasks: Json[] } };
    expect(tasks.get_tasks.launched_tasks.map((t) => t.task_id.value).sort()).toEqual(['a-task', 'b-task']);
    expect(tasks.get_tasks.launched_tasks[0]).toMatchObject({ state: 'TASK_RUNNING', agent_id: { value: agent.agentId } });
    const tasksA = (await call({ type: 'GET_TASKS' }, TEAM_A)).json as typeof tasks;
    expect(tasksA.get_tasks.launched_tasks.map((t) => t.task_id.value)).toEqual(['a-task']);

    const fws = (await call({ type: 'GET_FRAMEWORKS' }, TEAM_B)).json as { get_frameworks: { frameworks: { framework_info: { id: { value: string } } }[] } };
    expect(fws.get_frameworks.frameworks.map((f) => f.framework_info.id.value)).toEqual([b.frameworkId]);
    const ex = (await call({ type: 'GET_EXECUTORS' }, OPERATOR)).json as { get_executors: { executors: { executor_info: { executor_id: { value: string } } }[] } };
    expect(ex.get_executors.executors.map((e) => e.executor_info.executor_id.value).sort()).toEqual(['a-task', 'b-task']);
    const cs = (await call({ type: 'GET_CONTAINERS' }, TEAM_A)).json as { get_containers: { containers: { framework_id: { value: string }; container_id: { value: string } }[] } };
    expect(cs.get_containers.containers.map((c) => c.framework_id.value)).toEqual([a.frameworkId]);
    const state = (await call({ type: 'GET_STATE' }, TEAM_A)).json as { get_state: { get_tasks: { launched_tasks: Json[] }; get_executors: Json; get_frameworks: Json } };
    expect(state.get_state.get_tasks.launched_tasks).toHaveLength(1);

    // The attacker's side: no credential, a wrong one; bad input names the field.
    expect((await call({ type: 'GET_TASKS' })).status).toBe(401);
    expect((await call({ type: 'GET_TASKS' }, basic('team-b', 'nope'))).status).toBe(401);
    const unknown = await call({ type: 'LAUNCH_NESTED_CONTAINER' }, OPERATOR);
    expect(unknown.status).toBe(400);
    expect(unknown.json.field).toBe('type');
    const noType = await call({}, OPERATOR);
    expect(noType.status).toBe(400);
    expect(noType.json.field).toBe('type');
  });
});
