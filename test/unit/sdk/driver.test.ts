import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UnauthenticatedError } from '../../../src/core/errors.js';
import type { Authenticator } from '../../../src/http/auth.js';
import { mesosResources, SchedulerCallError, SchedulerDriver, type Offer, type SchedulerDriverOptions, type TaskInfo, type TaskStatus } from '../../../src/sdk/index.js';
import { TestCluster } from '../../support/jobs-cluster.js';
import { waitUntil } from '../../support/wait.js';

// The scheduler driver against a real in-process master and simulated agents.

function task(offer: Offer, id: string, command: string, cpus = 0.5, mem = 64): TaskInfo {
  return {
    name: id,
    task_id: { value: id },
    agent_id: { value: offer.agentId },
    resources: mesosResources({ cpus, mem }, offer.role),
    command: { shell: true, value: command },
  };
}

/** Collects what a driver reports. */
class Recorder {
  readonly offers: Offer[] = [];
  readonly updates: TaskStatus[] = [];
  readonly events: string[] = [];
  constructor(readonly driver: SchedulerDriver) {
    driver.on('offers', (o) => void this.offers.push(...o));
    driver.on('update', (s) => void this.updates.push(s));
    for (const name of ['subscribed', 'disconnected', 'error', 'rescind', 'reconciled', 'heartbeat'] as const) driver.on(name, () => void this.events.push(name));
  }
  state(taskId: string, state: string): TaskStatus | undefined {
    return this.updates.find((u) => u.taskId === taskId && u.state === state);
  }
  nextOffer(after = 0): Promise<Offer> {
    return waitUntil(() => this.offers[after], 10_000, 'an offer');
  }
}

