import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWith, DOCKER_SOCKET, TEST_IMAGE } from '../../support/components.js';
import {
  AgentProcess,
  containersOfAgent,
  MasterProxy,
  removeContainersOfAgent,
  startTestMaster,
  TestFramework,
  type TaskDef,
  type TestMaster,
} from '../../support/agent-cluster.js';
import type { Json } from '../../support/scheduler-client.js';
import { waitUntil } from '../../support/wait.js';

// The agent process is SIGKILLed while its tasks run and started again on the same work dir:
// its tasks are still RUNNING, their later updates arrive, updates journaled while the master
// was unreachable survive the crash, and the framework sees every state at least once, in order.
// Then the master restarts on an empty store: the agent registers again under its id and the
// tasks the master no longer knows are killed and removed.

const TERMINAL = ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST'];

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '');
  } catch {
    return false;
  }
}

/** Process ids of the agent's host-process tasks, from the containerizer's checkpoints. */
function taskPids(workDir: string): Map<string, number> {
  const out = new Map<string, number>();
  let names: string[] = [];
  try {
    names = readdirSync(join(workDir, 'containers'));
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      const st = JSON.parse(readFileSync(join(workDir, 'containers', n, 'state.json'), 'utf8')) as { taskId: string; kind: string; engineId?: string };
      if (st.kind === 'process' && st.engineId !== undefined) out.set(st.taskId, Number(st.engineId));
    } catch {
      /* being rewritten */
    }
  }
  return out;
}

