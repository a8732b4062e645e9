import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgent, type AgentDaemon } from '../../../src/agent/agent.js';
import type { AgentEvent } from '../../../src/agent/agent-events.js';
import { silentLogger } from '../../../src/core/logger.js';
import { startLocalServer } from '../../../src/master-lambda/local-server.js';
import { Master } from '../../../src/master-lambda/master.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { AGENT_SOCKET_PATH } from '../../../src/wire/agent-socket.js';
import { startSocketRegion } from '../../support/api-gateway/agent-socket-region.js';
import { AgentProcess } from '../../support/agent-cluster.js';
import { contractAuthenticator, FLEET, FRAMEWORK_HEADERS } from '../../contract/master-lambda/agent-socket.contract.js';
import { frameworkInfo, launchCall, StreamingFramework } from '../../support/scheduler-client.js';
import { waitUntil } from '../../support/wait.js';

// A real agent (process containerizer) on the agent socket: it connects, registers, gets a
// launch pushed, and its RUNNING and FINISHED reach the framework; on the cloud path a forced
// close of its connection (API Gateway's 2-hour limit) in the middle of a launch loses no
// update and launches nothing twice.

const CONFIG = { allocationIntervalMs: 100, pollIntervalMs: 50 };
const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'stratus-agent-socket-'));
  dirs.push(d);
  return d;
}

function socketAgent(masterSocket: string, master: string, events: AgentEvent[]): AgentDaemon {
  const agent = createAgent({
    master,
    masterSocket,
    workDir: tmp(),
    hostname: '127.0.0.1',
    zone: 'z1',
    ec2Metadata: false,
    cpus: 2,
    mem: 1024,
    disk: 0,
    port: 0,
    containerizer: 'process',
    log: silentLogger,
    headers: FLEET,
    timing: { statusRetryInitialMs: 200, reconnectMaxMs: 500 },
  });
  agent.subscribe((e) => events.push(e));
  cleanups.push(() => agent.stop({ destroyTasks: true }));
  return agent;
}

async function launchOn(fw: StreamingFramework, agentId: string, taskId: string, command: string): Promise<void> {
  const { event } = await fw.waitFor((e) => e.type === 'OFFERS' && e.offers!.offers.some((o) => o.agent_id.value === agentId), 30_000);
  const offer = event.offers!.offers.find((o) => o.agent_id.value === agentId)!;
  const r = await fw.call(launchCall(offer, [{ id: taskId, cpus: 0.1, mem: 32, command }]));
  expect(r.status).toBe(202);
}

