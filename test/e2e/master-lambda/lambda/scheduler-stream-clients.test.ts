import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../../../src/http/node-server.js';
import { createSchedulerStreamHandler, STREAM_MASTER_CONFIG } from '../../../../src/master-lambda/lambda/scheduler-stream-handler.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { DynamoDbItemStore } from '../../../../src/state/dynamodb-item-store.js';
import { ROOT, testLogger } from '../../../support/agent-cluster.js';
import { RestStreamingApi } from '../../../support/api-gateway/rest-streaming.js';
import { CLIENTS_PYTHON, describeWithClient, GO, probeGo, probePymesos } from '../../../support/compat-clients.js';
import { probe, type Probe } from '../../../support/components.js';
import { freshDynamoStore } from '../../../support/dynamodb.js';
import { TestAgent } from '../../../support/test-agent.js';
import { waitUntil } from '../../../support/wait.js';

// Unmodified Mesos clients on the cloud path: pymesos 0.3.15 and mesos-go v0.0.11 subscribe
// through the REST-streaming stand-in to the streaming handler, whose master (a Lambda
// container of its own: no leader, nothing in-process shared with the rest) reads the region's
// DynamoDB table on moto. The leader and the agent's API run in another master on the same
// table. The stream ends at its (small) maximum; the client resubscribes with its framework
// id; a task's TASK_FINISHED that happens while no stream is open still reaches it.

interface Line {
  event?: string;
  done?: boolean;
  [k: string]: unknown;
}

const STREAM_MAX_MS = 8_000;
// moto under a loaded machine can take seconds per call; the scenario waits for conditions only.
const SCENARIO_TIMEOUT_MS = 300_000;
const BUILD_TIMEOUT_MS = 480_000; // a cold Go cache compiles mesos-go's generated code

async function withAws(client: () => Promise<Probe>): Promise<Probe> {
  const [c, aws] = await Promise.all([client(), probe('aws')]);
  return c.ok && aws.ok ? c : { ok: false, message: [c, aws].filter((p) => !p.ok).map((p) => p.message).join('; ') };
}

interface Region {
  leader: Master;
  api: RestStreamingApi;
  agent: TestAgent;
  close(): Promise<void>;
}

async function streamingRegion(): Promise<Region> {
  const store = await freshDynamoStore('stream');
  const leader = new Master({ store, log: testLogger('leader'), config: { allocationIntervalMs: 300, pollIntervalMs: 200, leaseDurationMs: 5_000 } });
  const agentApi: RunningServer = await serve(leader.api);
  leader.start();
  const streaming = new Master({
    store: new DynamoDbItemStore({ tableName: store.tableName }),
    canStream: true,
    log: testLogger('stream'),
    config: { ...STREAM_MASTER_CONFIG, pollIntervalMs: 200 },
  });
  const api = await new RestStreamingApi({ handler: createSchedulerStreamHandler({ master: async () => streaming, maxStreamMs: STREAM_MAX_MS }) }).start();
  const agent = await new TestAgent({ master: agentApi.url, hostname: 'stream-a', cpus: 2, mem: 1024, resendMs: 100 }).start();
  return {
    leader,
    api,
    agent,
    close: async () => {
      await agent.stop();
      await api.close();
      await leader.stop();
      await agentApi.close();
    },
  };
}

/**
 * The scenario, the same for every client: RUNNING through the first stream; new requests
 * held when it ends, so the task finishes while no stream is open; then the client's
 * resubscription must get TASK_FINISHED, and the client tears down.
 */