function journalRecords(workDir: string): { u?: { task_id: string; state: string; uuid: string } }[] {
  try {
    return readFileSync(join(workDir, 'status-updates.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { u?: { task_id: string; state: string; uuid: string } });
  } catch {
    return [];
  }
}

function restartSuite(kind: 'docker' | 'process'): void {
  describe(`agent process restarts (${kind} containerizer)`, () => {
    const docker = new Docker({ socketPath: DOCKER_SOCKET });
    let tm: TestMaster;
    let proxy: MasterProxy;
    let fw: TestFramework;
    let proc: AgentProcess | undefined;
    let agentId = '';
    const workDir = mkdtempSync(join(tmpdir(), `stratus-agent-restart-${kind}-`));
    const hostname = `restart-${kind}-${process.pid}`;
    const def = (id: string, command: string, graceMs?: number): TaskDef => ({
      id: `${kind}-${id}`,
      command,
      ...(kind === 'docker' && { image: TEST_IMAGE, network: 'NONE' as const }),
      ...(graceMs !== undefined && { graceMs }),
    });
    const long = def('long', 'sleep 600');
    const early = def('early', 'sleep 2; echo early-done');
    const late = def('late', 'sleep 8; echo late-done');
    const victim = def('victim', 'sleep 600', 1_000);
    const forgotten = def('forgotten', 'sleep 600');
    const all = [long, early, late, victim, forgotten];

    const args = (): string[] => [
      '--master', proxy.url, '--zone', 'a', '--group', 'restart', '--work-dir', workDir, '--containerizer', kind,
      '--docker-socket', DOCKER_SOCKET, '--host', '127.0.0.1', '--port', '0', '--hostname', hostname,
      '--cpus', '4', '--mem', '4096', '--disk', '1024', '--ports', '31000-31099',
      '--heartbeat-ms', '300', '--long-poll-seconds', '2', '--status-retry-ms', '300', '--status-retry-max-ms', '2000',
      '--log-level', process.env.STRATUS_TEST_LOG ? 'debug' : 'warn',
    ];

    async function endpoint(): Promise<string> {
      const a = await tm.master.registry.getAgent(agentId);
      return a?.endpoint ?? '';
    }

    async function stateOnAgent(): Promise<Map<string, string>> {
      const res = await fetch(`${await endpoint()}/api/v1/state`);
      const body = (await res.json()) as { tasks: { task_id: string; state: string }[] };
      return new Map(body.tasks.map((t) => [t.task_id, t.state]));
    }

    beforeAll(async () => {
      tm = await startTestMaster();
      proxy = await new MasterProxy(tm.url).start();
      proc = new AgentProcess(args());
      await proc.registered();
      agentId = (await tm.master.registry.listAgents()).find((a) => a.hostname === hostname)?.id ?? '';
      fw = await TestFramework.subscribe(tm, `restart-${kind}`);
      fw.autoAcknowledge();
    });

    afterAll(async () => {
      fw?.close();
      await proc?.stop();
      await proxy?.close();
      await tm?.close();
      if (kind === 'docker') await removeContainersOfAgent(docker, agentId);
      for (const pid of taskPids(workDir).values()) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      rmSync(workDir, { recursive: true, force: true });
    });

    it('survives SIGKILL: tasks stay RUNNING, journaled updates are replayed, later updates arrive, in order', async () => {
      expect(agentId).not.toBe('');
      await fw.launch(agentId, all);
      for (const t of all) await fw.waitState(t.id, 'TASK_RUNNING');

      // The master becomes unreachable; `early` ends meanwhile and its update waits in the journal.
      proxy.cut();
      await waitUntil(() => journalRecords(workDir).some((r) => r.u?.task_id === early.id && r.u.state === 'TASK_FINISHED'), 10_000, "early's FINISHED in the journal");
      const journaled = journalRecords(workDir).find((r) => r.u?.task_id === early.id && r.u.state === 'TASK_FINISHED')!.u!.uuid;
      expect(fw.states(early.id)).not.toContain('TASK_FINISHED');

      expect(await proc!.sigkill()).toBeNull();
      // The master gave up on `forgotten` while the agent was away (as it does with an unreachable agent).
      const t = (await tm.master.registry.getTask(fw.id, forgotten.id))!;
      await tm.master.registry.transaction().putTask({ ...t, state: 'LOST', status: { state: 'LOST', source: 'SOURCE_MASTER', timestamp: Date.now() / 1000 } }, { version: t.version }).commit();
      proxy.restore();

      proc = new AgentProcess(args());
      await proc.registered();
      // Same agent, same id.
      expect((await tm.master.registry.listAgents()).filter((a) => a.hostname === hostname).map((a) => a.id)).toEqual([agentId]);

      // The update journaled before the crash is the one delivered (same uuid): replayed, not regenerated.
      const finished = await fw.waitState(early.id, 'TASK_FINISHED', 15_000);
      expect(finished.uuid).toBe(journaled);

      // `long` and `late` still run, and the agent says so.
      const onAgent = await stateOnAgent();
      expect(onAgent.get(long.id)).toBe('TASK_RUNNING');
      expect((await tm.master.registry.getTask(fw.id, long.id))?.state).toBe('RUNNING');

      // `forgotten` was killed and removed: no orphan.
      if (kind === 'docker') {
        await waitUntil(async () => !(await containersOfAgent(docker, agentId)).some((c) => c.Labels['stratus.task_id'] === forgotten.id), 15_000, 'the forgotten container to go');
      } else {
        const pid = taskPids(workDir).get(forgotten.id);
        await waitUntil(() => pid === undefined || !alive(pid), 15_000, 'the forgotten process to go');
      }

      // Later updates of tasks that kept running arrive.
      expect((await fw.waitTerminal(late.id, 20_000)).state).toBe('TASK_FINISHED');
      const t0 = Date.now();
      await fw.kill(agentId, victim.id);
      expect((await fw.waitTerminal(victim.id, 10_000)).state).toBe('TASK_KILLED');
      expect(Date.now() - t0).toBeLessThan(1_000 + 2_000);

      // Every state at least once, first sightings in order.
      for (const task of [long, early, late, victim]) {
        const firsts = [...new Set(fw.states(task.id))];
        const expected = task === long ? ['TASK_STARTING', 'TASK_RUNNING'] : ['TASK_STARTING', 'TASK_RUNNING', task === victim ? 'TASK_KILLED' : 'TASK_FINISHED'];
        expect(firsts, task.id).toEqual(expected);
      }
      expect(fw.states(long.id).some((s) => TERMINAL.includes(s))).toBe(false);
    });

    it('registers again under its id when the master restarts empty; tasks the master no longer knows are removed', async () => {
      const fresh = await startTestMaster();
      const old = tm;
      proxy.target = fresh.url;
      tm = fresh;
      await old.close();
      // Unknown agent (404) -> register again with the same id and the running tasks -> kill_tasks.
      await waitUntil(async () => (await fresh.master.registry.getAgent(agentId)) !== undefined, 15_000, 'the agent to register with the new master');
      if (kind === 'docker') {
        await waitUntil(async () => (await containersOfAgent(docker, agentId)).length === 0, 15_000, 'every container of the agent to go');
      } else {
        await waitUntil(() => [...taskPids(workDir).values()].every((pid) => !alive(pid)), 15_000, 'every task process to go');
      }
      // The agent still launches.
      fw.close();
      fw = await TestFramework.subscribe(fresh, `restart-${kind}-2`);
      fw.autoAcknowledge();
      const after = def('after-master-restart', 'echo ok');
      await fw.launch(agentId, [after]);
      expect((await fw.waitTerminal(after.id, 15_000)).state).toBe('TASK_FINISHED');
      const health = (await (await fetch(`${(await fresh.master.registry.getAgent(agentId))!.endpoint}/health`)).json()) as Json;
      expect(health).toMatchObject({ healthy: true, registered: true });
    });
  });
}

restartSuite('process');
await describeWith(['docker'], 'agent process restarts on Docker', () => restartSuite('docker'));
