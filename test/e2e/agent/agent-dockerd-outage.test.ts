import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAgent, type AgentDaemon, type AgentEvent, type AgentOptions } from '../../../src/agent/index.js';
import { readTaskLog } from '../../../src/cli/commands/logs.js';
import { describeWith, TEST_IMAGE } from '../../support/components.js';
import { MasterProxy, startTestMaster, TestFramework, testLogger, type TaskDef, type TestMaster } from '../../support/agent-cluster.js';
import { PrivateDockerd } from '../../support/agent-dockerd.js';
import { hostProcessesMatching } from '../../support/processes.js';
import { waitUntil } from '../../support/wait.js';

// The Docker engine stops under a running agent and comes back. The engine is a private
// dockerd (the shared one serves other suites): the agent reports itself unhealthy, survives,
// then recovers: the task that ended meanwhile is reported, the one still running is still
// running, and new tasks launch.

await describeWith(['docker'], 'agent daemon when its Docker engine stops and comes back', () => {
  let dockerd: PrivateDockerd;
  let tm: TestMaster;
  let proxy: MasterProxy;
  let agent: AgentDaemon;
  let fw: TestFramework;
  const events: AgentEvent[] = [];
  const workDir = mkdtempSync(join(tmpdir(), 'stratus-agent-outage-'));
  const def = (id: string, command: string): TaskDef => ({ id, command, image: TEST_IMAGE, network: 'NONE' });

  const options = (): AgentOptions => ({
    master: proxy.url,
    workDir,
    zone: 'a',
    cpus: 2,
    mem: 2048,
    disk: 1024,
    port: 0,
    containerizer: 'docker',
    dockerSocket: dockerd.socket,
    log: testLogger('agent'),
    timing: { heartbeatIntervalMs: 300, longPollSeconds: 2, statusRetryInitialMs: 300, statusRetryMaxMs: 2_000, engineCheckIntervalMs: 300, engineRetryMs: 20_000, recoveryWaitMs: 2_000 },
  });

  beforeAll(async () => {
    dockerd = new PrivateDockerd();
    await dockerd.start();
    await dockerd.loadImage(TEST_IMAGE);
    tm = await startTestMaster();
    proxy = await new MasterProxy(tm.url).start();
    agent = createAgent(options());
    agent.subscribe((e) => events.push(e));
    await agent.start();
    fw = await TestFramework.subscribe(tm, 'outage');
    fw.autoAcknowledge();
  }, 90_000);



  afterAll(async () => {
    fw?.close();
    await agent?.stop({ destroyTasks: true });
    await proxy?.close();
    await tm?.close();
    await dockerd?.destroy();
    rmSync(workDir, { recursive: true, force: true });
  }, 60_000);

  it('reports itself unhealthy while the engine is away, survives, and recovers when it is back', async () => {
    const long = def('outage-long', 'sleep 600');
    const duringMarker = `outage-during-${process.pid}-${Date.now()}`;
    const during = def('outage-during', `echo hi; sleep 3; echo bye # ${duringMarker}`);
    await fw.launch(agent.agentId!, [long, during]);
    for (const t of [long, during]) await fw.waitState(t.id, 'TASK_RUNNING');
    await waitUntil(async () => (await readTaskLog({ taskId: during.id, stream: 'stdout', agent: agent.endpoint!, master: tm.url })).data.toString() === 'hi\n', 5_000, 'the first output');

    await dockerd.stop();
    await waitUntil(() => !agent.health().healthy, 5_000, 'the agent to notice the engine is gone');
    expect(agent.health().message).toContain(dockerd.socket);
    const res = await fetch(`${agent.endpoint}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ healthy: false, registered: true });
    // The master hears it with the heartbeats.
    await waitUntil(() => proxy.heartbeats().some((h) => h.healthy === false && String(h.message).includes(dockerd.socket)), 5_000, 'an unhealthy heartbeat');
    // `during` ends while no engine answers (live-restore keeps its process running, the host
    // sees it go); nothing can be known meanwhile, and nothing is failed for it.
    await waitUntil(() => hostProcessesMatching(duringMarker).length === 0, 15_000, 'the task to end during the outage');
    const beats = proxy.heartbeats().length;
    await waitUntil(() => proxy.heartbeats().length >= beats + 2, 5_000, 'two more heartbeats during the outage');
    expect(fw.states(during.id).filter((s) => s !== 'TASK_STARTING' && s !== 'TASK_RUNNING')).toEqual([]);
    expect(agent.registered).toBe(true);

    await dockerd.start();
    await waitUntil(() => agent.health().healthy, 15_000, 'the agent to be healthy again');
    expect(events.some((e) => e.type === 'health' && !e.health.healthy)).toBe(true);
    // The task that ended during the outage is reported with its exit status, and its output
    // from before the outage is kept (what it wrote while no engine read its pipe, Docker drops).
    const end = await fw.waitTerminal(during.id, 15_000);
    expect(end.state).toBe('TASK_FINISHED');
    expect((await readTaskLog({ taskId: during.id, stream: 'stdout', agent: agent.endpoint!, master: tm.url })).data.toString()).toMatch(/^hi\n/);
    // The one still running is still running, and new tasks launch.
    expect(agent.tasks().find((t) => t.task_id === long.id)?.state).toBe('TASK_RUNNING');
    const fresh = def('outage-after', 'echo back');
    await fw.launch(agent.agentId!, [fresh]);
    expect((await fw.waitTerminal(fresh.id, 15_000)).state).toBe('TASK_FINISHED');
    await fw.kill(agent.agentId!, long.id, 1_000);
    expect((await fw.waitTerminal(long.id, 10_000)).state).toBe('TASK_KILLED');
    await waitUntil(() => proxy.heartbeats().slice(-1)[0]?.healthy === true, 5_000, 'a healthy heartbeat');
  }, 60_000);

  it('starts while the engine is away: registers with what its checkpoints say, and recovers once the engine is back', async () => {
    const survivor = def('outage-survivor', 'sleep 600');
    await fw.launch(agent.agentId!, [survivor]);
    await fw.waitState(survivor.id, 'TASK_RUNNING');
    const id = agent.agentId;
    await agent.stop();
    await dockerd.stop();

    const t0 = Date.now();
    agent = createAgent(options());
    await agent.start();
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(agent.agentId).toBe(id);
    expect(agent.health()).toMatchObject({ healthy: false, registered: true, recovering: ['docker'] });
    // The task was reported from its checkpoint: the master still has it running, not gone,
    // after a few heartbeats of the agent that cannot reach its engine.
    const beats = proxy.heartbeats().length;
    await waitUntil(() => proxy.heartbeats().length >= beats + 3, 10_000, 'three heartbeats of the recovering agent');
    expect((await tm.master.registry.getTask(fw.id, survivor.id))?.state).toBe('RUNNING');

    await dockerd.start();
    await waitUntil(() => agent.health().healthy && agent.health().recovering.length === 0, 30_000, 'recovery once the engine is back');
    expect(agent.tasks().find((t) => t.task_id === survivor.id)?.state).toBe('TASK_RUNNING');
    await fw.kill(agent.agentId!, survivor.id, 1_000);
    expect((await fw.waitTerminal(survivor.id, 10_000)).state).toBe('TASK_KILLED');
  }, 60_000);
});
