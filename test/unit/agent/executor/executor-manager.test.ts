import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentId } from '../../../../src/core/ids.js';
import type { JsonValue } from '../../../../src/core/json.js';
import { silentLogger } from '../../../../src/core/logger.js';
import { resources } from '../../../../src/core/resources.js';
import { decodeTaskInfo } from '../../../../src/master-lambda/codec/task-info.js';
import type { ContainerStatus, LaunchRequest } from '../../../../src/agent/containerizer/containerizer.js';
import type { ContainerizerSet, RunningContainer } from '../../../../src/agent/containerizers.js';
import { decodeExecutorCall } from '../../../../src/agent/executor/executor-call.js';
import type { EventChannel } from '../../../../src/agent/executor/event-channel.js';
import { ExecutorManager } from '../../../../src/agent/executor/executor-manager.js';
import type { LaunchWork, StatusUpdate } from '../../../../src/wire/agent-api.js';
import { ApiError } from '../../../../src/wire/api-error.js';
import { StratusError } from '../../../../src/core/errors.js';
import { waitUntil } from '../../../support/wait.js';

// The executor manager's state machine against a fake containerizer: tasks wait for SUBSCRIBE,
// updates are journaled once and ACKNOWLEDGED, kills, the executor's end, idle shutdown, the
// re-subscription rule of Mesos, and calls that are refused changing nothing.

class FakeContainers {
  readonly launched: LaunchRequest[] = [];
  readonly killed: string[] = [];
  readonly infos = new Map<string, RunningContainer>();
  private readonly c = {
    kind: 'process' as const,
    launch: async (req: LaunchRequest): Promise<ContainerStatus> => {
      this.launched.push(req);
      const status: ContainerStatus = { frameworkId: req.frameworkId, taskId: req.taskId, containerId: `c${this.launched.length}`, state: 'RUNNING', timestamp: 1 };
      this.infos.set(`${req.frameworkId}/${req.taskId}`, { ...status, status, engineId: '1', sandboxDir: req.sandboxDir ?? '', containerizer: 'process' });
      return status;
    },
    kill: async (ref: { frameworkId: string; taskId: string }) => {
      this.killed.push(ref.taskId);
      return true;
    },
    destroy: async () => undefined,
  };
  pick() {
    return this.c;
  }
  owner(ref: { frameworkId: string; taskId: string }) {
    return this.infos.has(`${ref.frameworkId}/${ref.taskId}`) ? this.c : undefined;
  }
  containers(): RunningContainer[] {
    return [...this.infos.values()];
  }
}

const cpusMem = [
  { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } },
  { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
];
function work(taskId: string, executorId = 'E1', name = 'exec'): LaunchWork {
  const d = decodeTaskInfo(
    { name: taskId, task_id: { value: taskId }, agent_id: { value: 'A1' }, resources: cpusMem, data: 'aGk=', executor: { executor_id: { value: executorId }, name, command: { value: './run' }, resources: cpusMem } },
    't',
  );
  return { framework_id: 'F1', task_id: taskId, resources: d.resources, spec: d.spec };
}

let dir: string;
let fake: FakeContainers;
let reported: StatusUpdate[];
let sent: { data: string }[];
let m: ExecutorManager;
/** Lets the launch's promise chain run (the fake containerizer answers at once). */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
const uuid = (n: number) => Buffer.alloc(16, n).toString('base64');

function manager(): ExecutorManager {
  const x = new ExecutorManager({
    workDir: dir,
    log: silentLogger,
    agentId: () => 'A1' as AgentId,
    containers: () => fake as unknown as ContainerizerSet,
    endpoint: () => '127.0.0.1:5051',
    hostname: () => 'host',
    report: (u) => reported.push(u),
    sendMessages: async (ms) => void sent.push(...ms),
    timing: { shutdownGraceMs: 60_000 },
  });
  x.load('A1' as AgentId);
  return x;
}

const token = (): string => fake.launched.at(-1)!.spec.command!.environment!.MESOS_EXECUTOR_AUTHENTICATION_TOKEN!;
const call = (body: Record<string, unknown>) => decodeExecutorCall({ framework_id: { value: 'F1' }, executor_id: { value: 'E1' }, ...body });
const status = (taskId: string, state: string, n: number) => ({ task_id: { value: taskId }, state, uuid: uuid(n) });

async function drain(ch: EventChannel): Promise<{ type: string } & Record<string, JsonValue>[]> {
  ch.close();
  const out: ({ type: string } & Record<string, JsonValue>)[] = [];
  for await (const e of ch) out.push(e as { type: string } & Record<string, JsonValue>);
  return out as never;
}

