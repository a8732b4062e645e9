import { request } from 'node:http';
import type { AgentId } from '../core/ids.js';
import type { PortRange } from '../core/resources.js';
import { isTerminal } from '../core/task-state.js';
import type { Containerizer, ContainerInfo, ContainerizerEvent, EngineHealth, TaskRef } from './containerizer/containerizer.js';
import { DockerContainerizer } from './containerizer/docker/docker-containerizer.js';
import { ProcessContainerizer } from './containerizer/process-containerizer.js';
import { readStates } from './containerizer/state-file.js';

// Which containerizer runs a task (Mesos's --containerizers=docker,mesos):
//   docker   every task in Docker (a task without an image runs in the default image, if set)
//   process  every task as a host process (a task with an image is refused)
//   auto     Docker for tasks that name an image and the process containerizer for plain
//            commands, when a Docker engine answers at start (or this agent already has Docker
//            containers to recover); otherwise the process containerizer alone.

export type ContainerizerMode = 'docker' | 'process' | 'auto';

export interface ContainerizerSetOptions {
  readonly mode: ContainerizerMode;
  readonly agentId: AgentId;
  readonly workDir: string;
  readonly agentPorts: readonly PortRange[];
  readonly dockerSocket: string;
  /** Image for tasks without one under --containerizer docker. */
  readonly defaultImage?: string;
  readonly logCapBytes?: number;
  readonly log: (message: string) => void;
  /** Docker engine pings while healthy; default 5 s. */
  readonly engineCheckIntervalMs?: number;
  /** How long a Docker launch waits for an unavailable engine; default 30 s. */
  readonly engineRetryMs?: number;
  /** How long `auto` waits for the engine's answer at start. Default 2 s. */
  readonly engineProbeMs?: number;
}

export type ContainerizerSetEvent = ContainerizerEvent & { readonly containerizer: Containerizer };

export interface RunningContainer extends ContainerInfo {
  readonly containerizer: 'docker' | 'process';
}

/** GET /_ping on the engine's socket, bounded: does a Docker engine answer there? */
export function pingDocker(socketPath: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

export class ContainerizerSet {
  private constructor(
    readonly docker: DockerContainerizer | undefined,
    readonly process: ProcessContainerizer | undefined,
    /** Why the set is what it is, for the log. */
    readonly description: string,
  ) {}

  static async create(o: ContainerizerSetOptions): Promise<ContainerizerSet> {
    const common = { agentId: o.agentId, workDir: o.workDir, agentPorts: o.agentPorts, log: o.log, ...(o.logCapBytes !== undefined && { logCapBytes: o.logCapBytes }) };
    const docker = (): DockerContainerizer =>
      new DockerContainerizer({
        ...common,
        socketPath: o.dockerSocket,
        ...(o.defaultImage !== undefined && { defaultImage: o.defaultImage }),
        ...(o.engineCheckIntervalMs !== undefined && { engineCheckIntervalMs: o.engineCheckIntervalMs }),
        ...(o.engineRetryMs !== undefined && { engineRetryMs: o.engineRetryMs }),
      });
    const proc = (): ProcessContainerizer => new ProcessContainerizer(common);
    switch (o.mode) {
      case 'docker':
        return new ContainerizerSet(docker(), undefined, `Docker engine at ${o.dockerSocket}`);
      case 'process':
        return new ContainerizerSet(undefined, proc(), 'process containerizer (host processes)');
      case 'auto': {
        const answers = await pingDocker(o.dockerSocket, o.engineProbeMs ?? 2_000);
        const hasContainers = readStates(o.workDir, 'docker', o.agentId, () => undefined).length > 0;
        if (answers || hasContainers) {
          const why = answers ? 'answers' : 'does not answer yet, but this agent has Docker containers to recover';
          return new ContainerizerSet(docker(), proc(), `Docker engine at ${o.dockerSocket} ${why} (images in Docker, plain commands as host processes)`);
        }
        return new ContainerizerSet(undefined, proc(), `no Docker engine answers at ${o.dockerSocket}: process containerizer only (tasks with an image are refused)`);
      }
    }
  }

  list(): Containerizer[] {
    return [this.docker, this.process].filter((c): c is DockerContainerizer | ProcessContainerizer => c !== undefined);
  }

  /** The containerizer for a launch; `spec` is unchecked input from the master. */
  pick(spec: unknown): Containerizer {
    const container = typeof spec === 'object' && spec !== null ? (spec as { container?: unknown }).container : undefined;
    const wantsImage = typeof container === 'object' && container !== null && (container as { type?: unknown }).type === 'DOCKER';
    if (wantsImage) return this.docker ?? this.process!;
    return this.process ?? this.docker!;
  }

  /** The containerizer that knows the task, if any. */
  owner(ref: TaskRef): Containerizer | undefined {
    return this.list().find((c) => c.status(ref) !== undefined);
  }

  subscribe(listener: (event: ContainerizerSetEvent) => void): () => void {
    const offs = this.list().map((c) => c.subscribe((e) => listener({ ...e, containerizer: c })));
    return () => offs.forEach((off) => off());
  }

  containers(): RunningContainer[] {
    return this.list().flatMap((c) => c.containers().map((i) => ({ ...i, containerizer: c.kind })));
  }

  running(): RunningContainer[] {
    return this.containers().filter((i) => !isTerminal(i.status.state));
  }

  /** The Docker engine's health, when Docker is in use. */
  engineHealth(): EngineHealth | undefined {
    return this.docker?.engineHealth();
  }

  async close(): Promise<void> {
    await Promise.all(this.list().map((c) => c.close()));
  }
}
