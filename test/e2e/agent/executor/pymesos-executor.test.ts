import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type AgentDaemon, type AgentOptions } from '../../../../src/agent/index.js';
import { ROOT, startTestMaster, TestFramework, testLogger, type TestMaster } from '../../../support/agent-cluster.js';
import { isCI } from '../../../support/components.js';
import type { Json, SchedulerEventJson } from '../../../support/scheduler-client.js';
import { waitUntil } from '../../../support/wait.js';

// A custom executor written on pymesos's MesosExecutorDriver (test/compat/pymesos/executor.py,
// the library unchanged) launched through TaskInfo.executor by a raw Mesos framework, on a real
// master and a real agent (process containerizer): updates, messages both ways, two tasks on
// one executor, the executor's resources counted once and returned, an executor exit ending its
// task, an agent restart the executor survives, and callers that are not the executor refused.

const VENV = process.env.STRATUS_CLIENTS_VENV ?? join(ROOT, '.venv-clients');
const PYTHON = join(VENV, 'bin/python');
const EXECUTOR = join(ROOT, 'test/compat/pymesos/executor.py');
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

const havePython = existsSync(PYTHON);
if (!havePython && isCI) {
  describe('custom executors under pymesos', () => {
    it('needs the Python clients venv', () => {
      throw new Error(`python clients (pymesos) missing at ${VENV}: run .ci/python-clients.sh or set STRATUS_CLIENTS_VENV`);
    });
  });
} else if (!havePython) {
  describe.skip(`custom executors under pymesos (python clients missing at ${VENV}: run .ci/python-clients.sh)`, () => {
    it('skipped', () => undefined);
  });
} else {
  describe('custom executors under pymesos', () => {
    let tm: TestMaster;
    let agent: AgentDaemon;
    let fw: TestFramework;
    const dirs: string[] = [];
    const agents: AgentDaemon[] = [];
    let workDir = '';

    function agentOptions(port: number): AgentOptions {
      return {
        master: tm.url,
        workDir,
        cpus: 4,
        mem: 4096,
        hostname: 'executor-agent',
        port,
        containerizer: 'process',
        log: testLogger('agent'),
        timing: { heartbeatIntervalMs: 300, longPollSeconds: 2, statusRetryInitialMs: 300, statusRetryMaxMs: 2_000 },
        executorTiming: { shutdownGraceMs: 2_000 },
      };
    }

    async function startAgent(port: number): Promise<AgentDaemon> {
      const a = createAgent(agentOptions(port));
      agents.push(a);
      await a.start();
      return a;
    }

    beforeAll(async () => {
      tm = await startTestMaster();
      workDir = mkdtempSync(join(tmpdir(), 'stratus-executor-'));
      dirs.push(workDir);
      agent = await startAgent(0);
      fw = await TestFramework.subscribe(tm, 'pymesos-executor');
      fw.autoAcknowledge();
    });

    afterAll(async () => {
      fw?.close();
      for (const a of agents) await a.stop({ destroyTasks: true });
      await tm?.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    const executorInfo = (id: string, extra: Json = {}): Json => ({
      type: 'CUSTOM',
      executor_id: { value: id },
      name: `test executor ${id}`,
      command: { shell: false, value: PYTHON, arguments: [PYTHON, EXECUTOR] },
      resources: [
        { name: 'cpus', type: 'SCALAR', scalar: { value: 0.25 } },
        { name: 'mem', type: 'SCALAR', scalar: { value: 64 } },
      ],
      // Protobuf JSON's "unset", as some clients write it.
      labels: null,
      ...extra,
    });

    const taskOn = (executor: Json, id: string, mode: 'finish' | 'wait'): Json => ({
      name: id,
      task_id: { value: id },
      agent_id: { value: agent.agentId },
      resources: [
        { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } },
        { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
      ],
      executor,
      data: b64(mode),
    });

    async function launch(tasks: Json[]): Promise<void> {
      const offers = await fw.offers(agent.agentId!, { cpus: 1.5, mem: 200 });
      const r = await fw.f.call({ type: 'ACCEPT', accept: { offer_ids: offers.map((o) => o.id), operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }], filters: { refuse_seconds: 0 } } });
      expect(r.status, JSON.stringify(r.json)).toBe(202);
    }

    const messages = (): { executor: string; agent: string; text: string }[] =>
      fw.f.events
        .filter((e) => e.type === 'MESSAGE')
        .map((e) => (e as SchedulerEventJson & { message: { executor_id: { value: string }; agent_id: { value: string }; data: string } }).message)
        .map((m) => ({ executor: m.executor_id.value, agent: m.agent_id.value, text: unb64(m.data) }));

    async function frameworkMessage(executorId: string, text: string): Promise<void> {
      const r = await fw.f.call({ type: 'MESSAGE', message: { agent_id: { value: agent.agentId }, executor_id: { value: executorId }, data: b64(text) } });
      expect(r.status).toBe(202);
    }

    const agentItem = async () => (await tm.master.registry.getAgent(agent.agentId!))!;

    function executorLog(executorId: string, stream: 'stdout' | 'stderr'): string {
      const t = agent.tasks().find((x) => x.executor_id === executorId);
      if (t === undefined) return '';
      try {
        return readFileSync(join(t.sandbox, stream), 'utf8');
      } catch {
        return '';
      }
    }

    it('runs two tasks on one executor: RUNNING, messages both ways, FINISHED; the executor is counted once and returned', async () => {
      const info = executorInfo('exec-a');
      await launch([taskOn(info, 'a-1', 'wait'), taskOn(info, 'a-2', 'finish')]);
      await fw.waitState('a-1', 'TASK_RUNNING', 30_000);
      await fw.waitState('a-2', 'TASK_RUNNING');
      await fw.waitState('a-2', 'TASK_FINISHED');
      const running = fw.updates('a-1').find((s) => s.state === 'TASK_RUNNING') as unknown as Json;
      expect(running.source).toBe('SOURCE_EXECUTOR');
      await waitUntil(() => messages().filter((m) => m.text.startsWith('hello:')).length === 2, 10_000, 'hello messages');
      expect(messages()).toEqual(expect.arrayContaining([{ executor: 'exec-a', agent: agent.agentId, text: 'hello:a-1' }, { executor: 'exec-a', agent: agent.agentId, text: 'hello:a-2' }]));

      // One executor for both tasks: its 0.25 cpus / 64 MiB once, beside each task's 0.5 / 32.
      const a = await agentItem();
      expect(a.executors?.[`${fw.id}/exec-a`]).toMatchObject({ tasks: ['a-1'], resources: { cpus: 250, mem: 64 } });
      expect(a.allocated).toMatchObject({ cpus: 750, mem: 96 });
      expect(agent.tasks().filter((t) => t.executor_id === 'exec-a').map((t) => t.task_id).sort()).toEqual(['a-1', 'a-2']);

      await frameworkMessage('exec-a', 'finish:a-1');
      await waitUntil(() => messages().some((m) => m.text === 'echo:finish:a-1'), 10_000, 'the echo of the framework message');
      await fw.waitState('a-1', 'TASK_FINISHED');
      // The last task ended: the executor is shut down and its resources return with it.
      await waitUntil(async () => {
        const x = await agentItem();
        return x.allocated.cpus === 0 && x.allocated.mem === 0 && x.executors?.[`${fw.id}/exec-a`] === undefined;
      }, 10_000, 'the executor resources back');
      await waitUntil(() => executorLog('exec-a', 'stdout').includes('shutdown'), 10_000, 'SHUTDOWN reaching the executor');
      const out = executorLog('exec-a', 'stdout');
      expect(out).toMatch(/registered exec-a on /);
      expect(out).not.toContain('EXECUTOR-ERROR');
      expect(executorLog('exec-a', 'stderr')).not.toContain('Traceback');
    });

    it('an executor that exits ends its task TASK_FAILED with REASON_EXECUTOR_TERMINATED', async () => {
      await launch([taskOn(executorInfo('exec-b'), 'b-1', 'wait')]);
      await fw.waitState('b-1', 'TASK_RUNNING', 30_000);
      await frameworkMessage('exec-b', 'exit');
      const end = (await fw.waitTerminal('b-1')) as unknown as Json;
      expect(end).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_EXECUTOR_TERMINATED', source: 'SOURCE_AGENT' });
      await waitUntil(async () => (await agentItem()).allocated.cpus === 0, 10_000, 'resources back after the exit');
    });

    it('refuses a second ExecutorInfo under a running executor id (TASK_ERROR), and callers that are not the executor', async () => {
      await launch([taskOn(executorInfo('exec-c'), 'c-1', 'wait')]);
      await fw.waitState('c-1', 'TASK_RUNNING', 30_000);
      await launch([taskOn(executorInfo('exec-c', { name: 'another' }), 'c-2', 'finish')]);
      const err = (await fw.waitTerminal('c-2')) as unknown as Json;
      expect(err).toMatchObject({ state: 'TASK_ERROR', reason: 'REASON_TASK_INVALID' });
      expect(String(err.message)).toMatch(/different ExecutorInfo/);

      // The attacker: this test process, on the same host, knowing the ids.
      const url = `${agent.endpoint}/api/v1/executor`;
      const post = (body: Json, headers: Record<string, string> = {}) =>
        fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
      const ids = { framework_id: { value: fw.id }, executor_id: { value: 'exec-c' } };
      const uuid = Buffer.alloc(16, 7).toString('base64');
      const forged = { ...ids, type: 'UPDATE', update: { status: { task_id: { value: 'c-1' }, state: 'TASK_FINISHED', uuid } } };
      const noCredential = await post(forged);
      expect(noCredential.status).toBe(401);
      expect(((await noCredential.json()) as Json).field).toBe('Authorization');
      expect((await post(forged, { Authorization: 'Bearer not-the-token' })).status).toBe(401);
      expect((await post(forged, { 'Mesos-Stream-Id': 'guessed' })).status).toBe(401);
      expect((await post({ ...ids, type: 'SUBSCRIBE', subscribe: {} })).status).toBe(401);

      // Even with exec-c's own token (read from the agent's checkpoint, mode 0600): not another executor's task, nor another executor.
      const checkpoint = JSON.parse(readFileSync(join(workDir, 'executors/executors.json'), 'utf8')) as { runs: { executorId: string; token: string }[] };
      const token = checkpoint.runs.find((r) => r.executorId === 'exec-c')!.token;
      await launch([taskOn(executorInfo('exec-d'), 'd-1', 'wait')]);
      await fw.waitState('d-1', 'TASK_RUNNING', 30_000);
      const other = await post({ ...forged, update: { status: { task_id: { value: 'd-1' }, state: 'TASK_FINISHED', uuid } } }, { Authorization: `Bearer ${token}` });
      expect(other.status).toBe(403);
      expect(((await other.json()) as Json).field).toBe('update.status.task_id');
      expect((await post({ ...forged, executor_id: { value: 'exec-d' }, update: { status: { task_id: { value: 'd-1' }, state: 'TASK_FINISHED', uuid } } }, { Authorization: `Bearer ${token}` })).status).toBe(401);
      // Bad input, named, no state change.
      const badUuid = await post({ ...forged, update: { status: { task_id: { value: 'c-1' }, state: 'TASK_FINISHED', uuid: 'abc' } } }, { Authorization: `Bearer ${token}` });
      expect(badUuid.status).toBe(400);
      expect(((await badUuid.json()) as Json).field).toBe('update.status.uuid');
      const staging = await post({ ...forged, update: { status: { task_id: { value: 'c-1' }, state: 'TASK_STAGING', uuid } } }, { Authorization: `Bearer ${token}` });
      expect(staging.status).toBe(400);
      expect((await post({ ...forged, type: 'MESSAGE', message: null }, { Authorization: `Bearer ${token}` })).status).toBe(400);
      expect(fw.states('c-1')).toEqual(['TASK_RUNNING']);
      expect(fw.states('d-1')).toEqual(['TASK_RUNNING']);

      // KILL reaches the executor, which answers TASK_KILLED.
      await fw.kill(agent.agentId!, 'c-1');
      expect((await fw.waitTerminal('c-1')).state).toBe('TASK_KILLED');
      await frameworkMessage('exec-d', 'finish:d-1');
      expect((await fw.waitTerminal('d-1')).state).toBe('TASK_FINISHED');
    });

    it('LAUNCH_GROUP on the default executor still runs its tasks, as containers of their own', async () => {
      const offers = await fw.offers(agent.agentId!, { cpus: 0.2, mem: 32 });
      const groupTask = (id: string): Json => ({ ...taskOn({}, id, 'finish'), executor: undefined, data: undefined, command: { shell: true, value: 'echo group' } });
      const r = await fw.f.call({
        type: 'ACCEPT',
        accept: {
          offer_ids: offers.map((o) => o.id),
          operations: [{ type: 'LAUNCH_GROUP', launch_group: { executor: { type: 'DEFAULT', executor_id: { value: 'group-1' } }, task_group: { tasks: [groupTask('g-1'), groupTask('g-2')] } } }],
          filters: { refuse_seconds: 0 },
        },
      });
      expect(r.status).toBe(202);
      expect((await fw.waitTerminal('g-1')).state).toBe('TASK_FINISHED');
      expect((await fw.waitTerminal('g-2')).state).toBe('TASK_FINISHED');
      expect(agent.tasks().find((t) => t.task_id === 'g-1')?.executor_id).toBeUndefined();
    });

    /** Pids of processes whose environment holds this executor's token (Linux /proc): the executor and its children. */
    function executorPids(executorId: string): number[] {
      const checkpoint = JSON.parse(readFileSync(join(workDir, 'executors/executors.json'), 'utf8')) as { runs: { executorId: string; token: string }[] };
      const token = checkpoint.runs.find((r) => r.executorId === executorId)?.token;
      if (token === undefined) return [];
      return readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            return readFileSync(`/proc/${d}/environ`, 'utf8').includes(`MESOS_EXECUTOR_AUTHENTICATION_TOKEN=${token}`);
          } catch {
            return false;
          }
        })
        .map(Number);
    }
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };

    it("SHUTDOWN: another framework cannot name the executor; its own framework's shuts it down, its tasks end KILLED and resources return", async () => {
      const info = executorInfo('exec-s');
      await launch([taskOn(info, 's-1', 'wait'), taskOn(info, 's-2', 'wait')]);
      await fw.waitState('s-1', 'TASK_RUNNING', 30_000);
      await fw.waitState('s-2', 'TASK_RUNNING');
      const pids = executorPids('exec-s');
      expect(pids.length).toBeGreaterThan(0);
      const shutdown = { type: 'SHUTDOWN', shutdown: { executor_id: { value: 'exec-s' }, agent_id: { value: agent.agentId } } };

      // The attacker: another framework, knowing the executor and agent ids.
      const other = await TestFramework.subscribe(tm, 'shutdown-attacker');
      try {
        const stolen = await other.f.call(shutdown);
        expect(stolen.status).toBe(404);
        expect((stolen.json as Json).field).toBe('shutdown.executor_id');
      } finally {
        other.close();
      }
      const bad = await fw.f.call({ type: 'SHUTDOWN', shutdown: { executor_id: { value: 'exec-s' } } });
      expect(bad.status).toBe(400);
      expect((bad.json as Json).field).toBe('shutdown.agent_id');
      const held = await agentItem();
      expect(held.executors?.[`${fw.id}/exec-s`]?.shutdownRequestedAt).toBeUndefined();
      expect(fw.states('s-1')).toEqual(['TASK_RUNNING']);
      expect(pids.every(alive)).toBe(true);

      const r = await fw.f.call(shutdown);
      expect(r.status, JSON.stringify(r.json)).toBe(202);
      await waitUntil(() => executorLog('exec-s', 'stdout').includes('shutdown'), 10_000, 'SHUTDOWN reaching the executor');
      for (const id of ['s-1', 's-2']) {
        expect((await fw.waitTerminal(id)) as unknown as Json).toMatchObject({ state: 'TASK_KILLED', reason: 'REASON_EXECUTOR_TERMINATED', source: 'SOURCE_AGENT' });
      }
      await waitUntil(() => !pids.some(alive), 10_000, 'the executor process gone');
      await waitUntil(async () => {
        const x = await agentItem();
        return x.allocated.cpus === 0 && x.allocated.mem === 0 && x.executors?.[`${fw.id}/exec-s`] === undefined;
      }, 10_000, 'the executor and task resources back');
      expect(executorLog('exec-s', 'stdout')).not.toContain('EXECUTOR-ERROR');
    });

    it('survives an agent restart: the executor subscribes again and its task goes on', async () => {
      await launch([taskOn(executorInfo('exec-r'), 'r-1', 'wait')]);
      await fw.waitState('r-1', 'TASK_RUNNING', 30_000);
      const port = Number(new URL(agent.endpoint!).port);
      await agent.stop();
      await waitUntil(() => executorLog('exec-r', 'stdout').includes('disconnected'), 10_000, 'the executor seeing the agent go');
      agent = await startAgent(port);
      await waitUntil(() => agent.tasks().some((t) => t.task_id === 'r-1'), 10_000, 'the executor task recovered');
      await waitUntil(() => executorLog('exec-r', 'stdout').includes('reregistered'), 30_000, 'the executor subscribing again');
      await frameworkMessage('exec-r', 'finish:r-1');
      expect((await fw.waitTerminal('r-1')).state).toBe('TASK_FINISHED');
      expect(fw.states('r-1')).not.toContain('TASK_FAILED');
      expect(executorLog('exec-r', 'stdout')).not.toContain('EXECUTOR-ERROR');
    });
  });
}
