import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { CredentialAuthenticator, hashSecret } from '../../../src/http/credentials.js';
import { Master } from '../../../src/master-lambda/master.js';
import { startLocalServer, type RunningServer } from '../../../src/master-lambda/local-server.js';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { describeWithPrometheusParser, parsePrometheus, sampleValue, type MetricFamily } from '../../support/prometheus-parser.js';
import { frameworkInfo, launchCall, StreamingFramework } from '../../support/scheduler-client.js';
import { TestAgent } from '../../support/test-agent.js';
import { waitUntil } from '../../support/wait.js';

// GET /metrics parsed by Prometheus's own parser, its counters moving as tasks run;
// GET /metrics/snapshot and GET_METRICS under Mesos's names, their values the region's state.

const MESOS_MASTER_NAMES = [
  'master/uptime_secs',
  'master/elected',
  'master/slaves_active',
  'master/slaves_inactive',
  'master/slaves_connected',
  'master/slaves_disconnected',
  'master/slaves_unreachable',
  'master/frameworks_active',
  'master/frameworks_inactive',
  'master/frameworks_connected',
  'master/frameworks_disconnected',
  'master/outstanding_offers',
  'master/tasks_staging',
  'master/tasks_starting',
  'master/tasks_running',
  'master/tasks_killing',
  'master/tasks_unreachable',
  'master/tasks_finished',
  'master/tasks_failed',
  'master/tasks_killed',
  'master/tasks_lost',
  'master/tasks_error',
  'master/tasks_dropped',
  'master/tasks_gone',
  'master/tasks_gone_by_operator',
  'master/cpus_total',
  'master/cpus_used',
  'master/cpus_percent',
  'master/mem_total',
  'master/mem_used',
  'master/mem_percent',
  'master/disk_total',
  'master/disk_used',
  'master/disk_percent',
  'master/messages_register_framework',
  'master/messages_launch_tasks',
  'master/messages_decline_offers',
  'master/messages_kill_task',
  'master/messages_status_update',
  'master/messages_status_update_acknowledgement',
  'allocator/mesos/allocation_runs',
  'allocator/mesos/allocation_run_ms',
  'allocator/mesos/resources/cpus/total',
  'allocator/mesos/resources/cpus/offered_or_allocated',
];

