import type Docker from 'dockerode';
import type { CommandSpec, TaskSpec } from '../../../core/task.js';
import type { TaskRef } from '../containerizer.js';
import { LABEL_AGENT_ID, LABEL_CONTAINER_ID, LABEL_FRAMEWORK_ID, LABEL_TASK_ID, portEnvironment } from '../validation.js';

// What a task becomes in Docker (POST /containers/create), like Mesos's Docker containerizer:
// host networking unless the task asks for none, a CFS quota and a hard memory limit from its
// resources, Mesos's environment, and Stratus's labels (recovery finds its containers by them).
// Pure: everything it needs about the host comes in.

export interface CreateOptionsInput {
  /** The Docker container name. */
  readonly name: string;
  readonly image: string;
  readonly task: TaskRef;
  readonly agentId: string;
  /** Stratus's container id. */
  readonly containerId: string;
  readonly spec: TaskSpec;
  /** Millicpus and MiB; 0 is no limit. */
  readonly resources: { readonly cpus: number; readonly mem: number };
  /** Host ports assigned to the task (PORT0..n). */
  readonly ports: readonly number[];
  readonly network: 'HOST' | 'NONE';
  /** Run docker-init as PID 1. */
  readonly init: boolean;
  /** The agent's cap of a task's log per stream (the engine keeps a few times that). */
  readonly logCapBytes: number;
  /** The agent host: its name (HOST in the task's environment) and CPU count (the largest CPU limit Docker takes). */
  readonly host: { readonly hostname: string; readonly cpuCount: number };
}

const MiB = 1024 * 1024;

export function createOptions(input: CreateOptionsInput): Docker.ContainerCreateOptions {
  const { spec, resources } = input;
  const env: Record<string, string> = {
    HOST: input.host.hostname,
    MESOS_TASK_ID: input.task.taskId,
    MESOS_FRAMEWORK_ID: input.task.frameworkId,
    MESOS_AGENT_ID: input.agentId,
    MESOS_CONTAINER_ID: input.containerId,
    ...portEnvironment(input.ports),
    ...spec.command?.environment,
  };
  const labels: Record<string, string> = {
    ...spec.labels,
    [LABEL_TASK_ID]: input.task.taskId,
    [LABEL_FRAMEWORK_ID]: input.task.frameworkId,
    [LABEL_AGENT_ID]: input.agentId,
    [LABEL_CONTAINER_ID]: input.containerId,
  };
  // Docker refuses a CPU limit above the host's CPU count; a larger share is no limit anyway.
  const nanoCpus = resources.cpus > 0 ? Math.min(Math.max(resources.cpus, 10), input.host.cpuCount * 1000) * 1_000_000 : undefined;
  const memory = resources.mem > 0 ? resources.mem * MiB : undefined;
  const logMiB = Math.max(1, Math.ceil((input.logCapBytes * 4) / MiB));
  return {
    name: input.name,
    Image: input.image,
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
      NetworkMode: input.network === 'NONE' ? 'none' : 'host',
      ...(nanoCpus !== undefined && { NanoCpus: nanoCpus, CpuShares: Math.max(2, Math.round((resources.cpus * 1024) / 1000)) }),
      ...(memory !== undefined && { Memory: memory, MemorySwap: memory }),
      Init: input.init,
      // The engine's copy of the output only needs to outlive a short agent outage.
      LogConfig: { Type: 'json-file', Config: { 'max-size': `${logMiB}m`, 'max-file': '2' } },
    },
  };
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
