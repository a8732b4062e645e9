import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../../../src/http/node-server.js';
import { createSchedulerStreamHandler, STREAM_MASTER_CONFIG } from '../../../../src/master-lambda/lambda/scheduler-stream-handler.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { DynamoDbItemStore } from '../../../../src/state/dynamodb-item-store.js';
import { ROOT, testLogger } from '../../../support/agent-cluster.js';
import { RestStreamingApi } from '../../../support/api-gateway/rest-streaming.js';
import { CLIENTS_PYTHON, describeWithClient, probePymesos } from '../../../support/compat-clients.js';
import { probe } from '../../../support/components.js';
import { freshDynamoStore } from '../../../support/dynamodb.js';
import { TestAgent } from '../../../support/test-agent.js';
import { waitUntil } from '../../../support/wait.js';

// An unmodified Mesos client on the cloud path: pymesos 0.3.15 subscribes through the
// REST-streaming stand-in to the streaming handler, whose master (a Lambda container of its
// own: no leader, nothing in-process shared with the rest) reads the region's DynamoDB table on
// moto. The leader and the agent's API run in another master on the same table. The stream ends
// at its (small) maximum; the client resubscribes with its framework id; a task's TASK_FINISHED
// that happens while no stream is open still reaches it.

interface Line {
  event?: string;
  done?: boolean;
  [k: string]: unknown;
}

const STREAM_MAX_MS = 8_000;

await describeWithClient(
  async () => {
    const [py, aws] = await Promise.all([probePymesos(), probe('aws')]);
    return py.ok && aws.ok ? py : { ok: false, message: [py, aws].filter((p) => !p.ok).map((p) => p.message).join('; ') };
  },
  'pymesos over the REST-streaming scheduler API (DynamoDB on moto)',
  () => {
    let leader: Master;
    let streaming: Master;
    let agentApi: RunningServer;
    let api: RestStreamingApi;
    let agent: TestAgent;

    beforeAll(async () => {
      const store = await freshDynamoStore('stream');
      leader = new Master({ store, log: testLogger('leader'), config: { allocationIntervalMs: 300, pollIntervalMs: 200, leaseDurationMs: 5_000 } });
      agentApi = await serve(leader.api);
      leader.start();
      streaming = new Master({
        store: new DynamoDbItemStore({ tableName: store.tableName }),
        canStream: true,
        log: testLogger('stream'),
        config: { ...STREAM_MASTER_CONFIG, pollIntervalMs: 200 },
      });
      api = await new RestStreamingApi({ handler: createSchedulerStreamHandler({ master: async () => streaming, maxStreamMs: STREAM_MAX_MS }) }).start();
      agent = await new TestAgent({ master: agentApi.url, hostname: 'stream-a', cpus: 2, mem: 1024, resendMs: 100 }).start();
    });

    afterAll(async () => {
      await agent?.stop();
      await api?.close();
      await leader?.stop();
      await agentApi?.close();
    });

    it('reads OFFERS and UPDATEs from the stream, resubscribes with its framework id when the stream ends, and loses no update across the gap', async () => {
      const lines: Line[] = [];
      let stderr = '';
      const child: ChildProcess = spawn(CLIENTS_PYTHON, [join(ROOT, 'test/compat/pymesos/stream_resubscribe.py'), api.address], {
        env: { ...process.env, COMPAT_TIMEOUT_SECONDS: '90', PYTHONUNBUFFERED: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
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
        await waitUntil(() => lines.some((l) => l.event === 'update' && l.state === 'TASK_RUNNING'), 60_000, 'TASK_RUNNING through the stream');
        const fid = String(lines.find((l) => l.event === 'registered')!.framework_id);
        expect(lines.some((l) => l.event === 'launched'), diag()).toBe(true);

        // Hold new requests: when the open stream ends at its maximum, the client's
        // resubscription waits here while the task finishes.
        api.hold();
        await waitUntil(() => api.waiting >= 1 && api.stats.open === 0, STREAM_MAX_MS * 3, 'the stream to end and the client to come back');
        agent.completeTask(fid, 't-stream');
        await waitUntil(async () => (await leader.registry.getTask(fid, 't-stream'))?.state === 'FINISHED', 30_000, 'TASK_FINISHED recorded while no stream is open');
        // Still connected: a planned end is not a disconnection (the leader would withdraw its offers).
        expect((await leader.registry.getFramework(fid))?.connected, diag()).toBe(true);
        api.release();

        const code = await exited;
        expect(code, diag()).toBe(0);
        expect(stderr, diag()).not.toMatch(/^(ERROR|CRITICAL) /m);
        expect(lines.find((l) => l.event === 'reregistered'), diag()).toMatchObject({ framework_id: fid });
        const updates = lines.filter((l) => l.event === 'update');
        expect(updates.every((u) => u.task_id === 't-stream' && u.has_uuid === true), diag()).toBe(true);
        expect(updates.map((u) => u.state), diag()).toContain('TASK_FINISHED');
        expect(lines[lines.length - 1], diag()).toMatchObject({ done: true });

        // One framework, resubscribed (not a second registration), torn down at the end; the
        // stand-in never had to cut a stream: each ended cleanly before the service's limits.
        const frameworks = await leader.registry.listFrameworks();
        expect(frameworks.map((f) => f.id), diag()).toEqual([fid]);
        expect(frameworks[0]!.removedAt, diag()).toBeDefined();
        expect(api.stats, diag()).toMatchObject({ cutAtMax: 0, cutIdle: 0, badPrelude: 0 });
        expect(api.stats.invocations).toBeGreaterThanOrEqual(4); // /version, two SUBSCRIBEs, ACCEPT, ACKs, TEARDOWN
      } finally {
        api.release();
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  },
);