const basic = (user: string, secret: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}` });
const OPERATOR = basic('admin', 'ops');

describeWithPrometheusParser('master metrics', () => {
  let master: Master;
  let server: RunningServer;
  let f: StreamingFramework;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    const auth = new CredentialAuthenticator({
      principals: [
        { name: 'team', kind: 'framework', secret_hash: hashSecret('fw') },
        { name: 'admin', kind: 'operator', secret_hash: hashSecret('ops') },
        { name: 'agents', kind: 'agent', secret_hash: hashSecret('ag') },
      ],
    });
    master = new Master({ store: new MemoryItemStore(), log: silentLogger, authenticator: auth, config: { allocationIntervalMs: 100, pollIntervalMs: 50 } });
    server = await startLocalServer(master, { port: 0 });
    master.start();
    for (const z of ['a', 'b']) agents.push(await new TestAgent({ master: server.url, hostname: `host-${z}`, headers: basic('agents', 'ag') }).start());
    f = await new StreamingFramework(server.url, basic('team', 'fw')).subscribe(frameworkInfo('metrics fw'));
  });

  afterAll(async () => {
    f?.close();
    for (const a of agents) await a.stop();
    await master?.stop();
    await server?.close();
  });

  async function scrape(): Promise<MetricFamily[]> {
    const res = await fetch(`${server.url}/metrics`, { headers: OPERATOR });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await res.text());
  }

  async function mesosSnapshot(): Promise<Record<string, number>> {
    const res = await fetch(`${server.url}/metrics/snapshot`, { headers: OPERATOR });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, number>;
  }

  const transitions = (m: MetricFamily[], state: string): number => sampleValue(m, 'stratus_master_task_transitions_total', { state });

  it('refuses /metrics and /metrics/snapshot without the operator credential', async () => {
    for (const path of ['/metrics', '/metrics/snapshot']) {
      expect((await fetch(`${server.url}${path}`)).status).toBe(401);
      expect((await fetch(`${server.url}${path}`, { headers: basic('admin', 'wrong') })).status).toBe(401);
      // A framework's credential is not an operator's: refused as /master/state refuses it.
      const state = (await fetch(`${server.url}/master/state`, { headers: basic('team', 'fw') })).status;
      expect([401, 403]).toContain(state);
      expect((await fetch(`${server.url}${path}`, { headers: basic('team', 'fw') })).status).toBe(state);
    }
  });

  it('serves Prometheus text whose counters move as tasks run', async () => {
    const before = await scrape();
    expect(transitions(before, 'TASK_RUNNING')).toBe(0);
    expect(sampleValue(before, 'stratus_master_agents', { state: 'active' })).toBe(2);
    expect(sampleValue(before, 'stratus_master_leader')).toBe(1);
    expect(sampleValue(before, 'stratus_master_lease_epoch')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(before, 'stratus_master_api_requests_total', { call: 'scheduler/SUBSCRIBE', code: '200' })).toBe(1);
    // Every registry request went through the store decorator.
    expect(sampleValue(before, 'stratus_master_store_requests_total', { operation: 'transact', outcome: 'ok' })).toBeGreaterThan(0);

    const offer = await f.nextOffer();
    const r = await f.call(launchCall(offer, [
      { id: 'forever', cpus: 1, mem: 64, command: 'run forever' },
      { id: 'ok', cpus: 0.5, mem: 32, command: 'echo hi' },
      { id: 'bad', cpus: 0.5, mem: 32, command: 'exit 3' },
    ]));
    expect(r.status).toBe(202);
    await f.waitForState('forever', 'TASK_RUNNING');
    await f.waitForState('ok', 'TASK_FINISHED');
    await f.waitForState('bad', 'TASK_FAILED');

    const after = await waitUntil(async () => {
      const m = await scrape();
      return transitions(m, 'TASK_FAILED') === 1 && m;
    }, 10_000, 'the failed task counted');
    expect(transitions(after, 'TASK_STAGING')).toBe(3);
    expect(transitions(after, 'TASK_RUNNING')).toBe(3);
    expect(transitions(after, 'TASK_FINISHED')).toBe(1);
    expect(sampleValue(after, 'stratus_master_tasks', { state: 'TASK_RUNNING' })).toBe(1);
    expect(sampleValue(after, 'stratus_master_offers_total', { framework_id: f.frameworkId, event: 'sent' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, 'stratus_master_offers_total', { framework_id: f.frameworkId, event: 'accepted' })).toBe(1);
    expect(sampleValue(after, 'stratus_master_api_requests_total', { call: 'scheduler/ACCEPT', code: '202' })).toBe(1);
    expect(sampleValue(after, 'stratus_master_api_requests_total', { call: 'agent/status', code: '200' })).toBeGreaterThan(0);
    expect(sampleValue(after, 'stratus_master_allocation_round_duration_seconds_count')).toBeGreaterThan(sampleValue(before, 'stratus_master_allocation_round_duration_seconds_count'));
    expect(sampleValue(after, 'stratus_master_cpus', { kind: 'total' })).toBe(8);
    expect(sampleValue(after, 'stratus_master_cpus', { kind: 'used' })).toBe(1);
    expect(sampleValue(after, 'stratus_master_mem_bytes', { kind: 'used' })).toBe(64 * 1024 * 1024);
    expect(sampleValue(after, 'stratus_master_role_dominant_share', { role: '*' })).toBeGreaterThan(0);
    const families = new Map(after.map((m) => [m.name, m.type]));
    expect(families.get('stratus_master_task_transitions')).toBe('counter');
    expect(families.get('stratus_master_allocation_round_duration_seconds')).toBe('histogram');
    expect(families.get('stratus_federation_gossip_digests')).toBe('counter');
  });

  it('declines and unknown call types count without new label values', async () => {
    const before = await scrape();
    const offer = await f.nextOffer(f.events.length);
    expect((await f.call({ type: 'DECLINE', decline: { offer_ids: [offer.id], filters: { refuse_seconds: 0.1 } } })).status).toBe(202);
    await fetch(`${server.url}/api/v1`, { method: 'POST', headers: { ...OPERATOR, 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'MADE_UP_CALL' }) });
    const after = await scrape();
    expect(sampleValue(after, 'stratus_master_offers_total', { event: 'declined' }) - sampleValue(before, 'stratus_master_offers_total', { event: 'declined' })).toBe(1);
    expect(sampleValue(after, 'stratus_master_api_requests_total', { call: 'operator/UNKNOWN', code: '400' })).toBe(1);
    expect(after.flatMap((m) => m.samples).some((s) => s.labels.call?.includes('MADE_UP'))).toBe(false);
  });

  it('answers /metrics/snapshot and GET_METRICS under Mesos names with the state values', async () => {
    const offersBefore = (await master.registry.listOffers()).length;
    const snap = await mesosSnapshot();
    const offersAfter = (await master.registry.listOffers()).length;
    for (const name of MESOS_MASTER_NAMES) expect(snap, name).toHaveProperty([name]);
    for (const [name, value] of Object.entries(snap)) expect(Number.isFinite(value), name).toBe(true);
    const tasks = await master.registry.listTasks();
    expect(snap['master/tasks_running']).toBe(tasks.filter((t) => t.state === 'RUNNING').length);
    expect(snap['master/tasks_running']).toBe(1);
    expect(snap['master/tasks_finished']).toBe(1);
    expect(snap['master/tasks_failed']).toBe(1);
    expect(snap['master/slaves_active']).toBe(2);
    expect(snap['master/slaves_connected']).toBe(2);
    expect(snap['master/frameworks_connected']).toBe(1);
    expect(snap['master/elected']).toBe(1);
    expect(snap['master/cpus_total']).toBe(8);
    expect(snap['master/cpus_used']).toBe(1);
    expect(snap['master/cpus_percent']).toBe(1 / 8);
    // An allocation round may make or take an offer while the snapshot is read: it is one of the two counts around it.
    expect([offersBefore, offersAfter]).toContain(snap['master/outstanding_offers']);
    expect(snap['master/messages_launch_tasks']).toBe(1);
    expect(snap['master/messages_decline_offers']).toBe(1);
    expect(snap[`master/frameworks/${encodeURIComponent('metrics fw')}/${f.frameworkId}/offers/accepted`]).toBe(1);
    expect(snap['master/task_failed/source_executor/reason_command_executor_failed'] ?? snap['master/tasks_failed']).toBeGreaterThan(0);
    expect(snap['allocator/mesos/allocation_runs']).toBeGreaterThan(0);

    const res = await fetch(`${server.url}/api/v1`, { method: 'POST', headers: { ...OPERATOR, 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'GET_METRICS', get_metrics: { timeout: { nanoseconds: 1e9 } } }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { type: string; get_metrics: { metrics: { name: string; value: number }[] } };
    expect(body.type).toBe('GET_METRICS');
    const byName = new Map(body.get_metrics.metrics.map((m) => [m.name, m.value]));
    for (const name of MESOS_MASTER_NAMES) expect(byName.has(name), name).toBe(true);
    expect(byName.get('master/tasks_running')).toBe(1);
    const bad = await fetch(`${server.url}/api/v1`, { method: 'POST', headers: { ...OPERATOR, 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'GET_METRICS', get_metrics: { timeout: { nanoseconds: -1 } } }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { field: string }).field).toMatch(/^get_metrics\.timeout/);
  });
});
