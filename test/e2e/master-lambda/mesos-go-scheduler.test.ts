import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MESOS_COMPATIBLE_VERSION } from '../../../src/wire/mesos-version.js';
import { ROOT, startTestMaster, type TestMaster } from '../../support/agent-cluster.js';
import { describeWithClient, GO, probeGo } from '../../support/compat-clients.js';
import { TestAgent } from '../../support/test-agent.js';

// mesos-go v0.0.11 (api/v1 httpsched, JSON codec), unchanged, against a Stratus master with
// two agents: test/compat/mesos-go/main.go is built from the Go module proxy into a temporary
// directory and runs the scenario; it fails on any call the library reports as failed.

interface Line {
  event?: string;
  done?: boolean;
  [k: string]: unknown;
}

// The first build compiles mesos-go's generated protobuf code (minutes on a cold cache).
const BUILD_TIMEOUT_MS = 480_000;

function goBuild(out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(GO, ['build', '-o', out, '.'], { cwd: join(ROOT, 'test/compat/mesos-go'), timeout: BUILD_TIMEOUT_MS, env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=readonly -buildvcs=false`.trim() } }, (err, stdout, stderr) =>
      err ? reject(new Error(`go build of the mesos-go client failed: ${err.message}\n${stdout}${stderr}`)) : resolve(),
    );
  });
}

function runClient(bin: string, master: string): Promise<{ code: number | null; lines: Line[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['-master', master, '-timeout', '60s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, lines: out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line), stderr: err }));
  });
}

await describeWithClient(probeGo, 'mesos-go httpsched scheduler (JSON codec) against Stratus', () => {
  let m: TestMaster;
  let dir: string;
  let bin: string;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stratus-mesos-go-'));
    bin = join(dir, 'mesos-go-compat');
    await goBuild(bin);
    m = await startTestMaster();
    for (const h of ['go-a', 'go-b']) agents.push(await new TestAgent({ master: m.url, hostname: h, cpus: 2, mem: 1024 }).start());
  }, BUILD_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    for (const a of agents) await a.stop();
    await m?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('subscribes, launches three tasks in one ACCEPT, acknowledges, kills, reconciles, suppresses and tears down, with no failed call', async () => {
    const { code, lines, stderr } = await runClient(bin, m.url);
    const diag = `exit ${code}\n${lines.map((l) => JSON.stringify(l)).join('\n')}\n${stderr.slice(-4000)}`;
    expect(code, diag).toBe(0);
    const last = lines[lines.length - 1]!;
    expect(last, diag).toMatchObject({
      done: true,
      states: { 'go-a': 'TASK_FINISHED', 'go-b': 'TASK_FINISHED', 'go-long': 'TASK_KILLED' },
      reconciled: { 'go-a': 'TASK_FINISHED', 'go-b': 'TASK_FINISHED', 'go-long': 'TASK_KILLED' },
    });
    expect(lines.find((l) => l.event === 'subscribed')).toMatchObject({ master_version: MESOS_COMPATIBLE_VERSION });
    const agentUpdates = lines.filter((l) => l.event === 'update' && l.reason !== 'REASON_RECONCILIATION');
    expect(agentUpdates.every((u) => u.has_uuid === true), diag).toBe(true);
    expect(last.acks).toBe(agentUpdates.length);

    const fid = String(lines.find((l) => l.event === 'subscribed')!.framework_id);
    const fw = await m.master.registry.getFramework(fid);
    expect(fw?.removedAt, 'TEARDOWN removed the framework').toBeDefined();
    const tasks = await m.master.registry.listTasksByFramework(fid);
    expect(tasks.map((t) => [t.taskId, t.state, t.pendingAcks.length]).sort()).toEqual([['go-a', 'FINISHED', 0], ['go-b', 'FINISHED', 0], ['go-long', 'KILLED', 0]]);
  });
});
