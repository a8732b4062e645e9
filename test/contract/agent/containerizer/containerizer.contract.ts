import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../../src/core/errors.js';
import { agentId as toAgentId, frameworkId as toFrameworkId, taskId as toTaskId, type AgentId, type TaskId } from '../../../../src/core/ids.js';
import { resources, type PortRange, type ResourceSpec, type Resources } from '../../../../src/core/resources.js';
import type { HealthCheckSpec, TaskSpec } from '../../../../src/core/task.js';
import type {
  Containerizer,
  ContainerizerEvent,
  ContainerInfo,
  ContainerStatus,
  EngineHealth,
  LaunchRequest,
  TaskRef,
} from '../../../../src/agent/containerizer/containerizer.js';
import { hostProcessesMatching } from '../../../support/processes.js';
import { waitUntil } from '../../../support/wait.js';

// One lifecycle suite for every Containerizer adapter. An adapter's test file supplies a harness
// (how to build an instance, how to see what the engine still holds) and adds its own checks.

export interface AgentOptions {
  readonly agentId: AgentId;
  readonly workDir: string;
  readonly agentPorts?: readonly PortRange[];
  readonly logCapBytes?: number;
}

export interface ContainerizerHarness {
  readonly name: string;
  /** A fresh instance; the same agent id and work dir make it a restarted agent. */
  create(options: AgentOptions): Containerizer;
  /** What the engine still holds for an agent (containers, or live processes). */
  leftovers(agent: AgentOptions): Promise<string[]>;
  /** Whether the engine still has this task's container / process. */
  exists(info: ContainerInfo): Promise<boolean>;
  /** Removes everything the agents left (afterAll). */
  cleanup(agents: readonly AgentOptions[]): Promise<void>;
  /** An absolute directory that exists where tasks run (in the image, or on the host). */
  readonly existingDir: string;
}

export const FRAMEWORK = toFrameworkId('contract-framework');

/** Records every event of a containerizer and lets a test wait for one. */
export class Recorder {
  readonly events: ContainerizerEvent[] = [];
  private waiters: { pred: (e: ContainerizerEvent) => boolean; resolve: (e: ContainerizerEvent) => void }[] = [];

  constructor(c: Containerizer) {
    c.subscribe((e) => {
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(e)) return true;
        w.resolve(e);
        return false;
      });
    });
  }

  statuses(ref?: TaskRef): ContainerStatus[] {
    return this.events.flatMap((e) => (e.type === 'status' && (!ref || e.status.taskId === ref.taskId) ? [e.status] : []));
  }

  engine(): EngineHealth[] {
    return this.events.flatMap((e) => (e.type === 'engine' ? [e.health] : []));
  }

  next(pred: (e: ContainerizerEvent) => boolean, timeoutMs = 10_000): Promise<ContainerizerEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms; saw ${JSON.stringify(this.events.slice(-5))}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  status(ref: TaskRef, pred: (s: ContainerStatus) => boolean, timeoutMs?: number): Promise<ContainerStatus> {
    return this.next((e) => e.type === 'status' && e.status.taskId === ref.taskId && pred(e.status), timeoutMs).then((e) => (e as { status: ContainerStatus }).status);
  }
}

export interface Agent extends AgentOptions {
  readonly c: Containerizer;
  readonly rec: Recorder;
}

export function shellTask(command: string, extra: Partial<TaskSpec> = {}): TaskSpec {
  return { name: 'contract', command: { shell: true, value: command }, ...extra };
}

export function launchRequest(agent: AgentOptions, spec: TaskSpec, res: ResourceSpec = { cpus: 0.1, mem: 32 }, more: Partial<LaunchRequest> = {}): LaunchRequest {
  return { taskId: toTaskId(`t-${randomUUID()}`), frameworkId: FRAMEWORK, agentId: agent.agentId, spec, resources: resources(res), ...more };
}

export const refOf = (r: { taskId: TaskId }): TaskRef => ({ frameworkId: FRAMEWORK, taskId: r.taskId });

/** Polls the task's stdout until it contains `text`. */
export async function untilOutput(c: Containerizer, ref: TaskRef, text: string, timeoutMs = 10_000): Promise<void> {
  await waitUntil(async () => (await c.logs(ref, 'stdout')).data.toString().includes(text), timeoutMs, `stdout of ${ref.taskId} to show '${text}'`, 50);
}

export function health(check: Partial<HealthCheckSpec> & Pick<HealthCheckSpec, 'type'>): HealthCheckSpec {
  return { delaySeconds: 0, intervalSeconds: 0.2, timeoutSeconds: 2, consecutiveFailures: 3, gracePeriodSeconds: 0, ...check };
}

