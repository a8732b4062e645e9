import { afterAll, beforeAll, expect, it } from 'vitest';
import { Registry } from '../../../src/state/registry.js';
import type { DynamoDbItemStore } from '../../../src/state/dynamodb-item-store.js';
import { describeWith } from '../../support/components.js';
import { freshDynamoStore } from '../../support/dynamodb.js';
import { startMasterProcess, type MasterProcess } from '../../support/master-process.js';
import { frameworkInfo, scalar, StreamingFramework, type Json, type OfferJson } from '../../support/scheduler-client.js';
import { TestAgent } from '../../support/test-agent.js';
import { expectConsistentAccounting } from '../../support/accounting.js';
import { waitUntil } from '../../support/wait.js';

// Three master processes on one DynamoDB table (moto). The leader is killed with SIGKILL
// while a framework launches tasks without pause: a survivor takes over in a new epoch, and
// over 200 launches no task may run twice, get lost, or end unreported. How soon it takes over
// is a figure, not an invariant: the lease's own timing is proven exactly on a fake clock
// (test/unit/master-lambda/leader-loop.test.ts) and measured by `npm run bench -- master-failover`.

const LEASE_MS = 10_000; // the default lease
const LAUNCHES = 200;

await describeWith(['aws'], 'leader failover across master processes', () => {
  let store: DynamoDbItemStore;
  let registry: Registry;
  const masters: MasterProcess[] = [];
  const agents: TestAgent[] = [];
  let f: StreamingFramework;

  beforeAll(async () => {
    store = await freshDynamoStore('failover');
    registry = new Registry(store);
    const env = { STRATUS_TABLE: store.tableName, AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566' };
    // The first master becomes leader; the others stand by and serve calls.
    masters.push(await startMasterProcess('m1', env, ['--lease-ms', String(LEASE_MS)]));
    await waitUntil(async () => (await registry.getLease()).holder === 'm1', 10_000, 'm1 to take the lease', 100);
    masters.push(await startMasterProcess('m2', env, ['--lease-ms', String(LEASE_MS)]));
    masters.push(await startMasterProcess('m3', env, ['--lease-ms', String(LEASE_MS)]));
  }, 90_000);

  afterAll(async () => {
    if (process.env.STRATUS_TEST_TRACE) for (const m of masters) console.log(`--- ${m.name}\n${m.output().slice(-3000)}`);
    f?.close();
    for (const a of agents) await a.stop();
    for (const m of masters) await m.kill();
  });


  it('elects a new leader after a SIGKILL, and 200 launches all run once and report', async () => {
    const standby = masters[1]!; // agents and the framework talk to a master that survives
    for (const z of ['a', 'b', 'c']) {
      agents.push(await new TestAgent({ master: standby.url, hostname: `host-${z}`, cpus: 8, mem: 8192, heartbeatMs: 3_000, resendMs: 1_000, attributes: { zone: z } }).start());
    }
    f = await new StreamingFramework(standby.url).subscribe(frameworkInfo('failover-fw', { failover_timeout: 600 }));

    const attempted: string[] = [];
    const finalState = new Map<string, string>();
    let next = 0;
    let from = 0;
    let killed = false;
    let launching = true;
    const oldEpoch = (await registry.getLease()).epoch;
    // Like a real framework: record every final state and acknowledge updates as they come.
    const FINAL = ['TASK_FINISHED', 'TASK_DROPPED', 'TASK_FAILED', 'TASK_LOST', 'TASK_KILLED', 'TASK_GONE', 'TASK_ERROR'];
    let consumed = 0;
    const regressions: string[] = [];
    let finishBy = Infinity;
    const acking = new Set<Promise<void>>();
    const consumer = (async () => {
      while (launching || !attempted.every((t) => finalState.has(t))) {
        await f.waitFor(() => true, 2_000, consumed).catch((e: unknown) => {
          // A closed stream would spin this loop (and starve every timer): fail instead.
          if (f.closed) throw new Error(`the framework's event stream closed: ${String(e)}`);
        });
        for (; consumed < f.events.length; consumed++) {
          const e = f.events[consumed]!;
          if (e.type !== 'UPDATE') continue;
          const st = e.update!.status;
          // After its terminal update, no earlier state may reach the framework for a task.
          if (finalState.has(st.task_id.value) && !FINAL.includes(st.state)) regressions.push(`${st.task_id.value}: ${finalState.get(st.task_id.value)} then ${st.state}${st.reason ? ` (${st.reason})` : ''}`);
          if (FINAL.includes(st.state)) finalState.set(st.task_id.value, st.state);
          // Acknowledge asynchronously, as a framework does; a few at a time.
          if (st.uuid) {
            while (acking.size >= 8) await Promise.race(acking);
            const p: Promise<void> = f.acknowledge(st).catch(() => undefined).finally(() => acking.delete(p));
            acking.add(p);
          }
        }
        if (!launching && Date.now() > finishBy) return;
      }
    })();
    // Awaited below; if a launch fails first, its stream closing must not also surface as unhandled.
    consumer.catch(() => undefined);

    const deadline = Date.now() + 240_000;
    while (attempted.length < LAUNCHES && Date.now() < deadline) {
      const { event, index } = await f.waitFor((e) => e.type === 'OFFERS', 60_000, from);
      from = index + 1;
      if (process.env.STRATUS_TEST_TRACE) console.log(`${Date.now() % 1_000_000} offers=${event.offers!.offers.length} attempted=${attempted.length} final=${finalState.size} epoch=${(await registry.getLease()).epoch}`);
      for (const offer of event.offers!.offers as OfferJson[]) {
        // Up to 12 short tasks per offer, each 0.5 CPU.
        const n = Math.min(12, Math.floor(scalar(offer, 'cpus') / 0.5), LAUNCHES - attempted.length);
        if (n <= 0) continue;
        const tasks = Array.from({ length: n }, () => `task-${next++}`);
        attempted.push(...tasks);
        const r = await f.call({
          type: 'ACCEPT',
          accept: {
            offer_ids: [offer.id],
            operations: [{ type: 'LAUNCH', launch: { task_infos: tasks.map((id) => ({ name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 32 } }], command: { value: 'sleep 0.5' } })) } }],
            filters: { refuse_seconds: 0 },
          },
        } as Json);
        expect(r.status).toBe(202);
      }
      if (!killed && attempted.length >= 50) {
        killed = true;
        await masters[0]!.kill('SIGKILL');
      }
      // Reconciles now and then, as frameworks do after a failover: answers race the updates.
      if (killed && attempted.length % 48 < 12) await f.call({ type: 'RECONCILE', reconcile: { tasks: [] } } as Json);
    }
    launching = false;
    finishBy = Date.now() + 180_000;
    expect(attempted).toHaveLength(LAUNCHES);
    // A survivor holds the lease in a later epoch (one epoch per holder: the lease's own check).
    const lease = await waitUntil(async () => {
      const l = await registry.getLease();
      return l.epoch > oldEpoch && l.holder && l.holder !== 'm1' ? l : undefined;
    }, 3 * LEASE_MS, 'a survivor to take the lease', 100);
    expect(['m2', 'm3']).toContain(lease.holder);

    // Every attempted task ends, and the framework hears its final state: FINISHED if it ran,
    // DROPPED if its offer died with the old leader.
    await consumer;
    // Explicitly, every task is answered with its final state.
    const mark = f.events.length;
    await f.call({ type: 'RECONCILE', reconcile: { tasks: attempted.slice(0, 50).map((t) => ({ task_id: { value: t } })) } } as Json);
    await f.waitFor(() => f.events.slice(mark).filter((e) => e.type === 'UPDATE' && e.update!.status.reason === 'REASON_RECONCILIATION').length >= 50, 60_000, mark);
    for (const e of f.events.slice(mark)) {
      const st = e.type === 'UPDATE' ? e.update!.status : undefined;
      if (st?.reason === 'REASON_RECONCILIATION' && finalState.has(st.task_id.value)) expect(st.state, st.task_id.value).toBe(finalState.get(st.task_id.value));
    }
    expect(regressions, 'non-terminal updates after a terminal one').toEqual([]);
    const missing = attempted.filter((t) => !finalState.has(t));
    expect(missing, `tasks without a final state: ${missing.slice(0, 10).join(', ')}`).toEqual([]);
    const states = [...finalState.values()];
    expect(states.every((s) => s === 'TASK_FINISHED' || s === 'TASK_DROPPED')).toBe(true);
    // No task id launched twice, on one agent or across agents.
    const launched = agents.flatMap((a) => a.launched);
    expect(new Set(launched).size).toBe(launched.length);
    // Every task the agents ran is one the framework saw FINISHED, and vice versa.
    const ran = new Set(launched.map((k) => k.split('/')[1]!));
    for (const t of attempted) expect(finalState.get(t) === 'TASK_FINISHED', t).toBe(ran.has(t));
    expect(states.filter((s) => s === 'TASK_FINISHED').length).toBeGreaterThan(LAUNCHES / 2);
  }, 480_000);
  it('keeps every agent\'s offered and allocated equal to its offers and tasks', async () => {
    // All at once, so no survivor takes the lease over and starts a new term while we look.
    const t = Date.now();
    await Promise.all(masters.map((m) => m.kill('SIGTERM')));
    if (process.env.STRATUS_TEST_TRACE) console.log(`masters stopped in ${Date.now() - t} ms`);
    await expectConsistentAccounting(registry);
  }, 120_000);
});
