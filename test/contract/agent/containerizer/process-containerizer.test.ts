import { spawn } from 'node:child_process';
import { freePortsBelowEphemeral } from '../../../support/ports.js';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../../../support/agent-cluster.js';
import { waitUntil } from '../../../support/wait.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskId as toTaskId } from '../../../../src/core/ids.js';
import { ProcessContainerizer } from '../../../../src/agent/containerizer/process-containerizer.js';
import {
  Agents,
  containerizerContract,
  FRAMEWORK,
  health,
  launchRequest,
  refOf,
  shellTask,
  type Agent,
  type AgentOptions,
  type ContainerizerHarness,
} from './containerizer.contract.js';


function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Pids of the agent's tasks (from its state files) that are still alive. */
function livePids(o: AgentOptions): number[] {
  const dir = join(o.workDir, 'containers');
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const n of names) {
    try {
      const st = JSON.parse(readFileSync(join(dir, n, 'state.json'), 'utf8')) as { engineId?: string };
      const pid = Number(st.engineId);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) pids.push(pid);
    } catch {
      /* no state */
    }
  }
  return pids;
}

const harness: ContainerizerHarness = {
  name: 'process',
  create: (o) => new ProcessContainerizer({ ...o, pollIntervalMs: 100 }),
  leftovers: async (o) => livePids(o).map(String),
  exists: async (info) => info.engineId !== undefined && alive(Number(info.engineId)),
  cleanup: async (agents) => {
    for (const a of agents) {
      for (const pid of livePids(a)) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  },
  existingDir: realpathSync(tmpdir()),
};

containerizerContract(harness);

describe('ProcessContainerizer only', () => {
  const agents = new Agents(harness);
  // Ports the tasks listen on, free and outside the ephemeral range (no outgoing connection takes them).
  let HP = 0;
  let a: Agent;
  beforeAll(async () => {
    HP = await freePortsBelowEphemeral(10);
    a = agents.make({ agentPorts: [{ begin: HP, end: HP + 9 }] });
  });
  afterAll(() => agents.cleanup(), 30_000);

  it('runs argv commands without a shell, and reports a missing program as exit 127', async () => {
    const argv = launchRequest(a, { name: 'argv', command: { shell: false, value: 'echo', arguments: ['echo', 'a  b', '$HOME'] } });
    const missing = launchRequest(a, { name: 'missing', command: { shell: false, value: 'no-such-program-stratus' } });
    await Promise.all([a.c.launch(argv), a.c.launch(missing)]);
    expect((await a.c.wait(refOf(argv))).state).toBe('FINISHED');
    expect((await a.c.logs(refOf(argv), 'stdout')).data.toString()).toBe('a  b $HOME\n');
    expect(await a.c.wait(refOf(missing))).toMatchObject({ state: 'FAILED', exitCode: 127 });
  });

  it("kills what the task left running in its process group when it ends", async () => {
    const req = launchRequest(a, shellTask('sleep 600 & echo $!; exit 0'));
    await a.c.launch(req);
    expect((await a.c.wait(refOf(req))).state).toBe('FINISHED');
    const pid = Number((await a.c.logs(refOf(req), 'stdout')).data.toString().trim());
    expect(pid).toBeGreaterThan(0);
    await waitUntil(() => !alive(pid), 5_000, `the left-over process ${pid} to be killed`);
  });

  it('resolves a relative working dir under the sandbox, and honours an explicit sandbox', async () => {
    const sandbox = join(mkdtempSync(join(tmpdir(), 'stratus-sbx-')), 'task');
    agents.dirs.push(sandbox);
    const req = launchRequest(a, shellTask('pwd; echo "$MESOS_SANDBOX"', { workingDir: 'work/sub' }), undefined, { sandboxDir: sandbox });
    await a.c.launch(req);
    expect((await a.c.wait(refOf(req))).state).toBe('FINISHED');
    expect((await a.c.logs(refOf(req), 'stdout')).data.toString()).toBe(`${sandbox}/work/sub\n${sandbox}\n`);
    expect(readFileSync(join(sandbox, 'stdout'), 'utf8')).toContain('work/sub');
  });

  it('refuses container images and a missing working dir', async () => {
    const img = await a.c.launch(launchRequest(a, { name: 'img', command: { shell: true, value: 'true' }, container: { type: 'DOCKER', docker: { image: 'busybox', network: 'HOST', pullPolicy: 'NEVER' } } }));
    expect(img).toMatchObject({ state: 'ERROR', reason: 'TASK_INVALID' });
    expect(img.message).toContain('spec.container');
    const wd = await a.c.launch(launchRequest(a, shellTask('true', { workingDir: '/no/such/dir/stratus' })));
    expect(wd).toMatchObject({ state: 'FAILED', reason: 'CONTAINER_LAUNCH_FAILED' });
    expect(wd.message).toContain('/no/such/dir/stratus');
  });

  it('checks HTTP health (healthy) and TCP health (unhealthy, then killed) on localhost', async () => {
    const server = `exec "${process.execPath}" -e "require('http').createServer((q, s) => s.end('ok')).listen(+process.env.PORT0, '127.0.0.1')"`;
    const http = launchRequest(a, shellTask(server, { healthCheck: health({ type: 'HTTP', http: { port: HP, path: '/', scheme: 'http' } }) }), { cpus: 0.1, mem: 32, ports: [{ begin: HP, end: HP }] });
    const tcp = launchRequest(a, shellTask('sleep 600', { killGracePeriodMs: 200, healthCheck: health({ type: 'TCP', tcp: { port: HP + 1 }, consecutiveFailures: 1 }) }));
    await Promise.all([a.c.launch(http), a.c.launch(tcp)]);
    try {
      const ok = await a.rec.status(refOf(http), (s) => s.healthy === true);
      expect(ok.message).toContain('answered 200');
      const bad = await a.rec.status(refOf(tcp), (s) => s.healthy === false);
      expect(bad.message).toContain(`port ${HP + 1}`);
      expect(await a.c.wait(refOf(tcp))).toMatchObject({ state: 'KILLED', reason: 'TASK_HEALTH_CHECK_STATUS_UPDATED' });
    } finally {
      await a.c.destroy(refOf(http));
    }
  });

  it('adopts tasks after the agent process is SIGKILLed, and still learns their exit codes', async () => {
    const agent = agents.make();
    await agent.c.close();
    const script = join(agent.workDir, 'crashing-agent.mts');
    const module = pathToFileURL(join(ROOT, 'src/agent/containerizer/process-containerizer.ts')).href;
    writeFileSync(
      script,
      `import { ProcessContainerizer } from ${JSON.stringify(module)};
const [agentId, workDir] = process.argv.slice(2);
const c = new ProcessContainerizer({ agentId, workDir });
const states = [];
for (const [taskId, value] of [['crash-long', 'sleep 600'], ['crash-exit', 'sleep 0.7; echo bye; exit 5']]) {
  const s = await c.launch({ taskId, frameworkId: ${JSON.stringify(FRAMEWORK)}, agentId, spec: { name: taskId, command: { shell: true, value } }, resources: { cpus: 100, mem: 32, disk: 0, network: 0, ports: [] } });
  states.push(s.state);
}
console.log(JSON.stringify(states));
setInterval(() => undefined, 1000);
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script, agent.agentId, agent.workDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve();
      });
      child.on('exit', () => reject(new Error(`agent exited early: ${out} ${err}`)));
    });
    expect(JSON.parse(out)).toEqual(['RUNNING', 'RUNNING']);
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;

    const second = agents.make({ agentId: agent.agentId, workDir: agent.workDir });
    const long = { frameworkId: FRAMEWORK, taskId: toTaskId('crash-long') };
    const ends = { frameworkId: FRAMEWORK, taskId: toTaskId('crash-exit') };
    const result = await second.c.recover();
    expect(result.recovered.map((i) => i.taskId).sort()).toEqual(['crash-exit', 'crash-long']);
    expect(second.c.status(long)?.state).toBe('RUNNING');
    expect(await second.c.wait(ends)).toMatchObject({ state: 'FAILED', exitCode: 5 });
    expect((await second.c.logs(ends, 'stdout')).data.toString()).toBe('bye\n');
    const info = second.c.containers().find((i) => i.taskId === 'crash-long')!;
    expect(await harness.exists(info)).toBe(true);
    await second.c.kill(long, { gracePeriodMs: 300 });
    expect((await second.c.wait(long)).state).toBe('KILLED');
    expect(await harness.exists(info)).toBe(false);
    rmSync(script, { force: true });
  });
});
