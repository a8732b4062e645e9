import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { FrameworkId, TaskId } from '../../core/ids.js';
import type { CommandSpec } from '../../core/task.js';
import { isTerminal } from '../../core/task-state.js';
import { BaseContainerizer, type Entry, type ExitInfo } from './base.js';
import { nowSeconds, refKey, type ContainerizerOptions, type ContainerReason, type EngineHealth, type LaunchRequest, type RecoverOptions, type RecoveryResult, type TaskRef } from './containerizer.js';
import type { HealthProbe, ProbeResult } from './health-check.js';
import { compactionSlack, compactLog } from './log-store.js';
import { readStates, removeState, stateDir, type ContainerStateFile } from './state-file.js';
import { commandArgv, InvalidTask, portEnvironment, type ValidatedLaunch } from './validation.js';
import { sleep } from '../../core/sleep.js';

// Runs a command task as a plain child process, for hosts without Docker (Mesos's POSIX launcher
// without isolation: cpus/mem are accounted by the master but not enforced here).
//
// Each task runs in its own session and process group (detached), so it survives an agent
// restart and a kill reaches everything it started in that group. stdout/stderr go straight to
// <sandbox>/stdout|stderr (a pipe to the agent would SIGPIPE the task when the agent dies); the
// cap is enforced by compacting the files every poll (so a file can briefly exceed the cap by
// what the task writes in one poll period) and exactly at exit.
//
// Exit status: the task runs under a tiny sh wrapper that writes the command's status to
// <state>/exit_status. A restarted agent adopts processes listed in state files whose pid is
// alive with the same /proc start time (not a recycled pid). An adopted process is not our child,
// so it cannot be waited for: we poll its liveness and read the wrapper's file. If the wrapper
// itself died (SIGKILL to the group) the status cannot be known: the task ends KILLED when a kill
// was asked for, otherwise FAILED with reason EXECUTOR_TERMINATED and a message saying so.

export interface ProcessContainerizerOptions extends ContainerizerOptions {
  /** Liveness (adopted tasks) and log-cap period. Default 500 ms. */
  readonly pollIntervalMs?: number;
  /** Default /bin/sh. */
  readonly shell?: string;
}

// $1 = status file; the rest is the command. A trap with a command (not '') lets the wrapper
// outlive SIGTERM to the group while the task keeps the default disposition.
const WRAPPER = 'trap : TERM INT; f=$1; shift; "$@"; rc=$?; echo "$rc" > "$f"; exit "$rc"';

interface ProcessEntry extends Entry {
  pid: number | undefined;
  child: ChildProcess | undefined;
  pollTimer: NodeJS.Timeout | undefined;
  adopted: boolean;
  readonly exitFile: string;
}

interface ProcStat {
  readonly state: string;
  readonly startTime: string;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number, startTime: string | undefined): boolean {
  const st = procStat(pid);
  if (st === undefined) {
    // No /proc (not Linux): fall back to signal 0.
    try {
      process.kill(pid, 0);
      return !startTime;
    } catch {
      return false;
    }
  }
  if (st.state === 'Z' || st.state === 'X') return false;
  return startTime === undefined || st.startTime === startTime;
}

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [user, , uid, gid] = line.split(':');
      if (user === name && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    /* no passwd database */
  }
  return undefined;
}