describe('SchedulerDriver', () => {
  let cluster: TestCluster;
  const drivers: SchedulerDriver[] = [];
  const servers: Server[] = [];

  function driver(options: Partial<SchedulerDriverOptions> = {}): { d: SchedulerDriver; r: Recorder } {
    const d = new SchedulerDriver({
      master: cluster.url,
      framework: { name: 'sdk-test', user: 'test', failoverTimeoutSeconds: 60 },
      reconnectBackoff: { initialMs: 50, maxMs: 500 },
      reconcile: { backoff: { initialMs: 200, maxMs: 1000, jitter: 0 } },
      ...options,
    });
    drivers.push(d);
    return { d, r: new Recorder(d) };
  }

  afterEach(async () => {
    for (const d of drivers.splice(0)) await d.stop();
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    await cluster?.stop();
  });

  it('subscribes over RecordIO, launches on an offer, and acknowledges updates automatically', async () => {
    cluster = await TestCluster.start();
    const agent = await cluster.addAgent({ hostname: 'h1', zone: 'a' });
    const { d, r } = driver();
    d.start();
    await d.whenSubscribed(5_000);
    expect(d.mode).toBe('stream');
    expect(d.frameworkId).toMatch(/-0000$/);
    const offer = await r.nextOffer();
    expect(offer.resources.cpus).toBe(4);
    expect(offer.attributes).toEqual({ zone: 'a' });
    // The driver's implicit reconciliation after SUBSCRIBE runs beside the offers. Launch after it
    // is answered: a reconcile the master handles after the ACCEPT rightly reports t1 as STAGING.
    await waitUntil(() => r.events.includes('reconciled'), 5_000, 'the implicit reconciliation');
    await d.launch([offer.id], [task(offer, 't1', 'sleep 0.2')]);
    await waitUntil(() => r.state('t1', 'TASK_FINISHED'), 10_000, 'TASK_FINISHED');
    expect(r.updates.filter((u) => u.taskId === 't1').map((u) => u.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    // Every update was acknowledged: the agent's journal drains.
    await waitUntil(() => agent.journal.length === 0, 5_000, 'acknowledgements to reach the agent');
  });

  it('delivers the same lifecycle by long-poll, and falls back to it when the master cannot stream', async () => {
    cluster = await TestCluster.start({ canStream: false });
    await cluster.addAgent({ hostname: 'h1' });
    const { d, r } = driver({ pollWaitSeconds: 1 });
    d.start();
    await d.whenSubscribed(5_000);
    expect(d.mode).toBe('poll');
    const offer = await r.nextOffer();
    await d.launch([offer.id], [task(offer, 'p1', 'run forever')]);
    await waitUntil(() => r.state('p1', 'TASK_RUNNING'), 10_000, 'TASK_RUNNING');
    await d.kill('p1', offer.agentId);
    await waitUntil(() => r.state('p1', 'TASK_KILLED'), 10_000, 'TASK_KILLED');
  });

  it('declines with a refusal filter, suppresses and revives', async () => {
    cluster = await TestCluster.start();
    await cluster.addAgent({ hostname: 'h1' });
    const { d, r } = driver();
    d.start();
    const first = await r.nextOffer();
    await d.suppress();
    await d.decline([first.id], { refuse_seconds: 0 });
    const rounds = cluster.master.leader.stats.rounds;
    await waitUntil(() => cluster.master.leader.stats.rounds >= rounds + 5, 10_000, 'five allocation rounds');
    expect(r.offers).toHaveLength(1); // suppressed: nothing more
    await d.revive();
    const second = await r.nextOffer(1);
    expect(second.agentId).toBe(first.agentId);
    const declinedAt = Date.now();
    await d.decline([second.id], { refuse_seconds: 1 });
    await r.nextOffer(2);
    expect(Date.now() - declinedAt).toBeGreaterThanOrEqual(900);
  });

  it('reports a refused call with the status and the field the master names', async () => {
    cluster = await TestCluster.start();
    const { d } = driver();
    d.start();
    await d.whenSubscribed(5_000);
    const err = await d.suppress(['no-such-role']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerCallError);
    expect(err).toMatchObject({ status: 400, field: 'suppress.roles[0]' });
  });

  it('reconciles after subscribing: known tasks explicitly (unknown ones answered), then implicitly', async () => {
    cluster = await TestCluster.start();
    await cluster.addAgent({ hostname: 'h1' });
    const first = driver();
    first.d.start();
    const offer = await first.r.nextOffer();
    await first.d.launch([offer.id], [task(offer, 'kept', 'run forever')]);
    await waitUntil(() => first.r.state('kept', 'TASK_RUNNING'), 10_000, 'TASK_RUNNING');
    const frameworkId = first.d.frameworkId!;
    await first.d.stop();

    // A new process with the stored framework id: it resubscribes and asks about its tasks.
    const second = driver({ frameworkId, reconcileTasks: () => [{ taskId: 'kept', agentId: offer.agentId }, { taskId: 'ghost' }] });
    const results: { statuses: ReadonlyMap<string, TaskStatus>; unanswered: readonly string[] }[] = [];
    second.d.on('reconciled', (r) => void results.push(r));
    second.d.start();
    const result = await waitUntil(() => results[0], 10_000, 'reconciliation');
    expect(second.d.frameworkId).toBe(frameworkId);
    expect(result.unanswered).toEqual([]);
    expect(result.statuses.get('kept')).toMatchObject({ state: 'TASK_RUNNING', reason: 'REASON_RECONCILIATION' });
    // PARTITION_AWARE (the default capability): a task the master does not know is UNKNOWN.
    expect(result.statuses.get('ghost')?.state).toBe('TASK_UNKNOWN');
    // The implicit reconcile that follows reports the running task once more.
    await waitUntil(() => second.r.updates.filter((u) => u.taskId === 'kept').length >= 2, 5_000, 'the implicit answer');
  });

  it('retries an explicit reconcile with backoff until it is answered', async () => {
    cluster = await TestCluster.start();
    let reconcileCalls = 0;
    let answer = false;
    const fetchSpy: typeof fetch = async (input, init) => {
      if (typeof init?.body === 'string' && init.body.includes('"RECONCILE"') && init.body.includes('late')) {
        reconcileCalls++;
        // The master "loses" the first two explicit requests.
        if (!answer && reconcileCalls < 3) return new Response(null, { status: 202 });
        answer = true;
      }
      return fetch(input, init);
    };
    const spied = driver({ reconcileOnSubscribe: false, fetch: fetchSpy });
    spied.d.start();
    await spied.d.whenSubscribed(5_000);
    const result = await spied.d.reconcileTasks([{ taskId: 'late' }]);
    expect(reconcileCalls).toBe(3);
    expect(result.statuses.get('late')?.state).toBe('TASK_UNKNOWN');
  });

  it('resubscribes with its framework id after the connection drops', async () => {
    cluster = await TestCluster.start();
    await cluster.addAgent({ hostname: 'h1' });
    const { d, r } = driver();
    d.start();
    const offer = await r.nextOffer();
    await d.launch([offer.id], [task(offer, 'survivor', 'run forever')]);
    await waitUntil(() => r.state('survivor', 'TASK_RUNNING'), 10_000, 'TASK_RUNNING');
    const id = d.frameworkId;
    const streamBefore = d.streamId;
    cluster.server.server.closeAllConnections();
    await waitUntil(() => r.events.includes('disconnected'), 5_000, 'disconnected');
    await waitUntil(() => r.events.filter((e) => e === 'subscribed').length === 2, 5_000, 'a second subscription');
    expect(d.frameworkId).toBe(id);
    expect(d.streamId).not.toBe(streamBefore);
    // The reconciliation after resubscribing reports the task that kept running.
    await waitUntil(() => r.updates.some((u) => u.taskId === 'survivor' && u.reason === 'REASON_RECONCILIATION' && u.state === 'TASK_RUNNING'), 5_000, 'the reconcile answer');
    // Calls work on the new stream.
    await d.kill('survivor');
    await waitUntil(() => r.state('survivor', 'TASK_KILLED'), 10_000, 'TASK_KILLED');
  });

  it('treats missed heartbeats as a dropped connection and resubscribes', async () => {
    // A master that subscribes the framework and then goes silent, connection open.
    const subscribes: { frameworkId?: string }[] = [];
    const silent = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const call = JSON.parse(body) as { framework_id?: { value: string } };
        subscribes.push({ ...(call.framework_id ? { frameworkId: call.framework_id.value } : {}) });
        res.writeHead(200, { 'Content-Type': 'application/recordio', 'Mesos-Stream-Id': `s${subscribes.length}` });
        const rec = JSON.stringify({ type: 'SUBSCRIBED', subscribed: { framework_id: { value: 'fw-silent' }, heartbeat_interval_seconds: 1 } });
        res.write(`${Buffer.byteLength(rec)}\n${rec}`);
      });
    });
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cluster = await TestCluster.start();
    const { d, r } = driver({ master: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, heartbeatTimeoutFactor: 1.5, reconcileOnSubscribe: false });
    const started = Date.now();
    d.start();
    await waitUntil(() => subscribes.length >= 2, 6_000, 'a resubscription');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(r.events).toContain('disconnected');
    expect(subscribes[0]).toEqual({});
    expect(subscribes[1]).toEqual({ frameworkId: 'fw-silent' });
  });

  it('stops on an ERROR event when another scheduler takes over its framework id', async () => {
    cluster = await TestCluster.start();
    const first = driver();
    first.d.start();
    await first.d.whenSubscribed(5_000);
    const second = driver({ frameworkId: first.d.frameworkId! });
    second.d.start();
    await second.d.whenSubscribed(5_000);
    await waitUntil(() => first.r.events.includes('error'), 5_000, 'the ERROR event');
    expect(first.d.stopReason).toMatch(/failed over/);
    expect(first.d.subscribed).toBe(false);
    expect(second.d.subscribed).toBe(true);
  });

  it('sends HTTP Basic or bearer credentials, and gives up on a refused subscription', async () => {
    const seen: string[] = [];
    const auth: Authenticator = {
      framework: async (req) => {
        const h = req.headers.authorization ?? '';
        seen.push(h);
        if (h === `Basic ${Buffer.from('jobs:s3cret').toString('base64')}`) return { principal: 'jobs' };
        if (h === 'Bearer tok-1') return { principal: 'tokened' };
        throw new UnauthenticatedError('bad credentials');
      },
      agent: async () => ({}),
      operator: async () => {},
    };
    cluster = await TestCluster.start({ authenticator: auth });
    const basic = driver({ credentials: { principal: 'jobs', secret: 's3cret' } });
    basic.d.start();
    await basic.d.whenSubscribed(5_000);
    const fw = await cluster.master.registry.getFramework(basic.d.frameworkId!);
    expect(fw?.info.principal).toBe('jobs');
    const bearer = driver({ credentials: { token: 'tok-1' } });
    bearer.d.start();
    await bearer.d.whenSubscribed(5_000);
    await bearer.d.revive();
    expect(seen).toContain('Bearer tok-1');
    const wrong = driver({ credentials: { principal: 'jobs', secret: 'nope' } });
    wrong.d.start();
    await waitUntil(() => wrong.r.events.includes('error'), 5_000, 'the refusal');
    expect(wrong.d.stopReason).toMatch(/401/);
  });

  it('updates its framework info and tears down', async () => {
    cluster = await TestCluster.start();
    await cluster.addAgent({ hostname: 'h1' });
    const { d, r } = driver();
    d.start();
    const offer = await r.nextOffer();
    await d.updateFramework({ name: 'sdk-test', user: 'test', labels: { team: 'infra' } });
    expect((await cluster.master.registry.getFramework(d.frameworkId!))?.info.labels).toEqual({ team: 'infra' });
    await d.launch([offer.id], [task(offer, 'doomed', 'run forever')]);
    await waitUntil(() => r.state('doomed', 'TASK_RUNNING'), 10_000, 'TASK_RUNNING');
    const id = d.frameworkId!;
    await d.teardown();
    expect(d.subscribed).toBe(false);
    await waitUntil(async () => (await cluster.master.registry.getTask(id, 'doomed'))?.state === 'KILLED', 10_000, 'the task killed');
  });
});