/** Agents made by a suite, closed and cleaned in afterAll. */
export class Agents {
  private readonly made: Agent[] = [];
  readonly dirs: string[] = [];

  constructor(private readonly harness: ContainerizerHarness) {}

  make(options: Partial<AgentOptions> = {}): Agent {
    const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'stratus-ctz-'));
    if (options.workDir === undefined) this.dirs.push(workDir);
    const opts: AgentOptions = { agentId: toAgentId(`test-ctz-${randomUUID().slice(0, 12)}`), ...options, workDir };
    const c = this.harness.create(opts);
    const agent: Agent = { ...opts, c, rec: new Recorder(c) };
    this.made.push(agent);
    return agent;
  }

  async cleanup(): Promise<void> {
    for (const a of this.made) await a.c.close();
    await this.harness.cleanup(this.made);
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

export function containerizerContract(harness: ContainerizerHarness): void {
  describe(`Containerizer contract: ${harness.name}`, () => {
    const agents = new Agents(harness);
    let a: Agent;
    const PORTS: PortRange = { begin: 31000, end: 31099 };
    const CAP = 64 * 1024;

    beforeAll(() => {
      a = agents.make({ agentPorts: [PORTS], logCapBytes: CAP });
    });
    afterAll(() => agents.cleanup(), 60_000);

    it('runs a task to FINISHED through STARTING and RUNNING, with its stdout and stderr', async () => {
      const req = launchRequest(a, shellTask('echo hi; echo oops >&2; exit 0'));
      const launched = await a.c.launch(req);
      expect(launched.state).toBe('RUNNING');
      const end = await a.c.wait(refOf(req));
      expect(end).toMatchObject({ state: 'FINISHED', exitCode: 0, taskId: req.taskId, frameworkId: FRAMEWORK });
      expect(a.rec.statuses(refOf(req)).map((s) => s.state)).toEqual(['STARTING', 'RUNNING', 'FINISHED']);
      expect((await a.c.logs(refOf(req), 'stdout')).data.toString()).toBe('hi\n');
      expect((await a.c.logs(refOf(req), 'stderr')).data.toString()).toBe('oops\n');
      expect(a.c.status(refOf(req))?.state).toBe('FINISHED');
    });

    it('reports a non-zero exit as FAILED with the code in the message', async () => {
      const req = launchRequest(a, shellTask('exit 3'));
      await a.c.launch(req);
      const end = await a.c.wait(refOf(req));
      expect(end).toMatchObject({ state: 'FAILED', reason: 'COMMAND_EXECUTOR_FAILED', exitCode: 3 });
      expect(end.message).toContain('status 3');
    });

    it('kills a running task: KILLED within the grace period + 2 s', async () => {
      const req = launchRequest(a, shellTask('sleep 600'));
      expect((await a.c.launch(req)).state).toBe('RUNNING');
      const t0 = Date.now();
      expect(await a.c.kill(refOf(req))).toBe(true);
      const end = await a.c.wait(refOf(req));
      expect(end.state).toBe('KILLED');
      expect(Date.now() - t0).toBeLessThan(3_000 + 2_000);
      expect(await a.c.kill(refOf(req))).toBe(false);
    });

    it('escalates to SIGKILL after the grace when the task ignores SIGTERM', async () => {
      const req = launchRequest(a, shellTask('trap "" TERM; echo ready; sleep 600', { killGracePeriodMs: 1_000 }));
      await a.c.launch(req);
      await untilOutput(a.c, refOf(req), 'ready');
      const t0 = Date.now();
      await a.c.kill(refOf(req));
      const end = await a.c.wait(refOf(req));
      const took = Date.now() - t0;
      expect(end.state).toBe('KILLED');
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(1_000 + 2_000);
    });

    it('passes ports, environment and working dir to the task', async () => {
      const spec: TaskSpec = {
        name: 'env',
        command: { shell: true, value: 'echo "$PORT0 $PORT1 $PORTS $PORT $FOO $MESOS_TASK_ID"; pwd', environment: { FOO: 'bar baz' } },
        workingDir: harness.existingDir,
      };
      const req = launchRequest(a, spec, { cpus: 0.1, mem: 32, ports: [{ begin: 31005, end: 31005 }, { begin: 31010, end: 31010 }] });
      await a.c.launch(req);
      expect((await a.c.wait(refOf(req))).state).toBe('FINISHED');
      const out = (await a.c.logs(refOf(req), 'stdout')).data.toString();
      expect(out).toBe(`31005 31010 31005,31010 31005 bar baz ${req.taskId}\n${harness.existingDir}\n`);
    });

    it('keeps only the last cap bytes of a log and says it was truncated', async () => {
      const req = launchRequest(a, shellTask("head -c 200000 /dev/zero | tr '\\0' a; echo END"));
      await a.c.launch(req);
      expect((await a.c.wait(refOf(req))).state).toBe('FINISHED');
      const log = await a.c.logs(refOf(req), 'stdout');
      expect(log.data.length).toBe(CAP);
      expect(log.data.subarray(-6).toString()).toBe('aaaEND\n'.slice(-6));
      expect(log.data.subarray(0, 16).toString()).toBe('a'.repeat(16));
      expect(log).toMatchObject({ truncated: true, totalBytes: 200_004, droppedBytes: 200_004 - CAP });
      expect((await a.c.logs(refOf(req), 'stdout', { tailBytes: 4 })).data.toString()).toBe('END\n');
    });

    it('refuses bad input with ERROR / TASK_INVALID and leaves nothing behind', async () => {
      const before = await harness.leftovers(a);
      const base = launchRequest(a, shellTask('true'));
      const negative: Resources = { cpus: -100, mem: 32, disk: 0, network: 0, ports: [] };
      const cases: [string, LaunchRequest][] = [
        ['resources', { ...base, taskId: toTaskId(`bad-${randomUUID()}`), resources: negative }],
        ['spec.command', launchRequest(a, { name: 'empty', command: { shell: true, value: '   ' } })],
        ['spec.command', launchRequest(a, { name: 'nothing' })],
        ['ports', launchRequest(a, shellTask('true'), { cpus: 0.1, mem: 32, ports: [{ begin: 40000, end: 40000 }] })],
        ['ports', launchRequest(a, shellTask('true'), { cpus: 0.1, mem: 32, ports: [{ begin: 31000, end: 31001 }] }, { ports: [31000, 31002] })],
        ['agentId', { ...launchRequest(a, shellTask('true')), agentId: toAgentId('some-other-agent') }],
        ['spec.killGracePeriodMs', launchRequest(a, shellTask('true', { killGracePeriodMs: -1 }))],
        ['spec.healthCheck', launchRequest(a, shellTask('true', { healthCheck: health({ type: 'COMMAND' }) }))],
        ['taskId', { ...base, taskId: 'bad/id' as TaskId }],
      ];
      for (const [field, req] of cases) {
        const s = await a.c.launch(req);
        expect(s.state, field).toBe('ERROR');
        expect(s.reason, field).toBe('TASK_INVALID');
        expect(s.message, field).toContain(field);
      }
      expect((await a.c.wait(refOf(cases[0]![1]))).state).toBe('ERROR');
      expect((await harness.leftovers(a)).filter((x) => !before.includes(x))).toEqual([]);
    });

    it('refuses a second launch of a running task id without disturbing it', async () => {
      const req = launchRequest(a, shellTask('sleep 600'));
      await a.c.launch(req);
      const again = await a.c.launch(req);
      expect(again).toMatchObject({ state: 'ERROR', reason: 'TASK_INVALID' });
      expect(again.message).toContain('already launched');
      expect(a.c.status(refOf(req))?.state).toBe('RUNNING');
      await a.c.destroy(refOf(req));
    });

    it('destroys a running task: KILLED, nothing left, forgotten', async () => {
      const req = launchRequest(a, shellTask('sleep 600'));
      await a.c.launch(req);
      const info = a.c.containers().find((i) => i.taskId === req.taskId)!;
      expect(await harness.exists(info)).toBe(true);
      await a.c.destroy(refOf(req));
      expect(a.rec.statuses(refOf(req)).at(-1)?.state).toBe('KILLED');
      expect(await harness.exists(info)).toBe(false);
      expect(a.c.status(refOf(req))).toBeUndefined();
      await expect(a.c.logs(refOf(req), 'stdout')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('answers for unknown tasks without throwing', async () => {
      const ref = { frameworkId: FRAMEWORK, taskId: toTaskId('never-launched') };
      expect(await a.c.kill(ref)).toBe(false);
      await expect(a.c.wait(ref)).rejects.toBeInstanceOf(NotFoundError);
      expect(a.c.status(ref)).toBeUndefined();
      await a.c.destroy(ref);
    });

    it('reports healthy from a passing COMMAND health check', async () => {
      const req = launchRequest(a, shellTask('sleep 600', { healthCheck: health({ type: 'COMMAND', command: { shell: true, value: 'true' } }) }));
      await a.c.launch(req);
      const s = await a.rec.status(refOf(req), (x) => x.healthy === true);
      expect(s).toMatchObject({ state: 'RUNNING', reason: 'TASK_HEALTH_CHECK_STATUS_UPDATED' });
      await a.c.destroy(refOf(req));
    });

    it('reports unhealthy, then kills the task after consecutive failures (timeouts count)', async () => {
      const check = health({ type: 'COMMAND', command: { shell: true, value: 'sleep 5' }, timeoutSeconds: 0.3, consecutiveFailures: 2, intervalSeconds: 0.1 });
      const req = launchRequest(a, shellTask('sleep 600', { healthCheck: check, killGracePeriodMs: 500 }));
      await a.c.launch(req);
      const unhealthy = await a.rec.status(refOf(req), (x) => x.healthy === false);
      expect(unhealthy.state).toBe('RUNNING');
      expect(unhealthy.message).toContain('timed out');
      const end = await a.c.wait(refOf(req));
      expect(end).toMatchObject({ state: 'KILLED', reason: 'TASK_HEALTH_CHECK_STATUS_UPDATED', healthy: false });
      expect(end.message).toContain('2 consecutive failed health checks');
    });

    it('ignores failures within the grace period until the first success', async () => {
      const marker = `/tmp/stratus-hc-${randomUUID()}`;
      const check = health({ type: 'COMMAND', command: { shell: true, value: `test -f ${marker}` }, consecutiveFailures: 1, gracePeriodSeconds: 30, intervalSeconds: 0.1 });
      const req = launchRequest(a, shellTask(`sleep 0.6; touch ${marker}; sleep 600`, { healthCheck: check }));
      try {
        await a.c.launch(req);
        await a.rec.status(refOf(req), (x) => x.healthy === true);
        expect(a.rec.statuses(refOf(req)).some((x) => x.healthy === false)).toBe(false);
        expect(a.c.status(refOf(req))?.state).toBe('RUNNING');
      } finally {
        await a.c.destroy(refOf(req));
        rmSync(marker, { force: true });
      }
    });

    it('recovers after an agent restart: adopts known tasks, reports their ends, removes orphans', async () => {
      const first = agents.make({ logCapBytes: CAP });
      const keep = launchRequest(first, shellTask('sleep 600'));
      const orphan = launchRequest(first, shellTask('sleep 600'));
      const later = launchRequest(first, shellTask('sleep 3; echo done'));
      const downMarker = `stratus-down-${randomUUID()}`;
      const whileDown = launchRequest(first, shellTask(`sleep 0.8; exit 4 # ${downMarker}`));
      for (const r of [keep, orphan, later, whileDown]) expect((await first.c.launch(r)).state).toBe('RUNNING');
      const orphanInfo = first.c.containers().find((i) => i.taskId === orphan.taskId)!;
      // The agent goes away without cleaning up; its tasks keep running (one ends meanwhile).
      expect(first.c.status(refOf(whileDown))?.state).toBe('RUNNING');
      await first.c.close();
      await waitUntil(() => hostProcessesMatching(downMarker).length === 0, 15_000, 'the task to end while its agent is down');

      const second = agents.make({ agentId: first.agentId, workDir: first.workDir, logCapBytes: CAP });
      // A task the new instance launched itself is neither adopted nor an orphan.
      const fresh = launchRequest(second, shellTask('sleep 600'));
      await second.c.launch(fresh);
      const result = await second.c.recover({ knownTasks: [keep, later, whileDown].map(refOf) });
      const freshInfo = second.c.containers().find((i) => i.taskId === fresh.taskId)!;
      expect(existsSync(join(second.workDir, 'containers', freshInfo.containerId, 'state.json'))).toBe(true);
      expect(await harness.exists(freshInfo)).toBe(true);
      expect(result.recovered.map((i) => i.taskId)).not.toContain(fresh.taskId);
      await second.c.destroy(refOf(fresh));
      expect(result.orphans.map((o) => o.taskId)).toEqual([orphan.taskId]);
      expect(await harness.exists(orphanInfo)).toBe(false);
      const byTask = new Map(result.recovered.map((i) => [i.taskId, i.status]));
      expect(byTask.get(keep.taskId)?.state).toBe('RUNNING');
      expect(byTask.get(later.taskId)?.state).toBe('RUNNING');
      expect(byTask.get(whileDown.taskId)).toMatchObject({ state: 'FAILED', exitCode: 4 });
      expect(second.rec.statuses(refOf(whileDown)).map((s) => s.state)).toEqual(['FAILED']);

      const done = await second.c.wait(refOf(later));
      expect(done.state).toBe('FINISHED');
      expect((await second.c.logs(refOf(later), 'stdout')).data.toString()).toBe('done\n');
      expect(await second.c.kill(refOf(keep), { gracePeriodMs: 500 })).toBe(true);
      expect((await second.c.wait(refOf(keep))).state).toBe('KILLED');
      expect(await harness.leftovers(second)).toEqual([]);
    });
  });
}