function readExitFile(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

export class ProcessContainerizer extends BaseContainerizer<ProcessEntry> {
  readonly kind = 'process' as const;
  private readonly pollMs: number;
  private readonly shell: string;

  constructor(options: ProcessContainerizerOptions) {
    super(options);
    this.pollMs = options.pollIntervalMs ?? 500;
    this.shell = options.shell ?? '/bin/sh';
    this.setEngine('HEALTHY', 'the process containerizer runs tasks directly on the host');
  }

  async checkEngine(): Promise<EngineHealth> {
    return this.engineHealth();
  }

  protected validateMore(req: LaunchRequest, v: ValidatedLaunch): void {
    const c = req.spec.container;
    if (c !== undefined && (c.type !== 'MESOS' || c.docker !== undefined)) {
      throw new InvalidTask('spec.container', 'the process containerizer cannot run container images (no Docker engine on this agent)');
    }
    if (v.argv === undefined) throw new InvalidTask('spec.command', 'the task has neither a command nor a container image');
  }

  protected newEntry(base: Entry): ProcessEntry {
    return { ...base, pid: undefined, child: undefined, pollTimer: undefined, adopted: false, exitFile: join(stateDir(this.options.workDir, base.containerId), 'exit_status') };
  }

  private environment(entry: ProcessEntry, ports: readonly number[]): Record<string, string> {
    return {
      // Not the agent's environment: it may hold credentials.
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: entry.sandboxDir,
      HOST: hostname(),
      MESOS_SANDBOX: entry.sandboxDir,
      MESOS_TASK_ID: entry.ref.taskId,
      MESOS_FRAMEWORK_ID: entry.ref.frameworkId,
      MESOS_AGENT_ID: this.options.agentId,
      MESOS_CONTAINER_ID: entry.containerId,
      ...portEnvironment(ports),
      ...entry.spec.command?.environment,
    };
  }

  private credentials(user: string | undefined): { uid?: number; gid?: number } {
    if (user === undefined) return {};
    const ids = lookupUser(user);
    if (ids === undefined) throw new Error(`user '${user}' does not exist on this agent`);
    if (ids.uid === process.getuid?.()) return {};
    if (process.getuid?.() !== 0) throw new Error(`cannot run as user '${user}': the agent is not running as root`);
    return ids;
  }

  protected async start(entry: ProcessEntry, v: ValidatedLaunch): Promise<void> {
    const argv = v.argv ?? [];
    const cwd = this.hostWorkingDir(entry);
    let child: ChildProcess;
    let out: number | undefined;
    let err: number | undefined;
    try {
      if (entry.spec.workingDir !== undefined && !isAbsolute(entry.spec.workingDir)) mkdirSync(cwd, { recursive: true });
      let isDir = false;
      try {
        isDir = statSync(cwd).isDirectory();
      } catch {
        /* reported below */
      }
      if (!isDir) throw new Error(`working directory ${cwd} does not exist`);
      const creds = this.credentials(entry.spec.command?.user);
      rmSync(entry.exitFile, { force: true });
      out = openSync(join(entry.sandboxDir, 'stdout'), 'a');
      err = openSync(join(entry.sandboxDir, 'stderr'), 'a');
      child = spawn(this.shell, ['-c', WRAPPER, 'stratus-task', entry.exitFile, ...argv], {
        cwd,
        env: this.environment(entry, v.ports),
        detached: true,
        stdio: ['ignore', out, err],
        ...creds,
      });
    } catch (e) {
      this.report(entry, { state: 'FAILED', reason: 'CONTAINER_LAUNCH_FAILED', message: `Failed to launch the task: ${(e as Error).message}` });
      return;
    } finally {
      if (out !== undefined) closeSync(out);
      if (err !== undefined) closeSync(err);
    }
    const pid = child.pid;
    if (pid === undefined) {
      const e = await new Promise<Error>((resolve) => child.once('error', resolve));
      this.report(entry, { state: 'FAILED', reason: 'CONTAINER_LAUNCH_FAILED', message: `Failed to launch the task: ${e.message}` });
      return;
    }
    // Everything from here to RUNNING is synchronous, so the exit cannot be seen before it.
    child.unref();
    child.on('error', (e) => this.log(`task ${entry.ref.taskId}: ${e.message}`));
    child.once('exit', (code, signal) => this.settle(entry, { ...(code !== null && { code }), ...(signal !== null && { signal }) }));
    entry.child = child;
    entry.pid = pid;
    this.checkpoint(entry, { engineId: String(pid), ...(procStat(pid)?.startTime !== undefined && { pidStartTime: procStat(pid)?.startTime }) });
    this.report(entry, { state: 'RUNNING' });
    this.watch(entry);
    this.startHealth(entry, Date.now());
    if (entry.state?.killRequestedAt !== undefined) void this.resumeKill(entry);
  }

  private watch(entry: ProcessEntry): void {
    if (this.closed) return;
    entry.pollTimer = setInterval(() => {
      for (const stream of ['stdout', 'stderr'] as const) {
        const path = join(entry.sandboxDir, stream);
        try {
          if (statSync(path).size > this.logCap + compactionSlack(this.logCap)) compactLog(path, this.logCap);
        } catch {
          /* not written yet */
        }
      }
      // An adopted process is not our child: no exit event, so poll.
      if (entry.adopted && entry.pid !== undefined && !isAlive(entry.pid, entry.state?.pidStartTime)) this.settle(entry, {});
    }, this.pollMs);
    entry.pollTimer.unref();
  }

  /** Reports how the task ended: the wrapper's file, else what the wait (child) told, else unknown. */
  private settle(entry: ProcessEntry, waited: { code?: number; signal?: string }): void {
    if (isTerminal(entry.status.state)) return;
    if (entry.pollTimer) clearInterval(entry.pollTimer);
    for (const stream of ['stdout', 'stderr'] as const) {
      try {
        compactLog(join(entry.sandboxDir, stream), this.logCap);
      } catch (e) {
        this.log(`cannot compact ${stream} of ${entry.containerId}: ${(e as Error).message}`);
      }
    }
    const code = readExitFile(entry.exitFile) ?? waited.code;
    const exit: ExitInfo =
      code !== undefined
        ? { code }
        : waited.signal !== undefined
          ? { signal: waited.signal }
          : { lost: 'the task ended while it was adopted after an agent restart; its exit status is unknown' };
    // Background processes the task left in its group go with it, as with a container.
    if (!entry.adopted) void this.release(entry);
    this.report(entry, this.terminalFor(entry, exit));
  }

  protected async signal(entry: ProcessEntry, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const pid = entry.pid;
    if (pid === undefined || isTerminal(entry.status.state)) return;
    // Never signal a recycled pid's group.
    if (entry.adopted && !isAlive(pid, entry.state?.pidStartTime)) return this.settle(entry, {});
    try {
      process.kill(-pid, signal);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') this.log(`${signal} to task ${entry.ref.taskId} failed: ${(e as Error).message}`);
    }
  }

  protected async release(entry: ProcessEntry): Promise<void> {
    if (entry.pollTimer) clearInterval(entry.pollTimer);
    const pid = entry.pid;
    if (pid === undefined) return;
    // An adopted leader that is gone may have had its pid recycled: never signal a stranger's group.
    if (entry.adopted && !isAlive(pid, entry.state?.pidStartTime)) return;
    // The group may outlive its leader (a task's own background children).
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }

  protected commandProbe(entry: ProcessEntry, command: CommandSpec): HealthProbe {
    const argv = commandArgv(command) ?? [];
    return (timeoutMs) =>
      new Promise<ProbeResult>((resolve) => {
        const env = { ...this.environment(entry, entry.state?.ports ?? []), ...command.environment };
        const [program, ...args] = argv;
        const child = spawn(program ?? 'false', args, { cwd: this.hostWorkingDir(entry), env, detached: true, stdio: 'ignore' });
        const timer = setTimeout(() => {
          try {
            if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
          resolve({ ok: false, message: `health command timed out after ${timeoutMs} ms` });
        }, timeoutMs);
        child.on('error', (e) => {
          clearTimeout(timer);
          resolve({ ok: false, message: `health command could not run: ${e.message}` });
        });
        child.on('exit', (code, signal) => {
          clearTimeout(timer);
          if (code === 0) resolve({ ok: true, message: 'health command exited with status 0' });
          else resolve({ ok: false, message: code !== null ? `health command exited with status ${code}` : `health command terminated by ${signal}` });
        });
      });
  }

  async recover(options: RecoverOptions = {}): Promise<RecoveryResult> {
    const known = options.knownTasks ? new Set(options.knownTasks.map(refKey)) : undefined;
    const recovered: ProcessEntry[] = [];
    const orphans: (TaskRef & { containerId: string })[] = [];
    for (const st of readStates(this.options.workDir, 'process', this.options.agentId, this.log)) {
      if (this.byContainerId.has(st.containerId)) continue;
      const ref: TaskRef = { taskId: st.taskId as TaskId, frameworkId: st.frameworkId as FrameworkId };
      const pid = st.engineId !== undefined ? Number(st.engineId) : undefined;
      const alive = pid !== undefined && Number.isInteger(pid) && pid > 0 && isAlive(pid, st.pidStartTime);
      if ((known !== undefined && !known.has(refKey(ref))) || this.entries.has(refKey(ref))) {
        if (alive) await this.killOrphan(pid);
        removeState(this.options.workDir, st.containerId);
        if (st.sandboxDir !== stateDir(this.options.workDir, st.containerId)) {
          rmSync(join(st.sandboxDir, 'stdout'), { force: true });
          rmSync(join(st.sandboxDir, 'stderr'), { force: true });
        }
        if (st.terminal === undefined) orphans.push({ ...ref, containerId: st.containerId });
        continue;
      }
      const entry = this.adopt(ref, st, pid);
      if (st.terminal !== undefined) continue;
      recovered.push(entry);
      if (alive) {
        this.watch(entry);
        this.startHealth(entry, st.launchedAt * 1000);
        if (st.killRequestedAt !== undefined) await this.resumeKill(entry);
      } else if (pid === undefined) {
        this.report(entry, { state: 'FAILED', reason: 'AGENT_RESTARTED' satisfies ContainerReason, message: 'the agent restarted before the task started' });
      } else {
        this.settle(entry, {});
      }
    }
    return { recovered: recovered.map((e) => this.info(e)), orphans };
  }

  private adopt(ref: TaskRef, st: ContainerStateFile, pid: number | undefined): ProcessEntry {
    const status = st.terminal
      ? { ...ref, containerId: st.containerId, ...st.terminal, reason: st.terminal.reason as ContainerReason | undefined }
      : { ...ref, containerId: st.containerId, state: 'RUNNING' as const, timestamp: nowSeconds() };
    const entry = this.newEntry(this.baseEntry(ref, st.containerId, st.sandboxDir, st.spec, st, status));
    entry.pid = pid;
    entry.adopted = true;
    if (st.terminal) entry.done.resolve(status);
    this.register(entry);
    return entry;
  }

  private async killOrphan(pid: number): Promise<void> {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      return;
    }
    for (let i = 0; i < 40 && isAlive(pid, undefined); i++) await sleep(50, undefined, { unref: true });
  }

  protected async shutdown(): Promise<void> {
    for (const entry of this.entries.values()) {
      if (entry.pollTimer) clearInterval(entry.pollTimer);
      // The tasks keep running; a new instance adopts them from their state files.
      entry.child?.removeAllListeners('exit');
    }
  }
}
