import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAgent, type AgentDaemon } from '../../../../src/agent/index.js';
import { removeContainersOfAgent, startTestMaster, TestFramework, testLogger, type TestMaster } from '../../../support/agent-cluster.js';
import { describeWith, DOCKER_SOCKET, TEST_IMAGE } from '../../../support/components.js';
import type { Json } from '../../../support/scheduler-client.js';
import { waitUntil } from '../../../support/wait.js';

// A custom executor in a Docker container (ExecutorInfo.container, HOST network): a busybox
// shell script that speaks the executor API with wget and no credential — the agent knows it by
// its container (the calling process's cgroup) — subscribes, and sends RUNNING then FINISHED.

// The task id comes in the executor's environment (busybox wget cannot follow a live stream).
const SCRIPT = [
  'E="http://$MESOS_AGENT_ENDPOINT/api/v1/executor"',
  'IDS="\\"framework_id\\":{\\"value\\":\\"$MESOS_FRAMEWORK_ID\\"},\\"executor_id\\":{\\"value\\":\\"$MESOS_EXECUTOR_ID\\"}"',
  'wget -q -O /dev/null --header "Content-Type: application/json" --post-data "{\\"type\\":\\"SUBSCRIBE\\",$IDS}" "$E" &',
  'up() { wget -q -O - --header "Content-Type: application/json" --post-data "{\\"type\\":\\"UPDATE\\",$IDS,\\"update\\":{\\"status\\":{\\"task_id\\":{\\"value\\":\\"$TASK\\"},\\"state\\":\\"$1\\",\\"uuid\\":\\"$2\\"}}}" "$E" || echo "UPDATE $1 refused"; }',
  'up TASK_RUNNING AAAAAAAAAAAAAAAAAAAAAA==',
  'up TASK_FINISHED AQEBAQEBAQEBAQEBAQEBAQ==',
  'wait',
].join('\n');

await describeWith(['docker'], 'custom executor in Docker', () => {
  const docker = new Docker({ socketPath: DOCKER_SOCKET });
  let tm: TestMaster;
  let agent: AgentDaemon;
  let fw: TestFramework;
  let workDir = '';

  beforeAll(async () => {
    tm = await startTestMaster();
    workDir = mkdtempSync(join(tmpdir(), 'stratus-docker-executor-'));
    agent = createAgent({
      master: tm.url,
      workDir,
      cpus: 2,
      mem: 1024,
      hostname: 'docker-executor-agent',
      port: 0,
      containerizer: 'auto',
      dockerSocket: DOCKER_SOCKET,
      log: testLogger('agent'),
      timing: { heartbeatIntervalMs: 300, longPollSeconds: 2, statusRetryInitialMs: 300, statusRetryMaxMs: 2_000 },
      // Long enough that the subscription is still there for the test to see after FINISHED.
      executorTiming: { shutdownGraceMs: 30_000 },
    });
    await agent.start();
    fw = await TestFramework.subscribe(tm, 'docker-executor');
    fw.autoAcknowledge();
  });

  afterAll(async () => {
    fw?.close();
    await agent?.stop({ destroyTasks: true });
    await removeContainersOfAgent(docker, agent?.agentId);
    await tm?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('runs the executor in its image; its calls from the container are its own', async () => {
    const offers = await fw.offers(agent.agentId!, { cpus: 0.6, mem: 64 });
    const task: Json = {
      name: 'docker-exec-1',
      task_id: { value: 'docker-exec-1' },
      agent_id: { value: agent.agentId },
      resources: [
        { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } },
        { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
      ],
      executor: {
        executor_id: { value: 'docker-exec' },
        command: { shell: true, value: SCRIPT, environment: { variables: [{ name: 'TASK', value: 'docker-exec-1' }] } },
        container: { type: 'DOCKER', docker: { image: TEST_IMAGE, network: 'HOST' } },
        resources: [
          { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
          { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
        ],
      },
    };
    const r = await fw.f.call({ type: 'ACCEPT', accept: { offer_ids: offers.map((o) => o.id), operations: [{ type: 'LAUNCH', launch: { task_infos: [task] } }], filters: { refuse_seconds: 0 } } });
    expect(r.status).toBe(202);
    await waitUntil(() => agent.customExecutors?.().find((e) => e.executor_id === 'docker-exec')?.subscribed, 60_000, 'the Docker executor subscribed');
    const running = (await fw.waitState('docker-exec-1', 'TASK_RUNNING', 60_000)) as unknown as Json;
    expect(running.source).toBe('SOURCE_EXECUTOR');
    expect((await fw.waitTerminal('docker-exec-1')).state).toBe('TASK_FINISHED');
    const t = agent.tasks().find((x) => x.task_id === 'docker-exec-1');
    expect(t).toMatchObject({ containerizer: 'docker', executor_id: 'docker-exec' });
  });
});