async function resubscribeScenario(region: Region, child: ChildProcess, names: { subscribed: string; resubscribed: string; task: string }): Promise<Line[]> {
  const { api, agent, leader } = region;
  const lines: Line[] = [];
  let stderr = '';
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const parts = out.split('\n');
    out = parts.pop()!;
    for (const l of parts) if (l.startsWith('{')) lines.push(JSON.parse(l) as Line);
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const diag = (): string => `${lines.map((l) => JSON.stringify(l)).join('\n')}\n${stderr.slice(-4000)}\nstand-in ${JSON.stringify(api.stats)}`;
  try {
    const running = await waitUntil(() => lines.find((l) => l.event === 'update' && l.state === 'TASK_RUNNING') ?? lines.some((l) => l.done === false), 150_000, 'TASK_RUNNING through the stream');
    expect(running, diag()).toMatchObject({ task_id: expect.stringMatching(new RegExp(`^${names.task}-\\d+$`)) });
    const taskId = String((running as Line).task_id);
    const fid = String(lines.find((l) => l.event === names.subscribed)!.framework_id);

    // Hold SUBSCRIBEs: when the open stream ends at its maximum, the client's resubscription
    // waits here while the task finishes (its other calls go on).
    api.hold((e) => e.httpMethod === 'POST' && /"type"\s*:\s*"SUBSCRIBE"/.test(e.body ?? ''));
    await waitUntil(() => api.waiting >= 1 && api.stats.open === 0, STREAM_MAX_MS * 6, 'the stream to end and the client to come back');
    agent.completeTask(fid, taskId);
    await waitUntil(async () => (await leader.registry.getTask(fid, taskId))?.state === 'FINISHED', 60_000, 'TASK_FINISHED recorded while no stream is open');
    // Still connected: a planned end is not a disconnection (the leader would withdraw its offers).
    expect((await leader.registry.getFramework(fid))?.connected, diag()).toBe(true);
    api.release();

    const code = await exited;
    expect(code, diag()).toBe(0);
    expect(lines.find((l) => l.event === names.resubscribed), diag()).toMatchObject({ framework_id: fid });
    const updates = lines.filter((l) => l.event === 'update');
    expect(updates.every((u) => String(u.task_id).startsWith(`${names.task}-`) && u.has_uuid === true), diag()).toBe(true);
    expect(updates.filter((u) => u.task_id === taskId).map((u) => u.state), diag()).toContain('TASK_FINISHED');
    expect(lines[lines.length - 1], diag()).toMatchObject({ done: true });

    // One framework, resubscribed (not a second registration), torn down at the end; the
    // stand-in never had to cut a stream: each ended cleanly before the service's limits.
    const frameworks = await leader.registry.listFrameworks();
    expect(frameworks.map((f) => f.id), diag()).toEqual([fid]);
    expect(frameworks[0]!.removedAt, diag()).toBeDefined();
    expect(api.stats, diag()).toMatchObject({ cutAtMax: 0, cutIdle: 0, badPrelude: 0 });
    return lines;
  } finally {
    api.release();
    if (child.exitCode === null) child.kill('SIGKILL');
    (lines as Line[] & { stderr?: string }).stderr = stderr;
  }
}

await describeWithClient(() => withAws(probePymesos), 'pymesos over the REST-streaming scheduler API (DynamoDB on moto)', () => {
  let region: Region;
  beforeAll(async () => {
    region = await streamingRegion();
  });
  afterAll(async () => region?.close());

  it('reads OFFERS and UPDATEs from the stream, resubscribes with its framework id when the stream ends, and loses no update across the gap', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const child = spawn(CLIENTS_PYTHON, [join(ROOT, 'test/compat/pymesos/stream_resubscribe.py'), region.api.address], {
      env: { ...process.env, COMPAT_TIMEOUT_SECONDS: '280', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = await resubscribeScenario(region, child, { subscribed: 'registered', resubscribed: 'reregistered', task: 't-stream' });
    expect((lines as Line[] & { stderr?: string }).stderr ?? '').not.toMatch(/^(ERROR|CRITICAL) /m);
    // pymesos read GET /version through the same API before subscribing; the calls all went there.
    expect(region.api.stats.invocations).toBeGreaterThanOrEqual(4);
  });
});

await describeWithClient(() => withAws(probeGo), 'mesos-go httpsched over the REST-streaming scheduler API (DynamoDB on moto)', () => {
  let region: Region;
  let dir: string;
  let bin: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stratus-mesos-go-stream-'));
    bin = join(dir, 'mesos-go-stream');
    await new Promise<void>((resolve, reject) =>
      execFile(GO, ['build', '-o', bin, './stream'], { cwd: join(ROOT, 'test/compat/mesos-go'), timeout: BUILD_TIMEOUT_MS, env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=readonly -buildvcs=false`.trim() } }, (err, stdout, stderr) =>
        err ? reject(new Error(`go build of the mesos-go stream client failed: ${err.message}\n${stdout}${stderr}`)) : resolve(),
      ),
    );
    region = await streamingRegion();
  }, BUILD_TIMEOUT_MS + 30_000);
  afterAll(async () => {
    await region?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads OFFERS and UPDATEs from the stream, resubscribes with its framework id when the stream ends cleanly, and loses no update across the gap', { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const child = spawn(bin, ['-master', region.api.url, '-timeout', '280s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = await resubscribeScenario(region, child, { subscribed: 'subscribed', resubscribed: 'resubscribed', task: 'go-stream' });
    // The stream ended at its end (EOF), not cut mid-record.
    expect(lines.filter((l) => l.event === 'stream_ended').map((l) => l.error)).toContain('EOF');
    expect(Number(lines[lines.length - 1]!.subscriptions)).toBeGreaterThanOrEqual(2);
  });
});
