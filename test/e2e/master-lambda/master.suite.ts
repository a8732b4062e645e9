import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resources } from '../../../src/core/resources.js';
import { createLogger, silentLogger } from '../../../src/core/logger.js';
import { Master } from '../../../src/master-lambda/master.js';
import { startLocalServer, type RunningServer } from '../../../src/master-lambda/local-server.js';
import type { ItemStore } from '../../../src/state/item-store.js';
import { frameworkInfo, launchCall, scalar, schedulerPost, StreamingFramework, type OfferJson, type SchedulerEventJson } from '../../support/scheduler-client.js';
import { TestAgent } from '../../support/test-agent.js';
import { expectConsistentAccounting } from '../../support/accounting.js';
import { waitUntil } from '../../support/wait.js';

// The master end to end over HTTP, as a Mesos framework sees it (no SDK), on one store.

export interface MasterE2EOptions {
  /** Fewer agents on slow stores (moto). */
  readonly drfAgents: number;
  /** Master and agent timings: fast on the in-memory store, production-like on moto. */
  readonly timing: { pollIntervalMs: number; allocationIntervalMs: number; leaseDurationMs: number; agentHeartbeatMs: number };
}

export function masterE2E(name: string, makeStore: () => Promise<ItemStore>, opts: MasterE2EOptions): void {
  describe(`master end to end on ${name}`, () => {
    let master: Master;
    let server: RunningServer;
    let agents: TestAgent[];
    let frameworks: StreamingFramework[];

    async function boot(agentCount: number, agentOpts: Partial<ConstructorParameters<typeof TestAgent>[0]> = {}): Promise<void> {
      master = new Master({
        store: await makeStore(),
        log: process.env.STRATUS_TEST_LOG ? createLogger('test-master', 'debug') : silentLogger,
        config: { allocationIntervalMs: opts.timing.allocationIntervalMs, leaseDurationMs: opts.timing.leaseDurationMs, pollIntervalMs: opts.timing.pollIntervalMs, heartbeatIntervalSeconds: 1 },
      });
      server = await startLocalServer(master, { port: 0 });
      master.start();
      for (let i = 0; i < agentCount; i++) {
        agents.push(
          await new TestAgent({ master: server.url, hostname: `agent-${i}`, attributes: { zone: ['a', 'b', 'c'][i % 3]! }, resendMs: 500, heartbeatMs: opts.timing.agentHeartbeatMs, ...agentOpts }).start(),
        );
      }
    }

    async function framework(info = frameworkInfo('e2e')): Promise<StreamingFramework> {
      const f = await new StreamingFramework(server.url).subscribe(info);
      frameworks.push(f);
      return f;
    }

    beforeEach(() => {
      agents = [];
      frameworks = [];
    });

    afterEach(async () => {
      for (const f of frameworks) f.close();
      for (const a of agents) await a.stop();
      await master?.stop();
      await server?.close();
      if (master) await expectConsistentAccounting(master.registry);
    });

    it('runs a task through the RecordIO stream: offers, launch, RUNNING, FINISHED, acknowledged', async () => {
      await boot(1);
      const f = await framework();
      expect(f.streamId).toMatch(/[0-9a-f-]{36}/);
      const offer = await f.nextOffer();
      expect(scalar(offer, 'cpus')).toBe(4);
      expect(offer.attributes?.find((a) => a.name === 'zone')?.text.value).toBe('a');
      const r = await f.call(launchCall(offer, [{ id: 't1', cpus: 1, mem: 128, command: 'sleep 0.3' }]));
      expect(r.status).toBe(202);
      await f.waitForState('t1', 'TASK_STARTING');
      const running = await f.waitForState('t1', 'TASK_RUNNING');
      expect(running.uuid).toBeTruthy();
      const finished = await f.waitForState('t1', 'TASK_FINISHED').catch(async (e: unknown) => {
        const t = await master.registry.getTask(f.frameworkId, 't1');
        throw new Error(`${(e as Error).message.slice(0, 200)}\nDEBUG journal=${JSON.stringify(agents[0]!.journal)}\nDEBUG states=${JSON.stringify([...agents[0]!.states])}\nDEBUG task=${JSON.stringify(t)}`);
      });
      expect(finished.agent_id.value).toBe(agents[0]!.agentId);
      // The acknowledgements reach the agent, which empties its journal.
      await waitUntil(() => agents[0]!.journal.length === 0, 10_000);
      const task = await master.registry.getTask(f.frameworkId, 't1');
      expect(task?.state).toBe('FINISHED');
      // The task's resources returned to the agent.
      await waitUntil(async () => (await master.registry.getAgent(agents[0]!.agentId!))?.allocated.cpus === 0, 5_000);
    });

    it('delivers the same lifecycle by long-poll with a cursor', async () => {
      await boot(1);
      const sub = await schedulerPost(server.url, { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo('poller') } }, { 'Stratus-Event-Mode': 'poll' });
      expect(sub.status).toBe(200);
      const streamId = sub.headers.get('mesos-stream-id')!;
      const fid = ((sub.json!.events as SchedulerEventJson[])[0]!.subscribed!.framework_id.value);
      let cursor = sub.json!.cursor as number;
      const seen: SchedulerEventJson[] = [];
      const pages: string[] = [];
      const poll = async (): Promise<void> => {
        const started = Date.now();
        const res = await fetch(`${server.url}/api/v1/scheduler/events?framework_id=${fid}&cursor=${cursor}&wait_seconds=5`, { headers: { 'Mesos-Stream-Id': streamId } });
        expect(res.status).toBe(200);
        const page = (await res.json()) as { events: SchedulerEventJson[]; cursor: number };
        pages.push(`${Date.now() - started}ms c=${cursor}->${page.cursor} [${page.events.map((e) => e.type).join(',')}]`);
        seen.push(...page.events);
        cursor = page.cursor;
      };
      const until = async (pred: () => boolean): Promise<void> => {
        for (let i = 0; i < 40 && !pred(); i++) await poll();
        if (!pred()) throw new Error(`condition not met; polls: ${pages.slice(-12).join(' | ')}`);
      };
      await until(() => seen.some((e) => e.type === 'OFFERS'));
      const offer = seen.find((e) => e.type === 'OFFERS')!.offers!.offers[0]!;
      const call = (body: Record<string, unknown>) => schedulerPost(server.url, { framework_id: { value: fid }, ...body }, { 'Mesos-Stream-Id': streamId });
      expect((await call(launchCall(offer, [{ id: 'p1', cpus: 0.5, mem: 64, command: 'sleep 0.2' }]))).status).toBe(202);
      const stateOf = (s: string) => seen.find((e) => e.type === 'UPDATE' && e.update!.status.state === s);
      await until(() => stateOf('TASK_RUNNING') !== undefined);
      for (const s of ['TASK_STARTING', 'TASK_RUNNING']) {
        const st = stateOf(s)!.update!.status;
        expect((await call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: st.agent_id, task_id: st.task_id, uuid: st.uuid } })).status).toBe(202);
      }
      await until(() => stateOf('TASK_FINISHED') !== undefined);
      // An empty long-poll returns no events after its wait, with the cursor unchanged.
      const before = cursor;
      const res = await fetch(`${server.url}/api/v1/scheduler/events?framework_id=${fid}&cursor=${cursor + 1000}&wait_seconds=0.2`, { headers: { 'Mesos-Stream-Id': streamId } });
      expect(((await res.json()) as { events: unknown[] }).events).toEqual([]);
      expect(cursor).toBe(before);
    });

    it('requires the stream id on calls: missing is 400, another stream is 403', async () => {
      await boot(0);
      const f = await framework();
      const noHeader = await schedulerPost(server.url, { type: 'REVIVE', framework_id: { value: f.frameworkId } });
      expect(noHeader.status).toBe(400);
      expect(noHeader.json).toMatchObject({ field: 'Mesos-Stream-Id' });
      const other = await schedulerPost(server.url, { type: 'REVIVE', framework_id: { value: f.frameworkId } }, { 'Mesos-Stream-Id': 'someone-else' });
      expect(other.status).toBe(403);
      const g = await framework(frameworkInfo('other'));
      const cross = await schedulerPost(server.url, { type: 'REVIVE', framework_id: { value: f.frameworkId } }, { 'Mesos-Stream-Id': g.streamId });
      expect(cross.status).toBe(403);
      expect((await f.call({ type: 'REVIVE' })).status).toBe(202);
    });

    it('keeps a declined agent away for refuse_seconds', async () => {
      await boot(1);
      const f = await framework();
      const first = await f.waitFor((e) => e.type === 'OFFERS');
      const offer = first.event.offers!.offers[0]!;
      const declinedAt = Date.now();
      expect((await f.call({ type: 'DECLINE', decline: { offer_ids: [offer.id], filters: { refuse_seconds: 2 } } })).status).toBe(202);
      const next = await f.waitFor((e) => e.type === 'OFFERS', 10_000, first.index + 1);
      expect(Date.now() - declinedAt).toBeGreaterThanOrEqual(1900);
      expect(next.event.offers!.offers[0]!.agent_id.value).toBe(offer.agent_id.value);
    });

    it('kills a running task: KILLED', async () => {
      await boot(1);
      const f = await framework();
      const offer = await f.nextOffer();
      await f.call(launchCall(offer, [{ id: 'long', cpus: 1, mem: 64, command: 'run forever' }]));
      await f.waitForState('long', 'TASK_RUNNING');
      expect((await f.call({ type: 'KILL', kill: { task_id: { value: 'long' }, agent_id: offer.agent_id } })).status).toBe(202);
      await f.waitForState('long', 'TASK_KILLED');
    });

    it('reconciles explicitly and implicitly, and answers unknown tasks with LOST (UNKNOWN when partition-aware)', async () => {
      await boot(1);
      const f = await framework();
      const offer = await f.nextOffer();
      await f.call(launchCall(offer, [{ id: 'r1', cpus: 1, mem: 64, command: 'run forever' }]));
      await f.waitForState('r1', 'TASK_RUNNING');
      const mark = f.events.length;
      await f.call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'r1' } }, { task_id: { value: 'ghost' } }] } });
      const known = await f.waitFor((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === 'r1' && e.update!.status.reason === 'REASON_RECONCILIATION', 10_000, mark);
      expect(known.event.update!.status.state).toBe('TASK_RUNNING');
      expect(known.event.update!.status.uuid).toBeUndefined();
      const ghost = await f.waitFor((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === 'ghost', 10_000, mark);
      expect(ghost.event.update!.status.state).toBe('TASK_LOST');
      const mark2 = f.events.length;
      await f.call({ type: 'RECONCILE', reconcile: { tasks: [] } });
      const implicit = await f.waitFor((e) => e.type === 'UPDATE' && e.update!.status.reason === 'REASON_RECONCILIATION', 10_000, mark2);
      expect(implicit.event.update!.status.task_id.value).toBe('r1');

      const pa = await framework(frameworkInfo('pa', { capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }] }));
      await pa.call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'ghost' } }] } });
      const unknown = await pa.waitFor((e) => e.type === 'UPDATE');
      expect(unknown.event.update!.status.state).toBe('TASK_UNKNOWN');
    });

    it('drops the tasks of an invalid offer and never launches a retried ACCEPT twice', async () => {
      await boot(1);
      const f = await framework();
      const offer = await f.nextOffer();
      const call = launchCall(offer, [{ id: 'once', cpus: 1, mem: 64, command: 'run forever' }]);
      expect((await f.call(call)).status).toBe(202);
      expect((await f.call(call)).status).toBe(202); // a retry: offer consumed, task exists
      await f.waitForState('once', 'TASK_RUNNING');
      expect(agents[0]!.launched.filter((k) => k.endsWith('/once'))).toHaveLength(1);
      expect(f.events.some((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === 'once' && e.update!.status.state === 'TASK_DROPPED')).toBe(false);
      // A new task on the consumed offer is dropped, with Mesos's reason.
      await f.call(launchCall(offer, [{ id: 'late', cpus: 1, mem: 64, command: 'run forever' }]));
      const dropped = await f.waitFor((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === 'late');
      expect(dropped.event.update!.status).toMatchObject({ state: 'TASK_DROPPED', reason: 'REASON_INVALID_OFFERS' });
      expect(await master.registry.getTask(f.frameworkId, 'late')).toBeUndefined();
    });

    it('answers an invalid task in a valid offer with TASK_ERROR and launches the rest', async () => {
      await boot(1);
      const f = await framework();
      const offer = await f.nextOffer();
      await f.call(launchCall(offer, [
        { id: 'fits', cpus: 1, mem: 64, command: 'run forever' },
        { id: 'too-big', cpus: 64, mem: 64, command: 'run forever' },
      ]));
      const err = await f.waitFor((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === 'too-big');
      expect(err.event.update!.status).toMatchObject({ state: 'TASK_ERROR', reason: 'REASON_TASK_INVALID' });
      expect(err.event.update!.status.message).toMatch(/cpus/);
      await f.waitForState('fits', 'TASK_RUNNING');
    });

    it('rescinds offers that are not used within the offer timeout', async () => {
      master = new Master({ store: await makeStore(), log: silentLogger, config: { allocationIntervalMs: opts.timing.allocationIntervalMs, offerTimeoutMs: 500, pollIntervalMs: opts.timing.pollIntervalMs, leaseDurationMs: opts.timing.leaseDurationMs } });
      server = await startLocalServer(master, { port: 0 });
      master.start();
      agents.push(await new TestAgent({ master: server.url, hostname: 'x' }).start());
      const f = await framework();
      const offer = await f.nextOffer();
      const rescind = await f.waitFor((e) => e.type === 'RESCIND' && e.rescind!.offer_id.value === offer.id.value);
      expect(rescind.index).toBeGreaterThan(0);
      const r = await f.call(launchCall(offer, [{ id: 'stale', cpus: 1, mem: 64, command: 'x' }]));
      expect(r.status).toBe(202);
      await f.waitFor((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === 'stale' && e.update!.status.state === 'TASK_DROPPED');
    });

    it('shares a saturated cluster 1:3 between roles of weights 1 and 3 (DRF), and never offers a role beyond its quota', async () => {
      await boot(0);
      await master.registry.transaction().putRole({ name: 'light', weight: 1 }, 'absent').putRole({ name: 'heavy', weight: 3 }, 'absent').commit();
      await master.registry.transaction().putRole({ name: 'capped', weight: 1, quotaLimit: { cpus: resources({ cpus: 2 }).cpus } }, 'absent').commit();
      // The frameworks are there before the capacity: DRF shares what arrives (there is no preemption).
      const light = await framework(frameworkInfo('light', { roles: ['light'] }));
      const heavy = await framework(frameworkInfo('heavy', { roles: ['heavy'] }));
      const capped = await framework(frameworkInfo('capped', { roles: ['capped'] }));
      const n = opts.drfAgents;
      for (let i = 0; i < n; i++) agents.push(await new TestAgent({ master: server.url, hostname: `drf-${i}`, cpus: 1, mem: 1024, heartbeatMs: opts.timing.agentHeartbeatMs }).start());
      // Every framework accepts every offer in full with a long-running task.
      const held = new Map<StreamingFramework, number>([[light, 0], [heavy, 0], [capped, 0]]);
      let maxCappedOffered = 0;
      const accepting = [light, heavy, capped].map(async (f) => {
        let from = 0;
        let k = 0;
        for (;;) {
          let got: { event: SchedulerEventJson; index: number };
          try {
            got = await f.waitFor((e) => e.type === 'OFFERS', 3000, from);
          } catch {
            return; // no offer for a while: the cluster is saturated
          }
          from = got.index + 1;
          const offers = got.event.offers!.offers;
          if (f === capped) maxCappedOffered = Math.max(maxCappedOffered, held.get(f)! + offers.reduce((s, o) => s + scalar(o, 'cpus'), 0));
          for (const o of offers) {
            // The whole offer, so nothing is left over to be offered again in pieces.
            const cpus = scalar(o, 'cpus');
            await f.call(launchCall(o as OfferJson, [{ id: `t${k++}`, cpus, mem: scalar(o, 'mem'), command: 'run forever' }]));
            held.set(f, held.get(f)! + cpus);
          }
        }
      });
      await Promise.all(accepting);
      const l = held.get(light)!;
      const h = held.get(heavy)!;
      expect(held.get(capped)!).toBeLessThanOrEqual(2);
      expect(maxCappedOffered).toBeLessThanOrEqual(2);
      expect(l + h + held.get(capped)!).toBeGreaterThanOrEqual(n - 0.001); // saturated
      const ratio = h / l;
      expect(ratio).toBeGreaterThan(3 * 0.9);
      expect(ratio).toBeLessThan(3 * 1.1);
    }, 120_000);

    it('tears a framework down: its tasks are killed and its calls refused', async () => {
      await boot(1);
      const f = await framework();
      const offer = await f.nextOffer();
      await f.call(launchCall(offer, [{ id: 'doomed', cpus: 1, mem: 64, command: 'run forever' }]));
      await f.waitForState('doomed', 'TASK_RUNNING');
      expect((await f.call({ type: 'TEARDOWN' })).status).toBe(202);
      await waitUntil(async () => (await master.registry.getTask(f.frameworkId, 'doomed'))?.state === 'KILLED', 10_000);
      expect((await f.call({ type: 'REVIVE' })).status).toBe(403);
    });

    it('resubscribes with the framework id: a new stream, the old one refused', async () => {
      await boot(1);
      const f = await framework();
      const offer = await f.nextOffer();
      await f.call(launchCall(offer, [{ id: 'kept', cpus: 1, mem: 64, command: 'run forever' }]));
      await f.waitForState('kept', 'TASK_RUNNING');
      const again = await new StreamingFramework(server.url).subscribe(frameworkInfo('e2e'), f.frameworkId);
      frameworks.push(again);
      expect(again.frameworkId).toBe(f.frameworkId);
      expect(again.streamId).not.toBe(f.streamId);
      await f.waitFor((e) => e.type === 'ERROR', 10_000);
      expect((await f.call({ type: 'REVIVE' })).status).toBe(403);
      expect((await again.call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'kept' } }] } })).status).toBe(202);
      // Updates the old stream had not acknowledged yet may come again first (as in Mesos): the
      // reconciliation answer is the one that says REASON_RECONCILIATION.
      const r = await again.waitFor((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === 'kept' && e.update!.status.reason === 'REASON_RECONCILIATION');
      expect(r.event.update!.status.state).toBe('TASK_RUNNING');
    });
  });
}