describe('an agent on the agent socket', () => {
  it('`stratus agent --master-socket auto` registers over the socket; a URL that is not ws:// is refused', async () => {
    const master = new Master({ store: new MemoryItemStore(), log: silentLogger, authenticator: contractAuthenticator(), config: CONFIG });
    const server = await startLocalServer(master, { port: 0 });
    master.start();
    cleanups.push(async () => {
      await master.stop();
      await server.close();
    });
    const flags = ['--master', server.url, '--work-dir', tmp(), '--zone', 'z1', '--cpus', '1', '--mem', '256', '--disk', '0', '--containerizer', 'process', '--host', '127.0.0.1', '--port', '0'];
    const env = { STRATUS_AGENT_AUTHORIZATION: FLEET.Authorization };
    const agent = new AgentProcess([...flags, '--master-socket', 'auto'], env);
    cleanups.push(() => agent.stop());
    await agent.registered();
    expect(agent.output.join('')).toContain(`registered with ws://127.0.0.1:${server.port}${AGENT_SOCKET_PATH}`);
    const agents = await master.registry.listAgents();
    expect(agents.map((a) => a.channel)).toEqual(['socket']);
    const bad = new AgentProcess([...flags, '--work-dir', tmp(), '--master-socket', server.url], env);
    cleanups.push(() => bad.stop());
    expect(await bad.exited).not.toBe(0);
    expect(bad.output.join('')).toMatch(/masterSocket: must be a ws:\/\/ or wss:\/\/ URL/);
  });

  it('on the local server: registers over the socket, gets its launch pushed, and the framework sees RUNNING and FINISHED', async () => {
    const master = new Master({ store: new MemoryItemStore(), log: silentLogger, authenticator: contractAuthenticator(), config: CONFIG });
    const server = await startLocalServer(master, { port: 0 });
    master.start();
    cleanups.push(async () => {
      await master.stop();
      await server.close();
    });
    const events: AgentEvent[] = [];
    const agent = socketAgent(`${server.url.replace(/^http/, 'ws')}${AGENT_SOCKET_PATH}`, server.url, events);
    await agent.start();
    expect((await master.registry.getAgent(agent.agentId!))?.channel).toBe('socket');
    const fw = await new StreamingFramework(server.url, FRAMEWORK_HEADERS).subscribe(frameworkInfo('socket-e2e'));
    cleanups.push(async () => fw.close());
    await launchOn(fw, agent.agentId!, 'local-task', 'echo hello');
    await fw.waitForState('local-task', 'TASK_RUNNING');
    await fw.waitForState('local-task', 'TASK_FINISHED');
    expect(events.some((e) => e.type === 'work' && e.launch.some((l) => l.task_id === 'local-task'))).toBe(true);
    await waitUntil(() => agent.pendingUpdates().length === 0, 30_000, 'the acknowledgements to reach the agent');
  });

  it('on the API Gateway path: a forced close during a launch loses no update and launches nothing twice', async () => {
    const region = await startSocketRegion({ store: new MemoryItemStore(), authenticator: contractAuthenticator(), config: CONFIG });
    cleanups.push(() => region.close());
    const events: AgentEvent[] = [];
    const agent = socketAgent(region.api.url, region.scheduler.url, events);
    await agent.start();
    const agentId = agent.agentId!;
    const fw = await new StreamingFramework(region.scheduler.url, FRAMEWORK_HEADERS).subscribe(frameworkInfo('socket-e2e-cloud'));
    cleanups.push(async () => fw.close());

    const runs = join(tmp(), 'runs');
    const firstConnection = (await region.socketMaster.registry.getAgentConnectionId(agentId))!;
    // Close the agent's connection the moment its launch arrives: RUNNING is still to be sent.
    let closed = false;
    agent.subscribe((e) => {
      if (closed || e.type !== 'work' || !e.launch.some((l) => l.task_id === 'cloud-task')) return;
      closed = true;
      region.api.forceClose(firstConnection);
    });
    await launchOn(fw, agentId, 'cloud-task', `echo run >> ${runs}; sleep 1`);
    const running = await fw.waitForState('cloud-task', 'TASK_RUNNING', 30_000);
    const finished = await fw.waitForState('cloud-task', 'TASK_FINISHED', 30_000);
    expect(closed).toBe(true);
    expect(running.agent_id.value).toBe(agentId);
    expect(finished.agent_id.value).toBe(agentId);
    // It reconnected and registered again on the new connection (the same agent id).
    await waitUntil(async () => {
      const c = await region.socketMaster.registry.getAgentConnectionId(agentId);
      return c !== undefined && c !== firstConnection;
    }, 30_000, 'the agent to bind a new connection');
    expect(region.api.stats.connections).toBeGreaterThanOrEqual(2);
    expect(events.filter((e) => e.type === 'registered').length).toBeGreaterThanOrEqual(2);
    // Launched once, and each state reached the framework once.
    expect(readFileSync(runs, 'utf8')).toBe('run\n');
    const updates = fw.events.filter((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === 'cloud-task').map((e) => e.update!.status.state);
    expect(updates.filter((s) => s === 'TASK_RUNNING')).toHaveLength(1);
    expect(updates.filter((s) => s === 'TASK_FINISHED')).toHaveLength(1);
    // The framework's acknowledgements are pushed to the agent too: its journal empties, and
    // the agent confirms them at once (no long-poll to carry the confirmation), so the master stops repeating them.
    await waitUntil(() => agent.pendingUpdates().length === 0, 30_000, 'the acknowledgements to reach the agent');
    const fid = fw.frameworkId;
    await waitUntil(async () => (await region.socketMaster.registry.getTask(fid, 'cloud-task'))?.pendingAcks.length === 0, 30_000, 'the master to see the acknowledgements confirmed');
  });
});
