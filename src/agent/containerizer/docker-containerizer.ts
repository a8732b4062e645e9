import { sleep } from '../../core/sleep.js';
import { hostname, availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import { UnavailableError } from '../../core/errors.js';
import type { FrameworkId, TaskId } from '../../core/ids.js';
import type { CommandSpec, PullPolicy } from '../../core/task.js';
import { isTerminal } from '../../core/task-state.js';
import { BaseContainerizer, deferred, type Deferred, type Entry, type ExitInfo } from './base.js';
import {
  nowSeconds,
  refKey,
  type ContainerInfo,
  type ContainerizerOptions,
  type EngineHealth,
  type LaunchRequest,
  type LogStream,
  type RecoverOptions,
  type RecoveryResult,
  type TaskRef,
} from './containerizer.js';
import type { HealthProbe, ProbeResult } from './health-check.js';
import { CappedLog } from './log-store.js';
import { readStates, removeState, type ContainerStateFile } from './state-file.js';
import {
  commandArgv,
  InvalidTask,
  isValidImageReference,
  LABEL_AGENT_ID,
  LABEL_CONTAINER_ID,
  LABEL_FRAMEWORK_ID,
  LABEL_TASK_ID,
  portEnvironment,
  type ValidatedLaunch,
} from './validation.js';

// Runs each task as a Docker container through dockerode, like Mesos's Docker containerizer:
// host networking by default, CFS quota + hard memory limit from the task's resources, Stratus
// labels for recovery, output copied into capped <sandbox>/stdout|stderr files.
//
// Watching: one /events stream per containerizer (filtered on this agent's label) signals `die`
// and `oom`; a `logs?follow` stream per container copies output and ends when it exits. Either
// triggers `settle`, which inspects the container for the exit code and OOMKilled. When the
// engine stops answering (ECONNREFUSED/ENOENT/timeouts) the containerizer reports it UNHEALTHY,
// pings until it answers, then re-attaches the event and log streams (with `since`, so nothing
// is lost or duplicated) and reconciles every container it tracks. A task is never failed just
// because the engine was away.

export interface DockerContainerizerOptions extends ContainerizerOptions {
  /** Default /var/run/docker.sock. */
  readonly socketPath?: string;
  /** Image for tasks that carry a command but no container (Mesos would use its own containerizer). */
  readonly defaultImage?: string;
  /** Run an init (docker-init) as PID 1 so SIGTERM reaches the task and zombies are reaped. Default true. */
  readonly init?: boolean;
  /** Default 5 min. */
  readonly pullTimeoutMs?: number;
  /** Bound on one API request/response; a silent engine counts as unavailable. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** How long a launch (or recover) waits for an unavailable engine before failing. Default 30 s. */
  readonly engineRetryMs?: number;
  /** Ping period while healthy (1 s while unhealthy). Default 5 s. */
  readonly engineCheckIntervalMs?: number;
  /** Remove a container once its terminal status is reported (its logs are in the sandbox). Default true. */
  readonly removeOnExit?: boolean;
}

const MiB = 1024 * 1024;
const LOG_DRAIN_MS = 2_000;
const CURSOR_FLUSH_MS = 1_000;
const ENGINE_DOWN_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EACCES', 'ENOTSOCK', 'ABORT_ERR']);

interface DockerError {
  readonly statusCode?: number;
  readonly code?: string;
  readonly message?: string;
  readonly json?: { readonly message?: string };
}

const errInfo = (e: unknown): DockerError => (typeof e === 'object' && e !== null ? (e as DockerError) : { message: String(e) });
const statusOf = (e: unknown): number | undefined => errInfo(e).statusCode;

/** The engine did not answer at all (as opposed to answering with an error about the task). */
export function isEngineUnavailable(e: unknown): boolean {
  const err = errInfo(e);
  if (err.statusCode !== undefined) return false;
  if (err.code !== undefined && ENGINE_DOWN_CODES.has(err.code)) return true;
  return /socket hang up|timed? ?out|aborted|ECONNREFUSED|ENOENT/i.test(err.message ?? '');
}

/** Docker's own message for an API error, without dockerode's "(HTTP code ...)" wrapping. */
function dockerMessage(e: unknown): string {
  const err = errInfo(e);
  return (err.json?.message ?? err.message ?? String(e)).trim();
}

class EngineUnavailableError extends UnavailableError {}

/** Docker's `RFC3339Nano` log timestamp as nanoseconds since the epoch. */
export function parseLogTimestamp(ts: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(ts);
  if (!m) return undefined;
  const secs = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(secs)) return undefined;
  return BigInt(secs / 1000) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

const sinceArg = (ns: bigint): string => `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;

/** Splits Docker's multiplexed stdout/stderr stream (8-byte frame headers) into frames. */
class FrameParser {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (stream: LogStream, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      const type = this.buf[0];
      const payload = this.buf.subarray(8, 8 + size);
      this.buf = this.buf.subarray(8 + size);
      if (type === 1) this.onFrame('stdout', payload);
      else if (type === 2) this.onFrame('stderr', payload);
    }
  }
}

interface DockerEntry extends Entry {
  dockerId: string | undefined;
  readonly name: string;
  launching: Promise<void> | undefined;
  oomSeen: boolean;
  logStream: Readable | undefined;
  logsFollowing: boolean;
  logsClean: boolean;
  logsEnded: Deferred<void>;
  readonly sinks: Record<LogStream, CappedLog>;
  readonly cursors: Record<LogStream, LogCursor>;
  /** Frames at the cursor's timestamp still to skip in the current replay. */
  replaySkip: Record<LogStream, number>;
  cursorDirty: boolean;
  settling: Promise<void> | undefined;
  resettle: boolean;
  removed: boolean;
}

/**
 * Where the copy of a stream stands: the last frame's timestamp and how many frames carried it.
 * Docker stamps every 16 KiB chunk of one long line with the same time, so a timestamp alone
 * cannot say which frames a replay from `since` (inclusive) repeats.
 */
interface LogCursor {
  ts: bigint;
  n: number;
}

function parseCursor(s: string | undefined): LogCursor {
  const m = /^(\d+)(?::(\d+))?$/.exec(s ?? '');
  return m ? { ts: BigInt(m[1] ?? '0'), n: Number(m[2] ?? '1') } : { ts: 0n, n: 0 };
}

const formatCursor = (c: LogCursor): string => `${c.ts}:${c.n}`;

interface EngineEvent {
  readonly Type?: string;
  readonly Action?: string;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Readonly<Record<string, string>> };
  readonly timeNano?: number;
}

export class DockerContainerizer extends BaseContainerizer<DockerEntry> {
  readonly kind = 'docker' as const;
  private readonly socketPath: string;
  /** Request/response calls, each bounded by requestTimeoutMs. */
  private readonly api: Docker;
  /** Long-lived streams (events, logs, exec, pull): bounded until the response starts only. */
  private readonly streams: Docker;
  private readonly opts: Required<Pick<DockerContainerizerOptions, 'init' | 'pullTimeoutMs' | 'requestTimeoutMs' | 'engineRetryMs' | 'engineCheckIntervalMs' | 'removeOnExit'>>;
  private started = false;
  private monitorTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private events: Readable | undefined;
  private connecting: Promise<void> | undefined;
  /** Unix seconds (fractional) to replay events from after a reconnect. */
  private eventsSince: number | undefined;
  private pinging: Promise<boolean> | undefined;

  constructor(private readonly dockerOptions: DockerContainerizerOptions) {
    super(dockerOptions);
    this.socketPath = dockerOptions.socketPath ?? '/var/run/docker.sock';
    this.opts = {
      init: dockerOptions.init ?? true,
      pullTimeoutMs: dockerOptions.pullTimeoutMs ?? 300_000,
      requestTimeoutMs: dockerOptions.requestTimeoutMs ?? 30_000,
      engineRetryMs: dockerOptions.engineRetryMs ?? 30_000,
      engineCheckIntervalMs: dockerOptions.engineCheckIntervalMs ?? 5_000,
      removeOnExit: dockerOptions.removeOnExit ?? true,
    };
    this.api = new Docker({ socketPath: this.socketPath, timeout: this.opts.requestTimeoutMs });
    // docker-modem's connectionTimeout (not in @types/dockerode) bounds the wait for the response head only.
    this.streams = new Docker({ socketPath: this.socketPath, connectionTimeout: this.opts.requestTimeoutMs } as Docker.DockerOptions);
  }

  // ---- engine health ----

  private ensureStarted(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.flushTimer = setInterval(() => this.flushCursors(), CURSOR_FLUSH_MS);
    this.flushTimer.unref();
    this.scheduleMonitor(0);
  }

  private scheduleMonitor(ms: number): void {
    if (this.closed) return;
    if (this.monitorTimer) clearTimeout(this.monitorTimer);
    this.monitorTimer = setTimeout(() => void this.monitor(), ms);
    this.monitorTimer.unref();
  }

  private async monitor(): Promise<void> {
    const ok = await this.ping();
    if (ok && this.events === undefined) await this.connectEvents().catch((e: unknown) => this.noteFailure('events', e));
    const healthy = ok && this.events !== undefined;
    this.scheduleMonitor(healthy ? this.opts.engineCheckIntervalMs : Math.min(1_000, this.opts.engineCheckIntervalMs));
  }

  private ping(): Promise<boolean> {
    this.pinging ??= this.api
      .ping()
      .then(() => {
        this.engineUp();
        return true;
      })
      .catch((e: unknown) => {
        this.engineDown(e);
        return false;
      })
      .finally(() => (this.pinging = undefined));
    return this.pinging;
  }

  private engineUp(): void {
    if (this.engineHealth().state === 'HEALTHY') return;
    this.setEngine('HEALTHY', `Docker engine at ${this.socketPath} answers`);
    // Back from an outage (or first contact): streams re-attach on the monitor's next round.
    this.scheduleMonitor(0);
  }

  private engineDown(e: unknown): void {
    const wasHealthy = this.engineHealth().state !== 'UNHEALTHY';
    this.setEngine('UNHEALTHY', `Docker engine at ${this.socketPath} is not answering: ${errInfo(e).code ?? ''} ${dockerMessage(e)}`.replace(/  +/g, ' '));
    if (wasHealthy) this.scheduleMonitor(200);
  }

  private noteFailure(what: string, e: unknown): void {
    if (isEngineUnavailable(e)) this.engineDown(e);
    else this.log(`docker ${what}: ${dockerMessage(e)}`);
  }

  async checkEngine(): Promise<EngineHealth> {
    this.ensureStarted();
    await this.ping();
    return this.engineHealth();
  }

  /** Runs an engine call, retrying while the engine does not answer, up to `deadlineMs`. */
  private async withEngine<T>(what: string, fn: () => Promise<T>, deadlineMs = this.opts.engineRetryMs): Promise<T> {
    const deadline = Date.now() + deadlineMs;
    let delay = 200;
    for (;;) {
      try {
        const result = await fn();
        this.engineUp();
        return result;
      } catch (e) {
        if (!isEngineUnavailable(e)) throw e;
        this.engineDown(e);
        if (this.closed || Date.now() + delay > deadline) {
          throw new EngineUnavailableError(`Docker engine at ${this.socketPath} is unavailable (${what}): ${dockerMessage(e)}`);
        }
        await sleep(delay, undefined, { unref: true });
        delay = Math.min(delay * 2, 2_000);
      }
    }
  }

  // ---- the event stream ----

  private connectEvents(): Promise<void> {
    if (this.events !== undefined || this.closed) return Promise.resolve();
    this.connecting ??= (async () => {
      try {
        const since = this.eventsSince;
        const raw = await this.streams.getEvents({
          ...(since !== undefined && { since }),
          filters: { type: ['container'], label: [`${LABEL_AGENT_ID}=${this.options.agentId}`] },
        });
        const stream = raw as unknown as Readable;
        if (this.closed) {
          stream.destroy();
          return;
        }
        // Replays after a reconnect start a second early: duplicates are harmless, gaps are not.
        this.eventsSince ??= Math.floor(Date.now() / 1000) - 1;
        this.events = stream;
        this.engineUp();
        let pending = '';
        stream.on('data', (chunk: Buffer) => {
          pending += chunk.toString('utf8');
          let nl: number;
          while ((nl = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, nl).trim();
            pending = pending.slice(nl + 1);
            if (line) this.onEngineEvent(line);
          }
        });
        stream.on('error', (e: Error) => this.noteFailure('event stream', e));
        stream.on('close', () => {
          if (this.events !== stream) return;
          this.events = undefined;
          if (!this.closed) void this.ping().then(() => this.scheduleMonitor(this.engineHealth().state === 'HEALTHY' ? 0 : 500));
        });
        // Whatever happened while no stream was attached, find out from the containers themselves.
        this.reconcile();
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  private onEngineEvent(line: string): void {
    let ev: EngineEvent;
    try {
      ev = JSON.parse(line) as EngineEvent;
    } catch {
      return;
    }
    if (ev.timeNano !== undefined) this.eventsSince = ev.timeNano / 1e9;
    if (ev.Type !== 'container') return;
    const cid = ev.Actor?.Attributes?.[LABEL_CONTAINER_ID];
    const entry = cid === undefined ? undefined : this.byContainerId.get(cid);
    if (entry === undefined) return;
    if (ev.Action === 'oom') entry.oomSeen = true;
    else if (ev.Action === 'die' || ev.Action === 'destroy') void this.settle(entry);
  }

  /** After an outage or reconnect: re-check every live container, resume kills, re-attach logs. */
  private reconcile(): void {
    for (const entry of this.entries.values()) {
      if (entry.dockerId === undefined || entry.launching) continue;
      if (isTerminal(entry.status.state)) {
        if (!entry.removed && this.opts.removeOnExit && entry.state !== undefined) void this.release(entry);
        continue;
      }
      void this.settle(entry, true);
    }
  }

  // ---- launch ----

  /** Only a task that names its image may run the image's own command; the default image needs one. */
  protected override hasImage(req: LaunchRequest): boolean {
    const c = req.spec?.container;
    return c?.type === 'DOCKER' && typeof c.docker?.image === 'string' && c.docker.image !== '';
  }

  protected validateMore(req: LaunchRequest, _v: ValidatedLaunch): void {
    const c = req.spec.container;
    if (c !== undefined) {
      if (c.type !== 'DOCKER') throw new InvalidTask('spec.container.type', `the Docker containerizer runs DOCKER containers, not ${String(c.type)}`);
      if (c.docker === undefined) throw new InvalidTask('spec.container.docker', 'is required for a DOCKER container');
      const image: unknown = c.docker.image;
      if (typeof image !== 'string' || !isValidImageReference(image)) {
        throw new InvalidTask('spec.container.docker.image', `'${String(image)}' is not a valid image reference (name[:tag][@digest], lowercase)`);
      }
      const policy: unknown = c.docker.pullPolicy ?? 'IF_NOT_PRESENT';
      if (policy !== 'ALWAYS' && policy !== 'IF_NOT_PRESENT' && policy !== 'NEVER') {
        throw new InvalidTask('spec.container.docker.pullPolicy', 'must be ALWAYS, IF_NOT_PRESENT or NEVER');
      }
    } else if (this.dockerOptions.defaultImage === undefined) {
      throw new InvalidTask('spec.container', 'the task names no image and this agent has no default image');
    }
    const wd = req.spec.workingDir;
    if (wd !== undefined && !wd.startsWith('/')) throw new InvalidTask('spec.workingDir', 'must be an absolute path inside the container');
    const mem = req.resources.mem;
    if (mem > 0 && mem < 6) throw new InvalidTask('resources.mem', `Docker needs a memory limit of at least 6 MiB (got ${mem})`);
  }

  protected newEntry(base: Entry, _req: LaunchRequest, _v: ValidatedLaunch): DockerEntry {
    return this.dockerEntry(base, undefined);
  }

  private dockerEntry(base: Entry, dockerId: string | undefined): DockerEntry {
    const cursors = base.state?.logCursors;
    return {
      ...base,
      dockerId,
      name: `stratus-${base.containerId}`,
      launching: undefined,
      oomSeen: false,
      logStream: undefined,
      logsFollowing: false,
      logsClean: false,
      logsEnded: deferred(),
      sinks: { stdout: new CappedLog(join(base.sandboxDir, 'stdout'), this.logCap), stderr: new CappedLog(join(base.sandboxDir, 'stderr'), this.logCap) },
      cursors: { stdout: parseCursor(cursors?.stdout), stderr: parseCursor(cursors?.stderr) },
      replaySkip: { stdout: 0, stderr: 0 },
      cursorDirty: false,
      settling: undefined,
      resettle: false,
      removed: false,
    };
  }

  protected start(entry: DockerEntry, v: ValidatedLaunch): Promise<void> {
    entry.launching = this.doStart(entry, v).finally(() => (entry.launching = undefined));
    return entry.launching;
  }

  private async doStart(entry: DockerEntry, v: ValidatedLaunch): Promise<void> {
    const spec = entry.spec;
    const image = spec.container?.docker?.image ?? this.dockerOptions.defaultImage ?? '';
    const policy: PullPolicy = spec.container?.docker?.pullPolicy ?? 'IF_NOT_PRESENT';
    try {
      this.ensureStarted();
      // The event stream must be attached before the container can die, or its exit could be missed.
      await this.withEngine('connecting the event stream', () => this.connectEvents().then(() => this.requireEvents()));
      if (policy === 'ALWAYS') await this.pull(image);
      const options = this.createOptions(entry, v, image);
      let id: string;
      try {
        id = await this.create(entry, options);
      } catch (e) {
        if (statusOf(e) !== 404) throw e;
        if (policy === 'NEVER') throw new Error(`image '${image}' is not present on this agent and its pull policy is NEVER`);
        await this.pull(image);
        id = await this.create(entry, options);
      }
      entry.dockerId = id;
      this.checkpoint(entry, { engineId: id });
      if (entry.state?.killRequestedAt !== undefined) {
        await this.release(entry);
        this.report(entry, { state: 'KILLED', reason: 'TASK_KILLED_DURING_LAUNCH', message: 'Task killed before its container started' });
        return;
      }
      try {
        await this.withEngine('starting the container', () => this.api.getContainer(id).start());
      } catch (e) {
        if (statusOf(e) === 304) {
          /* already started by an earlier attempt whose answer was lost */
        } else throw e;
      }
      const startedAt = Date.now();
      this.report(entry, { state: 'RUNNING' });
      void this.followLogs(entry);
      this.startHealth(entry, startedAt);
      if (entry.state?.killRequestedAt !== undefined) void this.resumeKill(entry);
    } catch (e) {
      const message = e instanceof UnavailableError || (e instanceof Error && e.message.startsWith("image '")) ? (e as Error).message : `Failed to launch container: ${dockerMessage(e)}`;
      if (entry.dockerId !== undefined) await this.release(entry);
      this.report(entry, { state: 'FAILED', reason: 'CONTAINER_LAUNCH_FAILED', message });
    }
  }

  private requireEvents(): void {
    if (this.events === undefined) throw Object.assign(new Error('event stream closed'), { code: 'ECONNRESET' });
  }

  private async create(entry: DockerEntry, options: Docker.ContainerCreateOptions): Promise<string> {
    try {
      const c = await this.withEngine('creating the container', () => this.api.createContainer(options));
      return c.id;
    } catch (e) {
      // A retried create whose first answer was lost finds its own container under the name.
      if (statusOf(e) !== 409) throw e;
      const info = await this.withEngine('inspecting the container', () => this.api.getContainer(entry.name).inspect());
      if (info.Config.Labels?.[LABEL_CONTAINER_ID] !== entry.containerId) throw e;
      return info.Id;
    }
  }

  private async pull(image: string): Promise<void> {
    try {
      await this.withEngine('pulling the image', async () => {
        const stream = (await this.streams.pull(image, { abortSignal: AbortSignal.timeout(this.opts.pullTimeoutMs) })) as unknown as Readable;
        await new Promise<void>((resolve, reject) => {
          this.streams.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => {
            const failed = output?.find((o) => o.error !== undefined);
            if (err) reject(err);
            else if (failed) reject(new Error(failed.error));
            else resolve();
          });
        });
      });
    } catch (e) {
      if (e instanceof EngineUnavailableError) throw e;
      throw new Error(`image '${image}' could not be pulled: ${dockerMessage(e)}`);
    }
  }

  private createOptions(entry: DockerEntry, v: ValidatedLaunch, image: string): Docker.ContainerCreateOptions {
    const spec = entry.spec;
    const st = entry.state;
    const resources = st?.resources ?? { cpus: 0, mem: 0 };
    const env: Record<string, string> = {
      HOST: hostname(),
      MESOS_TASK_ID: entry.ref.taskId,
      MESOS_FRAMEWORK_ID: entry.ref.frameworkId,
      MESOS_AGENT_ID: this.options.agentId,
      MESOS_CONTAINER_ID: entry.containerId,
      ...portEnvironment(v.ports),
      ...spec.command?.environment,
    };
    const labels: Record<string, string> = {
      ...spec.labels,
      [LABEL_TASK_ID]: entry.ref.taskId,
      [LABEL_FRAMEWORK_ID]: entry.ref.frameworkId,
      [LABEL_AGENT_ID]: this.options.agentId,
      [LABEL_CONTAINER_ID]: entry.containerId,
    };
    // Docker refuses a CPU limit above the host's CPU count; a larger share is no limit anyway.
    const nanoCpus = resources.cpus > 0 ? Math.min(Math.max(resources.cpus, 10), availableParallelism() * 1000) * 1_000_000 : undefined;
    const memory = resources.mem > 0 ? resources.mem * MiB : undefined;
    const logMiB = Math.max(1, Math.ceil((this.logCap * 4) / MiB));
    return {
      name: entry.name,
      Image: image,
      Labels: labels,
      Env: Object.entries(env).map(([k, val]) => `${k}=${val}`),
      ...dockerCommand(spec.command),
      ...(spec.command?.user !== undefined && { User: spec.command.user }),
      ...(spec.workingDir !== undefined && { WorkingDir: spec.workingDir }),
      Tty: false,
      OpenStdin: false,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      HostConfig: {
        NetworkMode: v.network === 'NONE' ? 'none' : 'host',
        ...(nanoCpus !== undefined && { NanoCpus: nanoCpus, CpuShares: Math.max(2, Math.round((resources.cpus * 1024) / 1000)) }),
        ...(memory !== undefined && { Memory: memory, MemorySwap: memory }),
        Init: this.opts.init,
        // The engine's copy of the output only needs to outlive a short agent outage.
        LogConfig: { Type: 'json-file', Config: { 'max-size': `${logMiB}m`, 'max-file': '2' } },
      },
    };
  }

  // ---- logs ----

  private async followLogs(entry: DockerEntry): Promise<void> {
    if (entry.logsFollowing || this.closed || entry.dockerId === undefined || isTerminal(entry.status.state)) return;
    entry.logsFollowing = true;
    entry.logsClean = false;
    entry.logsEnded = deferred();
    const done = entry.logsEnded;
    const since = this.replayFrom(entry);
    let stream: Readable;
    try {
      const raw = await this.streams.getContainer(entry.dockerId).logs({ follow: true, stdout: true, stderr: true, timestamps: true, ...(since !== undefined && { since }) });
      stream = raw as unknown as Readable;
    } catch (e) {
      entry.logsFollowing = false;
      done.resolve();
      if (statusOf(e) === 404) void this.settle(entry);
      else this.noteFailure('logs', e);
      return;
    }
    if (this.closed) {
      stream.destroy();
      entry.logsFollowing = false;
      done.resolve();
      return;
    }
    entry.logStream = stream;
    const parser = new FrameParser((s, payload) => this.onLogFrame(entry, s, payload));
    stream.on('data', (chunk: Buffer) => parser.push(chunk));
    stream.on('end', () => (entry.logsClean = true));
    stream.on('error', (e: Error) => this.noteFailure('log stream', e));
    stream.on('close', () => {
      if (entry.logStream === stream) entry.logStream = undefined;
      entry.logsFollowing = false;
      done.resolve();
      // A clean end means the container stopped; an abort means the engine went away (reconcile re-attaches).
      if (!this.closed && entry.logsClean) void this.settle(entry);
    });
  }

  /** Docker's `since` for a (re)read, arming the skip of frames already copied. */
  private replayFrom(entry: DockerEntry): string | undefined {
    entry.replaySkip = { stdout: entry.cursors.stdout.n, stderr: entry.cursors.stderr.n };
    const { stdout, stderr } = entry.cursors;
    const min = stdout.ts < stderr.ts ? stdout.ts : stderr.ts;
    return min > 0n ? sinceArg(min) : undefined;
  }

  private onLogFrame(entry: DockerEntry, stream: LogStream, payload: Buffer): void {
    const sp = payload.indexOf(0x20);
    const ts = sp > 0 ? parseLogTimestamp(payload.subarray(0, sp).toString('latin1')) : undefined;
    const cur = entry.cursors[stream];
    if (ts !== undefined) {
      // A replay starts at `since` (inclusive): skip what was copied before.
      if (ts < cur.ts) return;
      if (ts === cur.ts) {
        if (entry.replaySkip[stream] > 0) {
          entry.replaySkip[stream]--;
          return;
        }
        cur.n++;
      } else {
        cur.ts = ts;
        cur.n = 1;
        entry.replaySkip[stream] = 0;
      }
      entry.cursorDirty = true;
    }
    const data = ts !== undefined ? payload.subarray(sp + 1) : payload;
    try {
      entry.sinks[stream].append(data);
    } catch (e) {
      this.log(`cannot write ${stream} of container ${entry.containerId}: ${(e as Error).message}`);
    }
  }

  private flushCursors(): void {
    for (const entry of this.entries.values()) {
      if (!entry.cursorDirty) continue;
      entry.cursorDirty = false;
      this.checkpoint(entry, { logCursors: { stdout: formatCursor(entry.cursors.stdout), stderr: formatCursor(entry.cursors.stderr) } });
    }
  }

  /** Waits for the follow stream to end; if it did not end cleanly, fetches what is missing. */
  private async drainLogs(entry: DockerEntry, id: string): Promise<void> {
    if (entry.logsFollowing) await Promise.race([entry.logsEnded.promise, sleep(LOG_DRAIN_MS, undefined, { unref: true })]);
    if (entry.logsClean) return;
    entry.logStream?.destroy();
    const since = this.replayFrom(entry);
    const buf = await this.api.getContainer(id).logs({ follow: false, stdout: true, stderr: true, timestamps: true, ...(since !== undefined && { since }) });
    new FrameParser((s, payload) => this.onLogFrame(entry, s, payload)).push(Buffer.isBuffer(buf) ? buf : Buffer.from(buf));
    entry.logsClean = true;
  }

  // ---- exits ----

  /** Finds out whether the container ended, and if so reports how (once). */
  private settle(entry: DockerEntry, afterOutage = false): Promise<void> {
    if (isTerminal(entry.status.state)) return Promise.resolve();
    if (entry.settling) {
      entry.resettle = true;
      return entry.settling;
    }
    entry.resettle = false;
    entry.settling = this.doSettle(entry, afterOutage).finally(() => {
      entry.settling = undefined;
      if (entry.resettle && !isTerminal(entry.status.state) && !this.closed) void this.settle(entry);
    });
    return entry.settling;
  }

  private async doSettle(entry: DockerEntry, afterOutage: boolean): Promise<void> {
    try {
      if (entry.launching) await entry.launching;
      const id = entry.dockerId;
      if (isTerminal(entry.status.state) || id === undefined) return;
      let info: Docker.ContainerInspectInfo;
      try {
        info = await this.api.getContainer(id).inspect();
      } catch (e) {
        if (statusOf(e) !== 404) throw e;
        entry.removed = true;
        this.finish(entry, { lost: 'the container was removed outside the containerizer' });
        return;
      }
      const s = info.State;
      if (s.Running || s.Restarting || s.Paused) {
        void this.followLogs(entry);
        if (afterOutage) await this.resumeKill(entry);
        return;
      }
      if (s.Status === 'created') {
        await this.release(entry);
        this.report(entry, { state: 'FAILED', reason: 'AGENT_RESTARTED', message: 'the agent restarted before the container started' });
        return;
      }
      await this.drainLogs(entry, id);
      // Removed before the terminal status goes out, so that "ended" means "nothing left".
      if (this.opts.removeOnExit) await this.release(entry);
      // cgroup v1 engines set OOMKilled; the `oom` event plus SIGKILL's 137 is the fallback.
      this.finish(entry, { code: s.ExitCode, oom: s.OOMKilled || (s.ExitCode === 137 && entry.oomSeen) });
    } catch (e) {
      this.noteFailure(`settling container ${entry.containerId}`, e);
    }
  }

  private finish(entry: DockerEntry, exit: ExitInfo): void {
    entry.logStream?.destroy();
    for (const sink of Object.values(entry.sinks)) {
      try {
        sink.close();
      } catch (e) {
        this.log(`cannot compact log of ${entry.containerId}: ${(e as Error).message}`);
      }
    }
    entry.cursorDirty = false;
    this.checkpoint(entry, { logCursors: { stdout: formatCursor(entry.cursors.stdout), stderr: formatCursor(entry.cursors.stderr) } });
    this.report(entry, this.terminalFor(entry, exit));
  }

  // ---- kill / remove ----

  protected async signal(entry: DockerEntry, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const id = entry.dockerId;
    if (id === undefined || isTerminal(entry.status.state)) return;
    try {
      await this.api.getContainer(id).kill({ signal });
    } catch (e) {
      const code = statusOf(e);
      // Not running (409) or gone (404): it ended on its own; settle reports how.
      if (code === 404 || code === 409) void this.settle(entry);
      else this.noteFailure(`${signal} to container ${entry.containerId}`, e);
    }
  }

  protected async release(entry: DockerEntry): Promise<void> {
    const id = entry.dockerId;
    if (id === undefined || entry.removed) return;
    try {
      await this.api.getContainer(id).remove({ force: true });
      entry.removed = true;
    } catch (e) {
      if (statusOf(e) === 404) entry.removed = true;
      else this.noteFailure(`removing container ${entry.containerId}`, e);
    }
  }

  // ---- health ----

  protected commandProbe(entry: DockerEntry, command: CommandSpec): HealthProbe {
    const argv = commandArgv(command) ?? [];
    const env = Object.entries({ ...entry.spec.command?.environment, ...command.environment }).map(([k, v]) => `${k}=${v}`);
    return async (timeoutMs): Promise<ProbeResult> => {
      const id = entry.dockerId;
      if (id === undefined) return { ok: false, message: 'the container is not running' };
      const signal = AbortSignal.timeout(timeoutMs);
      let stream: Readable | undefined;
      try {
        const exec = await this.streams.getContainer(id).exec({
          Cmd: argv,
          AttachStdout: true,
          AttachStderr: true,
          Env: env,
          ...(command.user !== undefined && { User: command.user }),
          ...(entry.spec.workingDir !== undefined && { WorkingDir: entry.spec.workingDir }),
        });
        stream = (await exec.start({ hijack: true, stdin: false, abortSignal: signal })) as unknown as Readable;
        const s = stream;
        await new Promise<void>((resolve) => {
          s.on('end', resolve).on('close', resolve).on('error', () => resolve());
          signal.addEventListener('abort', () => resolve());
          s.resume();
        });
        if (signal.aborted) return { ok: false, message: `health command timed out after ${timeoutMs} ms` };
        // The exit code can trail the end of the output by a moment.
        for (let i = 0; i < 20; i++) {
          const info = await exec.inspect();
          if (!info.Running && info.ExitCode !== null) {
            return info.ExitCode === 0 ? { ok: true, message: 'health command exited with status 0' } : { ok: false, message: `health command exited with status ${info.ExitCode}` };
          }
          await sleep(50, undefined, { unref: true });
        }
        return { ok: false, message: 'health command did not report an exit status' };
      } catch (e) {
        return { ok: false, message: `health command could not run: ${dockerMessage(e)}` };
      } finally {
        stream?.destroy();
      }
    };
  }

  // ---- recovery ----

  async recover(options: RecoverOptions = {}): Promise<RecoveryResult> {
    this.ensureStarted();
    const known = options.knownTasks ? new Set(options.knownTasks.map(refKey)) : undefined;
    let listed: Docker.ContainerInfo[];
    try {
      await this.withEngine('connecting the event stream', () => this.connectEvents().then(() => this.requireEvents()));
      listed = await this.withEngine('listing containers', () => this.api.listContainers({ all: true, filters: { label: [`${LABEL_AGENT_ID}=${this.options.agentId}`] } }));
    } catch (e) {
      throw e instanceof UnavailableError ? e : new UnavailableError(`cannot list containers: ${dockerMessage(e)}`);
    }
    const states = new Map(readStates(this.options.workDir, 'docker', this.options.agentId, this.log).map((s) => [s.containerId, s]));
    const recovered: DockerEntry[] = [];
    const orphans: (TaskRef & { containerId: string })[] = [];
    const settling: Promise<void>[] = [];

    for (const c of listed) {
      const labels = c.Labels ?? {};
      const containerId = labels[LABEL_CONTAINER_ID];
      const taskId = labels[LABEL_TASK_ID] as TaskId | undefined;
      const frameworkId = labels[LABEL_FRAMEWORK_ID] as FrameworkId | undefined;
      const state = containerId === undefined ? undefined : states.get(containerId);
      if (containerId !== undefined) states.delete(containerId);
      // Launched by this instance: already watched.
      if (containerId !== undefined && this.byContainerId.has(containerId)) continue;
      const ref = taskId !== undefined && frameworkId !== undefined ? { taskId, frameworkId } : undefined;
      if (containerId === undefined || ref === undefined || (known !== undefined && !known.has(refKey(ref))) || this.entries.has(refKey(ref))) {
        try {
          await this.withEngine('removing an orphan container', () => this.api.getContainer(c.Id).remove({ force: true }));
        } catch (e) {
          if (statusOf(e) !== 404) this.log(`cannot remove orphan container ${c.Id}: ${dockerMessage(e)}`);
        }
        if (containerId !== undefined) removeState(this.options.workDir, containerId);
        orphans.push({ taskId: ref?.taskId ?? ('' as TaskId), frameworkId: ref?.frameworkId ?? ('' as FrameworkId), containerId: containerId ?? c.Id });
        continue;
      }
      const entry = this.adopt(ref, containerId, c.Id, state);
      if (state?.terminal !== undefined) {
        // Reported before the restart, not yet removed: finish the cleanup only.
        if (this.opts.removeOnExit) await this.release(entry);
        continue;
      }
      recovered.push(entry);
      if (c.State === 'running' || c.State === 'paused' || c.State === 'restarting') {
        void this.followLogs(entry);
        this.startHealth(entry, (state?.launchedAt ?? nowSeconds()) * 1000);
        if (entry.state?.killRequestedAt !== undefined) void this.resumeKill(entry);
      } else {
        settling.push(this.settle(entry));
      }
    }

    // Checkpoints without a container: reported once if they had not ended, kept for their logs if they had.
    for (const st of states.values()) {
      if (this.byContainerId.has(st.containerId)) continue;
      const ref = { taskId: st.taskId as TaskId, frameworkId: st.frameworkId as FrameworkId };
      if ((known !== undefined && !known.has(refKey(ref))) || this.entries.has(refKey(ref))) {
        removeState(this.options.workDir, st.containerId);
        continue;
      }
      const entry = this.adopt(ref, st.containerId, st.engineId, st);
      entry.removed = true;
      if (st.terminal !== undefined) continue;
      recovered.push(entry);
      if (st.engineId === undefined) this.report(entry, { state: 'FAILED', reason: 'AGENT_RESTARTED', message: 'the agent restarted before the container was created' });
      else this.finish(entry, { lost: 'the container disappeared while the agent was down' });
    }
    await Promise.all(settling);
    return { recovered: recovered.map((e) => this.info(e)), orphans };
  }

  private adopt(ref: TaskRef, containerId: string, dockerId: string | undefined, state: ContainerStateFile | undefined): DockerEntry {
    const sandboxDir = state?.sandboxDir ?? join(this.options.workDir, 'containers', containerId);
    const status = state?.terminal
      ? { ...ref, containerId, ...state.terminal, reason: state.terminal.reason as ContainerInfo['status']['reason'] }
      : { ...ref, containerId, state: 'RUNNING' as const, timestamp: nowSeconds() };
    const entry = this.dockerEntry(this.baseEntry(ref, containerId, sandboxDir, state?.spec ?? { name: ref.taskId }, state, status), dockerId);
    if (state?.terminal) entry.done.resolve(status);
    this.register(entry);
    return entry;
  }

  protected async shutdown(): Promise<void> {
    if (this.monitorTimer) clearTimeout(this.monitorTimer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushCursors();
    this.events?.destroy();
    this.events = undefined;
    for (const entry of this.entries.values()) entry.logStream?.destroy();
  }
}

/** Mesos's mapping: a shell command overrides the entrypoint with `/bin/sh -c`. */
function dockerCommand(cmd: CommandSpec | undefined): { Entrypoint?: string[]; Cmd?: string[] } {
  if (cmd === undefined) return {};
  if (cmd.shell) return { Entrypoint: ['/bin/sh', '-c'], Cmd: [cmd.value ?? ''] };
  if (cmd.value !== undefined && cmd.value !== '') return { Entrypoint: [cmd.value], Cmd: [...(cmd.arguments ?? []).slice(1)] };
  // No program named: the image's own entrypoint and command (only its environment applies).
  if ((cmd.arguments ?? []).length === 0) return {};
  return { Cmd: [...(cmd.arguments ?? [])] };
}
