import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type AgentDaemon, type AgentEvent, type AgentOptions } from '../../src/agent/index.js';
import { readTaskLog } from '../../src/cli/commands/logs.js';
import { DOCKER_SOCKET, TEST_IMAGE } from './components.js';
import { CLI_MAIN, containersOfAgent, MasterProxy, removeContainersOfAgent, startTestMaster, TestFramework, testLogger, type TaskDef, type TestMaster } from './agent-cluster.js';
import type { Json } from './scheduler-client.js';
import { waitUntil } from './wait.js';

// The agent daemon's lifecycle through a real master and a raw Mesos framework, for one
// containerizer: the Docker suite adds the Docker-only checks (limits, OOM, images).

const run = promisify(execFile);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '');
  } catch {
    return false;
  }
}
const PORTS = { begin: 31000, end: 31099 };
const MiB = 1024 * 1024;

export function agentLifecycleSuite(kind: 'docker' | 'process'): void {
  describe(`agent daemon lifecycle (${kind} containerizer)`, () => {
    const docker = new Docker({ socketPath: DOCKER_SOCKET });
    const image = kind === 'docker' ? TEST_IMAGE : undefined;
    let tm: TestMaster;
    let proxy: MasterProxy;
    let agent: AgentDaemon;
    let fw: TestFramework;
    const events: AgentEvent[] = [];
    const dirs: string[] = [];
    const agents: AgentDaemon[] = [];
    let n = 0;
    const tid = (name: string): string => `${kind}-${name}-${++n}`;
    const task = (name: string, command: string | undefined, more: Partial<TaskDef> = {}): TaskDef => ({
      id: tid(name),
      ...(command !== undefined && { command }),
      ...(image !== undefined && { image, network: 'NONE' as const }),
      ...more,
    });

    async function startAgent(options: Partial<AgentOptions> = {}): Promise<AgentDaemon> {
      const workDir = mkdtempSync(join(tmpdir(), `stratus-agent-${kind}-`));
      dirs.push(workDir);
      const a = createAgent({
        master: proxy.url,
        workDir,
        zone: 'a',
        group: 'lifecycle',
        cpus: 4,
        mem: 4096,
        disk: 1024,
        ports: [PORTS],
        hostname: `agent-${kind}-${agents.length}`,
        port: 0,
        containerizer: kind,
        dockerSocket: DOCKER_SOCKET,
        log: testLogger('agent'),
        timing: { heartbeatIntervalMs: 300, longPollSeconds: 2, statusRetryInitialMs: 300, statusRetryMaxMs: 2_000 },
        ...options,
      });
      agents.push(a);
      await a.start();
      return a;
    }

    beforeAll(async () => {
      tm = await startTestMaster();
      proxy = await new MasterProxy(tm.url).start();
      agent = await startAgent();
      agent.subscribe((e) => events.push(e));
      fw = await TestFramework.subscribe(tm, `lifecycle-${kind}`);
      fw.autoAcknowledge();
    });

    afterAll(async () => {
      fw?.close();
      for (const a of agents) await a.stop({ destroyTasks: true });
      await proxy?.close();
      await tm?.close();
      if (kind === 'docker') for (const a of agents) await removeContainersOfAgent(docker, a.agentId);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it('registers its resources, attributes and endpoint, and serves /health and /api/v1/state', async () => {
      const a = await tm.master.registry.getAgent(agent.agentId!);
      expect(a).toMatchObject({ hostname: `agent-${kind}-0`, endpoint: agent.endpoint, attributes: { zone: 'a', group: 'lifecycle' } });
      expect(a?.total).toMatchObject({ cpus: 4000, mem: 4096, disk: 1024, ports: [PORTS] });
      const health = await fetch(`${agent.endpoint}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ healthy: true, registered: true });
      const state = (await (await fetch(`${agent.endpoint}/api/v1/state`)).json()) as Json;
      expect(state).toMatchObject({ agent_id: agent.agentId, registered: true, containerizers: [kind], attributes: { zone: 'a' } });
      expect((await fetch(`${agent.endpoint}/nope`)).status).toBe(404);
      expect((await fetch(`${agent.endpoint}/api/v1/tasks/f/t/logs?stream=both`)).status).toBe(400);
      expect((await fetch(`${agent.endpoint}/api/v1/tasks/f/unknown/logs`)).status).toBe(404);
    });

    it('runs `echo hi; exit 0` to FINISHED through STARTING and RUNNING; its stdout reads `hi` (endpoint, stratus logs)', async () => {
      const t = task('echo', 'echo hi; echo oops >&2; exit 0');
      await fw.launch(agent.agentId!, [t]);
      const end = await fw.waitTerminal(t.id);
      expect(end.state).toBe('TASK_FINISHED');
      // Resends may repeat a state; the first sightings are in order.
      expect([...new Set(fw.states(t.id))]).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
      const res = await fetch(`${agent.endpoint}/api/v1/tasks/${fw.id}/${t.id}/logs?stream=stdout`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('hi\n');
      expect((await readTaskLog({ taskId: t.id, stream: 'stderr', agent: agent.endpoint!, master: tm.url })).data.toString()).toBe('oops\n');
      expect((await fetch(`${agent.endpoint}/api/v1/tasks/${fw.id}/${t.id}/logs?stream=stdout&tail_bytes=2`)).headers.get('x-stratus-log-total-bytes')).toBe('3');
      if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: build first (npx tsc -p tsconfig.build.json)`);
      // `stratus logs` finds the agent through the master's operator API, or is told where it is.
      expect((await run(process.execPath, [CLI_MAIN, 'logs', t.id, '--master', tm.url])).stdout).toBe('hi\n');
      expect((await run(process.execPath, [CLI_MAIN, 'logs', t.id, '--stderr', '--agent', agent.endpoint!])).stdout).toBe('oops\n');
      expect((await readTaskLog({ taskId: t.id, frameworkId: fw.id, stream: 'stdout', tailBytes: 2, master: tm.url })).data.toString()).toBe('i\n');
      // Every acknowledged update leaves the journal.
      await waitUntil(() => !agent.pendingUpdates().some((u) => u.task_id === t.id), 10_000, 'the journal to drop the acknowledged updates');
    });

    it('reports `exit 3` as FAILED with the exit code in the message', async () => {
      const t = task('exit3', 'exit 3');
      await fw.launch(agent.agentId!, [t]);
      const end = await fw.waitTerminal(t.id);
      expect(end.state).toBe('TASK_FAILED');
      expect(end.message).toContain('status 3');
      expect(end.reason).toBe('REASON_COMMAND_EXECUTOR_FAILED');
    });

    it('kills `sleep 600`: KILLED within the grace period + 2 s', async () => {
      const t = task('sleep', 'sleep 600', { graceMs: 1_000 });
      await fw.launch(agent.agentId!, [t]);
      await fw.waitState(t.id, 'TASK_RUNNING');
      const t0 = Date.now();
      await fw.kill(agent.agentId!, t.id);
      const end = await fw.waitTerminal(t.id, 10_000);
      expect(end.state).toBe('TASK_KILLED');
      expect(Date.now() - t0).toBeLessThan(1_000 + 2_000);
      // A SIGTERM-proof task is SIGKILLed once the grace from the KILL call runs out.
      const stubborn = task('stubborn', 'trap "" TERM; echo trapped; sleep 600');
      await fw.launch(agent.agentId!, [stubborn]);
      await fw.waitState(stubborn.id, 'TASK_RUNNING');
      // SIGTERM is ignored only once the shell has set its trap.
      const trapped = async (): Promise<boolean> => (await readTaskLog({ taskId: stubborn.id, frameworkId: fw.id, stream: 'stdout', agent: agent.endpoint!, master: '' })).data.toString().includes('trapped');
      await waitUntil(trapped, 10_000, 'the stubborn task to set its trap');
      const t1 = Date.now();
      await fw.kill(agent.agentId!, stubborn.id, 1_000);
      expect((await fw.waitTerminal(stubborn.id, 10_000)).state).toBe('TASK_KILLED');
      expect(Date.now() - t1).toBeGreaterThanOrEqual(900);
      expect(Date.now() - t1).toBeLessThan(1_000 + 2_000);
    });

    it('refuses bad input with TASK_ERROR saying why, keeps running, and leaves nothing behind', async () => {
      // The master validates launches, so bad input is slipped into the work answer on its way to the agent.
      const tamper: Record<string, (l: Json) => void> = {};
      const cases: { t: TaskDef; field: string; tamper: (l: Json) => void }[] = [
        { t: task('empty', 'true'), field: 'spec.command', tamper: (l) => ((l.spec as { command: Json }).command.value = '') },
        { t: task('negative', 'true'), field: 'resources', tamper: (l) => ((l.resources as Json).cpus = -100) },
        { t: task('port', 'true'), field: "outside the agent's port range", tamper: (l) => ((l.resources as Json).ports = [{ begin: 40000, end: 40000 }]) },
      ];
      if (kind === 'docker') {
        cases.push({ t: task('image', 'true'), field: 'spec.container.docker.image', tamper: (l) => ((l.spec as { container: { docker: Json } }).container.docker.image = 'Not A Valid/Image!') });
      }
      for (const c of cases) tamper[c.t.id] = c.tamper;
      proxy.rewriteWork = (work) => {
        for (const l of (work.launch as Json[] | undefined) ?? []) tamper[l.task_id as string]?.(l);
        return work;
      };
      try {
        await fw.launch(agent.agentId!, cases.map((c) => c.t));
        for (const c of cases) {
          const end = await fw.waitTerminal(c.t.id);
          expect(end.state, c.t.id).toBe('TASK_ERROR');
          expect(end.reason, c.t.id).toBe('REASON_TASK_INVALID');
          expect(end.message, c.t.id).toContain(c.field);
        }
      } finally {
        proxy.rewriteWork = undefined;
      }
      expect(agent.health().healthy).toBe(true);
      // Nothing was created for them: no container, no sandbox.
      const ids = new Set(cases.map((c) => c.t.id));
      if (kind === 'docker') expect((await containersOfAgent(docker, agent.agentId!)).filter((c) => ids.has(c.Labels['stratus.task_id'] ?? ''))).toEqual([]);
      expect(agent.tasks().filter((x) => ids.has(x.task_id)).map((x) => x.sandbox)).toEqual(cases.map(() => ''));
      // And the agent goes on launching.
      const ok = task('after-bad', 'echo fine');
      await fw.launch(agent.agentId!, [ok]);
      expect((await fw.waitTerminal(ok.id)).state).toBe('TASK_FINISHED');
    });

    it('logs framework messages', async () => {
      const r = await fw.f.call({ type: 'MESSAGE', message: { agent_id: { value: agent.agentId }, executor_id: { value: 'exec-1' }, data: Buffer.from('hello agent').toString('base64') } });
      expect(r.status).toBe(202);
      await waitUntil(() => events.some((e) => e.type === 'message' && e.executorId === 'exec-1' && Buffer.from(e.data, 'base64').toString() === 'hello agent'), 10_000, 'the message');
    });

    it("removes ended tasks' sandboxes once their updates are acknowledged and they are old enough", async () => {
      const gc = await startAgent({ timing: { heartbeatIntervalMs: 300, longPollSeconds: 2, statusRetryInitialMs: 300, completedTaskRetentionMs: 500, gcIntervalMs: 100 } });
      const t = task('gc', 'echo bye');
      await fw.launch(gc.agentId!, [t]);
      expect((await fw.waitTerminal(t.id)).state).toBe('TASK_FINISHED');
      const sandbox = gc.tasks().find((x) => x.task_id === t.id)?.sandbox ?? '';
      expect(existsSync(sandbox)).toBe(true);
      await waitUntil(() => !gc.tasks().some((x) => x.task_id === t.id), 10_000, 'the ended task to be collected');
      expect(existsSync(sandbox)).toBe(false);
      expect(gc.pendingUpdates()).toEqual([]);
      expect((await fetch(`${gc.endpoint}/api/v1/tasks/${fw.id}/${t.id}/logs`)).status).toBe(404);
    });

    it('comes back under a new id after the operator marked it gone; what ran under the old id is killed and removed', async () => {
      const gone = await startAgent();
      const oldId = gone.agentId!;
      const t = task('gone', 'sleep 600');
      await fw.launch(oldId, [t]);
      await fw.waitState(t.id, 'TASK_RUNNING');
      const engineId = gone.tasks().find((x) => x.task_id === t.id)?.engine_id;
      const r = await fetch(`${tm.url}/api/v1`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: oldId } } }) });
      expect(r.status).toBe(200);
      await waitUntil(() => gone.agentId !== oldId && gone.registered, 15_000, 'a new agent id');
      await waitUntil(() => !gone.tasks().some((x) => x.task_id === t.id), 15_000, 'the old task to be removed');
      if (kind === 'docker') expect(await containersOfAgent(docker, oldId)).toEqual([]);
      else await waitUntil(() => !isAlive(Number(engineId)), 5_000, 'the old task process to end');
      expect((await tm.master.registry.getAgent(gone.agentId!))?.reachability).toBe('REACHABLE');
      const next = task('after-gone', 'echo again');
      await fw.launch(gone.agentId!, [next]);
      expect((await fw.waitTerminal(next.id)).state).toBe('TASK_FINISHED');
    });

    if (kind === 'docker') {
      it('ends a task over its memory limit FAILED with an OOM reason', async () => {
        const t = task('oom', "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived", { mem: 16 });
        await fw.launch(agent.agentId!, [t]);
        const end = await fw.waitTerminal(t.id, 30_000);
        expect(end.state).toBe('TASK_FAILED');
        expect(end.reason).toBe('REASON_CONTAINER_LIMITATION_MEMORY');
        expect(end.message).toContain('memory limit of 16 MiB');
      });

      it('ends a task with a missing image FAILED with a clear message', async () => {
        const missing = `stratus/missing-${Date.now()}:latest`;
        const t = task('missing', 'true', { image: missing });
        await fw.launch(agent.agentId!, [t]);
        const end = await fw.waitTerminal(t.id, 30_000);
        expect(end.state).toBe('TASK_FAILED');
        expect(end.reason).toBe('REASON_CONTAINER_LAUNCH_FAILED');
        expect(end.message).toContain(`image '${missing}' could not be pulled`);
      });

      it("gives the container the task's CPU quota and memory limit (docker inspect and the cgroup agree)", async () => {
        const t = task('limits', 'cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/memory/memory.limit_in_bytes; sleep 600', {
          cpus: 0.5,
          mem: 48,
        });
        await fw.launch(agent.agentId!, [t]);
        await fw.waitState(t.id, 'TASK_RUNNING');
        const engineId = agent.tasks().find((x) => x.task_id === t.id)?.engine_id;
        const info = await docker.getContainer(engineId ?? 'none').inspect();
        expect(info.HostConfig.NanoCpus).toBe(0.5 * 1e9);
        expect(info.HostConfig.Memory).toBe(48 * MiB);
        expect(info.HostConfig.MemorySwap).toBe(48 * MiB);
        await waitUntil(async () => (await readTaskLog({ taskId: t.id, stream: 'stdout', agent: agent.endpoint!, master: tm.url })).data.toString().split('\n').length >= 3, 10_000, 'the cgroup limits');
        const out = (await readTaskLog({ taskId: t.id, stream: 'stdout', agent: agent.endpoint!, master: tm.url })).data.toString().trim().split('\n');
        // cgroup v2 "quota period", or v1 quota then limit.
        expect(out[0]!.startsWith('50000')).toBe(true);
        expect(Number(out[1])).toBe(48 * MiB);
        await fw.kill(agent.agentId!, t.id, 0);
        expect((await fw.waitTerminal(t.id)).state).toBe('TASK_KILLED');
      });

      it('under --containerizer auto runs images in Docker and plain commands as host processes', async () => {
        const auto = await startAgent({ containerizer: 'auto' });
        const inDocker = { id: tid('auto-image'), command: 'echo in-docker', image: TEST_IMAGE, network: 'NONE' as const };
        const onHost = { id: tid('auto-host'), command: 'echo on-host' };
        await fw.launch(auto.agentId!, [inDocker, onHost]);
        expect((await fw.waitTerminal(inDocker.id)).state).toBe('TASK_FINISHED');
        expect((await fw.waitTerminal(onHost.id)).state).toBe('TASK_FINISHED');
        const byTask = new Map(auto.tasks().map((x) => [x.task_id, x.containerizer]));
        expect(byTask.get(inDocker.id)).toBe('docker');
        expect(byTask.get(onHost.id)).toBe('process');
        expect(auto.health().healthy).toBe(true);
      });
    } else {
      it('refuses a task with a container image, as it has no Docker engine', async () => {
        const t = { id: tid('image-on-process'), command: 'true', image: TEST_IMAGE };
        await fw.launch(agent.agentId!, [t]);
        const end = await fw.waitTerminal(t.id);
        expect(end.state).toBe('TASK_ERROR');
        expect(end.message).toContain('cannot run container images');
        expect(agent.tasks().find((x) => x.task_id === t.id)?.sandbox).toBe('');
      });
    }
  });
}
