import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAgent, type AgentDaemon } from '../../../src/agent/index.js';
import { startTestMaster, TestFramework, testLogger, type TestMaster } from '../../support/agent-cluster.js';
import { describeWithPrometheusParser, parsePrometheus, sampleValue, type MetricFamily } from '../../support/prometheus-parser.js';
import { waitUntil } from '../../support/wait.js';

// The agent's GET /metrics (parsed by Prometheus's parser) and GET /metrics/snapshot under
// Mesos's slave/ names, as a real agent (process containerizer) runs tasks.

const MESOS_AGENT_NAMES = [
  'slave/uptime_secs',
  'slave/registered',
  'slave/tasks_staging',
  'slave/tasks_starting',
  'slave/tasks_running',
  'slave/tasks_killing',
  'slave/tasks_finished',
  'slave/tasks_failed',
  'slave/tasks_killed',
  'slave/tasks_lost',
  'slave/cpus_total',
  'slave/cpus_used',
  'slave/cpus_percent',
  'slave/mem_total',
  'slave/mem_used',
  'slave/mem_percent',
  'slave/disk_total',
  'slave/disk_used',
  'slave/executors_running',
  'slave/container_launch_errors',
  'slave/valid_status_updates',
];

describeWithPrometheusParser('agent metrics', () => {
  let tm: TestMaster;
  let agent: AgentDaemon;
  let fw: TestFramework;
  let workDir: string;

  beforeAll(async () => {
    tm = await startTestMaster();
    workDir = mkdtempSync(join(tmpdir(), 'stratus-agent-metrics-'));
    agent = createAgent({
      master: tm.url,
      workDir,
      zone: 'a',
      group: 'metrics',
      cpus: 2,
      mem: 1024,
      disk: 512,
      ports: [{ begin: 31000, end: 31009 }],
      hostname: 'agent-metrics',
      port: 0,
      containerizer: 'process',
      log: testLogger('agent'),
      timing: { heartbeatIntervalMs: 300, longPollSeconds: 2, statusRetryInitialMs: 300, statusRetryMaxMs: 2_000 },
    });
    await agent.start();
    fw = await TestFramework.subscribe(tm, 'agent-metrics');
  });

  afterAll(async () => {
    fw?.f.close();
    await agent?.stop({ destroyTasks: true });
    await tm?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  async function scrape(): Promise<MetricFamily[]> {
    const res = await fetch(`${agent.endpoint}/metrics`);
    expect(res.status).toBe(200);
    return parsePrometheus(await res.text());
  }

  it('counts launches, running containers and the journal as tasks run', async () => {
    const before = await scrape();
    expect(sampleValue(before, 'stratus_agent_registered')).toBe(1);
    expect(sampleValue(before, 'stratus_agent_containers_running')).toBe(0);
    expect(sampleValue(before, 'stratus_agent_task_launch_duration_seconds_count')).toBe(0);
    expect(sampleValue(before, 'stratus_agent_cpus', { kind: 'total' })).toBe(2);

    const id = agent.agentId!;
    await fw.launch(id, [
      { id: 'long', command: 'sleep 600', cpus: 0.5, mem: 64 },
      { id: 'short', command: 'exit 0', cpus: 0.25, mem: 32 },
    ]);
    await fw.waitState('long', 'TASK_RUNNING');
    await fw.waitState('short', 'TASK_FINISHED');
    // STARTING (and short's RUNNING) are not acknowledged yet: they are the journal's backlog.
    const backlog = await scrape();
    expect(sampleValue(backlog, 'stratus_agent_status_updates_pending')).toBeGreaterThan(0);
    for (const t of ['long', 'short']) {
      for (const u of fw.updates(t)) if (u.uuid && !(t === 'long' && u.state === 'TASK_RUNNING') && !(t === 'short' && u.state === 'TASK_FINISHED')) await fw.f.acknowledge(u);
    }
    const after = await waitUntil(async () => {
      const m = await scrape();
      return sampleValue(m, 'stratus_agent_status_updates_pending') === 0 && sampleValue(m, 'stratus_agent_containers_running') === 1 && m;
    }, 20_000, 'one container running and the journal empty once all is acknowledged');
    expect(sampleValue(after, 'stratus_agent_task_launch_duration_seconds_count')).toBe(2);
    expect(sampleValue(after, 'stratus_agent_task_launch_duration_seconds_sum')).toBeGreaterThan(0);
    expect(sampleValue(after, 'stratus_agent_status_updates_total', { state: 'TASK_FINISHED' })).toBe(1);
    expect(sampleValue(after, 'stratus_agent_cpus', { kind: 'used' })).toBe(0.5);
    expect(sampleValue(after, 'stratus_agent_mem_bytes', { kind: 'used' })).toBe(64 * 1024 * 1024);

    const snap = (await (await fetch(`${agent.endpoint}/metrics/snapshot`)).json()) as Record<string, number>;
    for (const name of MESOS_AGENT_NAMES) expect(snap, name).toHaveProperty([name]);
    expect(snap['slave/registered']).toBe(1);
    expect(snap['slave/tasks_running']).toBe(agent.tasks().filter((t) => t.state === 'TASK_RUNNING').length);
    expect(snap['slave/tasks_running']).toBe(1);
    expect(snap['slave/tasks_finished']).toBe(1);
    expect(snap['slave/cpus_total']).toBe(2);
    expect(snap['slave/cpus_used']).toBe(0.5);
    expect(snap['slave/mem_total']).toBe(1024);
    expect(snap['slave/cpus_percent']).toBe(0.25);
  });
});