function subscribe(extra: Record<string, unknown> = {}): EventChannel {
  return m.subscribe(call({ type: 'SUBSCRIBE', subscribe: extra }), { bearer: token() }, undefined).channel;
}

function refusal(f: () => unknown): { status: number | string; field: string | undefined } | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return { status: e.status, field: e.field };
    if (e instanceof StratusError) return { status: e.code, field: e.field };
    throw e;
  }
  return undefined;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stratus-exec-unit-'));
  fake = new FakeContainers();
  reported = [];
  sent = [];
  m = manager();
});
afterEach(() => {
  m.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ExecutorManager', () => {
  it("launches the executor once with Mesos's environment; its tasks wait for SUBSCRIBE", async () => {
    expect(m.launch(work('t1'))).toBe(true);
    expect(m.launch(work('t1'))).toBe(false); // the master's repeat
    expect(m.launch(work('t2'))).toBe(true);
    await settle();
    expect(fake.launched).toHaveLength(1);
    const env = fake.launched[0]!.spec.command!.environment!;
    expect(env).toMatchObject({ MESOS_FRAMEWORK_ID: 'F1', MESOS_EXECUTOR_ID: 'E1', MESOS_AGENT_ENDPOINT: '127.0.0.1:5051', MESOS_SLAVE_ID: 'A1', MESOS_AGENT_ID: 'A1', MESOS_CHECKPOINT: '1', MESOS_HTTP_COMMAND_EXECUTOR: '0' });
    expect(env.MESOS_SANDBOX).toBe(env.MESOS_DIRECTORY);
    expect(fake.launched[0]!.resources).toMatchObject(resources({ cpus: 0.5, mem: 32 }));
    expect(m.reportedTasks()).toEqual([
      { framework_id: 'F1', task_id: 't1', state: 'TASK_STAGING' },
      { framework_id: 'F1', task_id: 't2', state: 'TASK_STAGING' },
    ]);
    const events = await drain(subscribe());
    expect(events.map((e) => e.type)).toEqual(['SUBSCRIBED', 'LAUNCH', 'LAUNCH']);
    expect(events[0]).toMatchObject({ subscribed: { executor_info: { executor_id: { value: 'E1' }, framework_id: { value: 'F1' } }, framework_info: { id: { value: 'F1' } }, agent_info: { id: { value: 'A1' }, port: 5051 }, container_id: { value: 'c1' } } });
    expect(events[1]).toMatchObject({ launch: { task: { task_id: { value: 't1' }, data: 'aGk=', executor: { executor_id: { value: 'E1' } } } } });
  });

  it('journals each update once, ACKNOWLEDGED back; another executor, a task not its own, or a bad token change nothing', async () => {
    m.launch(work('t1'));
    await settle();
    const { channel: ch, streamId } = m.subscribe(call({ type: 'SUBSCRIBE' }), { bearer: token() }, undefined);
    m.update(call({ type: 'UPDATE', update: { status: status('t1', 'TASK_RUNNING', 1) } }), { bearer: token() });
    // The subscription's stream id proves the caller too (pymesos sends it, and no token).
    m.update(call({ type: 'UPDATE', update: { status: status('t1', 'TASK_RUNNING', 1) } }), { streamId });
    expect(reported.map((u) => [u.state, u.source, u.uuid])).toEqual([['TASK_RUNNING', 'SOURCE_EXECUTOR', uuid(1)]]);
    expect(refusal(() => m.update(call({ type: 'UPDATE', update: { status: status('other', 'TASK_FAILED', 2) } }), { bearer: token() }))).toEqual({ status: 'FORBIDDEN', field: 'update.status.task_id' });
    expect(refusal(() => m.update(call({ type: 'UPDATE', update: { status: status('t1', 'TASK_FAILED', 3) } }), { bearer: 'x'.repeat(43) }))).toEqual({ status: 401, field: 'Authorization' });
    expect(refusal(() => m.update(call({ type: 'UPDATE', update: { status: status('t1', 'TASK_FAILED', 3) } }), {}))).toEqual({ status: 401, field: 'Authorization' });
    expect(refusal(() => m.update(decodeExecutorCall({ framework_id: { value: 'F1' }, executor_id: { value: 'E9' }, type: 'UPDATE', update: { status: status('t1', 'TASK_FAILED', 3) } }), { bearer: token() }))).toEqual({ status: 'NOT_FOUND', field: 'executor_id' });
    expect(refusal(() => m.subscribe(call({ type: 'SUBSCRIBE', subscribe: { unacknowledged_updates: [{ status: status('nope', 'TASK_RUNNING', 4) }] } }), { bearer: token() }, undefined))).toEqual({
      status: 'FORBIDDEN',
      field: 'subscribe.unacknowledged_updates[0].status.task_id',
    });
    expect(ch.closed).toBe(false); // the refused SUBSCRIBE did not replace the subscription
    expect(reported).toHaveLength(1);
    expect(refusal(() => m.message(call({ type: 'MESSAGE', message: { data: 'aGk=' } }), { streamId: 'wrong' }))).toEqual({ status: 401, field: 'Authorization' });
    m.message(call({ type: 'MESSAGE', message: { data: 'aGk=' } }), { streamId });
    await settle();
    expect(sent).toEqual([{ framework_id: 'F1', executor_id: 'E1', data: 'aGk=' }]);
    const events = await drain(ch);
    expect(events.filter((e) => e.type === 'ACKNOWLEDGED')).toEqual([
      { type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: 't1' }, uuid: uuid(1) } },
      { type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: 't1' }, uuid: uuid(1) } },
    ]);
  });

  it('shuts an executor down once its last task ended; no update may follow a terminal one', async () => {
    m.launch(work('t1'));
    await settle();
    const ch = subscribe();
    m.update(call({ type: 'UPDATE', update: { status: status('t1', 'TASK_FINISHED', 1) } }), { bearer: token() });
    expect(refusal(() => m.update(call({ type: 'UPDATE', update: { status: status('t1', 'TASK_RUNNING', 2) } }), { bearer: token() }))).toEqual({ status: 409, field: 'update.status.state' });
    expect((await drain(ch)).map((e) => e.type)).toEqual(['SUBSCRIBED', 'LAUNCH', 'ACKNOWLEDGED', 'SHUTDOWN']);
    // Subscribing again does not get it out of its shutdown.
    expect((await drain(subscribe())).map((e) => e.type)).toEqual(['SUBSCRIBED', 'SHUTDOWN']);
    // A task for the same executor id now waits for a new executor.
    m.launch(work('t2'));
    expect(fake.launched).toHaveLength(1);
  });

  it("ends the tasks of an executor whose container ended: FAILED (KILLED when a kill was asked), REASON_EXECUTOR_TERMINATED", async () => {
    m.launch(work('t1'));
    m.launch(work('t2'));
    await settle();
    subscribe();
    m.update(call({ type: 'UPDATE', update: { status: status('t1', 'TASK_RUNNING', 1) } }), { bearer: token() });
    expect(m.kill({ frameworkId: 'F1' as never, taskId: 't2' as never }, 1000)).toBe(true);
    m.containerStatus({ frameworkId: 'F1' as never, taskId: fake.launched[0]!.taskId, containerId: 'c1', state: 'FAILED', exitCode: 3, timestamp: 2 });
    expect(reported.slice(1).map((u) => [u.task_id, u.state, u.reason, u.source])).toEqual([
      ['t1', 'TASK_FAILED', 'REASON_EXECUTOR_TERMINATED', 'SOURCE_AGENT'],
      ['t2', 'TASK_KILLED', 'REASON_EXECUTOR_TERMINATED', 'SOURCE_AGENT'],
    ]);
    expect(reported[1]!.message).toMatch(/exit status 3/);
    expect(m.reportedTasks()).toEqual([]);
  });

  it('kills a task the executor never received at once; a task handed out before a restart that the executor does not know is LOST', async () => {
    m.launch(work('t1'));
    await settle();
    expect(m.kill({ frameworkId: 'F1' as never, taskId: 't1' as never }, undefined)).toBe(true);
    expect(reported.map((u) => [u.state, u.reason])).toEqual([['TASK_KILLED', 'REASON_TASK_KILLED_DURING_LAUNCH']]);

    m.launch(work('t2'));
    m.launch(work('t3'));
    subscribe();
    m.update(call({ type: 'UPDATE', update: { status: status('t3', 'TASK_RUNNING', 5) } }), { bearer: token() });
    // The agent restarts: a new manager reads the checkpoint and finds the container.
    m.close();
    m = manager();
    m.afterRecovery(fake as unknown as ContainerizerSet, false);
    expect(m.reportedTasks().map((t) => [t.task_id, t.state])).toEqual([
      ['t2', 'TASK_STAGING'],
      ['t3', 'TASK_RUNNING'],
    ]);
    const events = await drain(subscribe({ unacknowledged_tasks: [], unacknowledged_updates: [{ status: status('t3', 'TASK_RUNNING', 5) }] }));
    expect(reported.at(-1)).toMatchObject({ task_id: 't2', state: 'TASK_LOST', reason: 'REASON_AGENT_RESTARTED' });
    expect(reported.filter((u) => u.uuid === uuid(5))).toHaveLength(1); // the resent update was journaled already
    expect(events.map((e) => e.type)).toEqual(['SUBSCRIBED', 'ACKNOWLEDGED']);
  });

  it("shuts an executor down at its framework's request: SHUTDOWN, a kill after the grace period, its tasks KILLED", async () => {
    m.close();
    m = new ExecutorManager({
      workDir: dir,
      log: silentLogger,
      agentId: () => 'A1' as AgentId,
      containers: () => fake as unknown as ContainerizerSet,
      endpoint: () => '127.0.0.1:5051',
      hostname: () => 'host',
      report: (u) => reported.push(u),
      sendMessages: async () => undefined,
      timing: { shutdownGraceMs: 1 },
    });
    m.load('A1' as AgentId);
    m.launch(work('t1'));
    m.launch(work('t9', 'E2')); // another executor, never subscribed: its task never reached it
    await settle();
    const ch = m.subscribe(call({ type: 'SUBSCRIBE' }), { bearer: fake.launched[0]!.spec.command!.environment!.MESOS_EXECUTOR_AUTHENTICATION_TOKEN! }, undefined).channel;
    m.update(call({ type: 'UPDATE', update: { status: status('t1', 'TASK_RUNNING', 1) } }), { bearer: fake.launched[0]!.spec.command!.environment!.MESOS_EXECUTOR_AUTHENTICATION_TOKEN! });
    expect(m.shutdown('F1', 'nope')).toBe('unknown');
    expect(m.shutdown('F2', 'E1')).toBe('unknown'); // another framework's executor id is not found
    expect(reported).toHaveLength(1);

    expect(m.shutdown('F1', 'E1')).toBe('started');
    expect(m.shutdown('F1', 'E1')).toBe('already'); // the master repeats it until the executor is gone
    // It does not exit: killed once the grace period has passed; the task it did not end is KILLED.
    const e1 = fake.launched[0]!.taskId;
    await waitUntil(() => fake.killed.includes(e1), 5_000, 'the executor killed after its grace period');
    m.containerStatus({ frameworkId: 'F1' as never, taskId: e1, containerId: 'c1', state: 'KILLED', timestamp: 2 });
    expect(reported.slice(1).map((u) => [u.task_id, u.state, u.reason, u.source])).toEqual([['t1', 'TASK_KILLED', 'REASON_EXECUTOR_TERMINATED', 'SOURCE_AGENT']]);
    expect((await drain(ch)).map((e) => e.type)).toEqual(['SUBSCRIBED', 'LAUNCH', 'ACKNOWLEDGED', 'SHUTDOWN']);
    expect(m.shutdown('F1', 'E1')).toBe('already');

    expect(m.shutdown('F1', 'E2')).toBe('started');
    expect(reported.at(-1)).toMatchObject({ task_id: 't9', state: 'TASK_KILLED', reason: 'REASON_EXECUTOR_TERMINATED' });
    await waitUntil(() => fake.killed.includes(fake.launched[1]!.taskId), 5_000, 'the unsubscribed executor killed');
    expect(m.reportedTasks()).toEqual([]);
  });

  it('kills an executor that does not subscribe again after a restart', async () => {
    m.close();
    m = new ExecutorManager({
      workDir: dir,
      log: silentLogger,
      agentId: () => 'A1' as AgentId,
      containers: () => fake as unknown as ContainerizerSet,
      endpoint: () => '127.0.0.1:5051',
      hostname: () => 'host',
      report: (u) => reported.push(u),
      sendMessages: async () => undefined,
      timing: { reregistrationTimeoutMs: 1 },
    });
    m.load('A1' as AgentId);
    m.launch(work('t1'));
    await settle();
    m.close();
    m = new ExecutorManager({
      workDir: dir,
      log: silentLogger,
      agentId: () => 'A1' as AgentId,
      containers: () => fake as unknown as ContainerizerSet,
      endpoint: () => '127.0.0.1:5051',
      hostname: () => 'host',
      report: (u) => reported.push(u),
      sendMessages: async () => undefined,
      timing: { reregistrationTimeoutMs: 1 },
    });
    m.load('A1' as AgentId);
    m.afterRecovery(fake as unknown as ContainerizerSet, false);
    await waitUntil(() => fake.killed.length === 1, 2_000, 'the executor killed');
    expect(fake.killed[0]).toBe(fake.launched[0]!.taskId);
  });
});
