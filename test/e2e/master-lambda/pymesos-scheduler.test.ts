import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MESOS_COMPATIBLE_VERSION } from '../../../src/wire/mesos-version.js';
import { ROOT, startTestMaster, type TestMaster } from '../../support/agent-cluster.js';
import { CLIENTS_PYTHON, describeWithClient, probePymesos } from '../../support/compat-clients.js';
import { TestAgent } from '../../support/test-agent.js';

// pymesos 0.3.15's scheduler driver, unchanged, against a Stratus master with two agents:
// test/compat/pymesos/scheduler.py runs the whole scenario and fails on any error the library
// logs or reports.

interface Line {
  event?: string;
  done?: boolean;
  [k: string]: unknown;
}

function runScript(master: string): Promise<{ code: number | null; lines: Line[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLIENTS_PYTHON, [join(ROOT, 'test/compat/pymesos/scheduler.py'), master], {
      env: { ...process.env, COMPAT_TIMEOUT_SECONDS: '60', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
      resolve({ code, lines, stderr: err });
    });
  });
}

await describeWithClient(probePymesos, 'pymesos scheduler driver against Stratus', () => {
  let m: TestMaster;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    m = await startTestMaster();
    for (const h of ['py-a', 'py-b']) agents.push(await new TestAgent({ master: m.url, hostname: h, cpus: 2, mem: 1024 }).start());
  });

  afterAll(async () => {
    for (const a of agents) await a.stop();
    await m?.close();
  });

  it('subscribes (reading /version as Mesos >= 1.0), launches, acknowledges, kills, reconciles, declines, suppresses, revives and tears down without an error', async () => {
    const { code, lines, stderr } = await runScript(m.url.replace(/^http:\/\//, ''));
    const diag = `exit ${code}\n${lines.map((l) => JSON.stringify(l)).join('\n')}\n${stderr.slice(-4000)}`;
    expect(code, diag).toBe(0);
    expect(stderr, diag).not.toMatch(/^(ERROR|CRITICAL) /m);
    const last = lines[lines.length - 1]!;
    expect(last, diag).toMatchObject({ done: true, driver_version: MESOS_COMPATIBLE_VERSION, states: { 't-done': 'TASK_FINISHED', 't-long': 'TASK_KILLED' } });

    const registered = lines.find((l) => l.event === 'registered')!;
    // The driver read GET /version (it has no other source for driver.version).
    expect(registered).toMatchObject({ driver_version: MESOS_COMPATIBLE_VERSION, master_version: MESOS_COMPATIBLE_VERSION });
    const updates = lines.filter((l) => l.event === 'update');
    // Agent updates carry a uuid (acknowledged by the script); reconciliation answers do not.
    expect(updates.filter((u) => u.reason !== 'REASON_RECONCILIATION').every((u) => u.has_uuid === true), diag).toBe(true);
    expect(updates.filter((u) => u.reason === 'REASON_RECONCILIATION').map((u) => [u.task_id, u.state]).sort()).toEqual([['t-done', 'TASK_FINISHED'], ['t-long', 'TASK_KILLED']]);
    expect(lines.some((l) => l.event === 'offers_after_revive')).toBe(true);

    // Every update was acknowledged, and TEARDOWN removed the framework.
    const fid = String(registered.framework_id);
    const fw = await m.master.registry.getFramework(fid);
    expect(fw?.removedAt, 'the framework was torn down').toBeDefined();
    const tasks = await m.master.registry.listTasksByFramework(fid);
    expect(tasks.map((t) => [t.taskId, t.state, t.pendingAcks.length]).sort()).toEqual([['t-done', 'FINISHED', 0], ['t-long', 'KILLED', 0]]);
    // With GPU_RESOURCES: what pymesos asks only of a master it reads as >= 1.0.
    expect(fw?.info.capabilities).toContain('GPU_RESOURCES');
  });
});
