import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import { agentId, taskId, type AgentId, type TaskId } from '../../core/ids.js';
import type { Resources } from '../../core/resources.js';
import type { CommandSpec, ContainerSpec, HealthCheckSpec, TaskSpec } from '../../core/task.js';
import { decodeResources, mesosResources } from '../../wire/mesos-resources.js';
import { decodeTaskExecutor } from './executor-info.js';
import { finiteNumber, idValue, int64, labels, labelsToRecord, parse } from '../../wire/validate.js';

// Mesos's TaskInfo (JSON) -> the launch contract the agent understands (TaskSpec).

const environment = z.object({
  variables: z.array(z.object({ name: z.string().min(1).max(1024), value: z.string().max(65536).optional(), type: z.enum(['VALUE', 'SECRET', 'UNKNOWN']).optional() })).max(1024).default([]),
});

export const commandInfo = z.object({
  shell: z.boolean().optional(),
  value: z.string().max(65536).optional(),
  arguments: z.array(z.string().max(65536)).max(1024).optional(),
  environment: environment.optional(),
  user: z.string().max(255).optional(),
  uris: z.array(z.unknown()).optional(),
});

const dockerInfo = z.object({
  image: z.string().min(1).max(1024),
  network: z.enum(['HOST', 'BRIDGE', 'NONE', 'USER']).optional(),
  force_pull_image: z.boolean().optional(),
  privileged: z.boolean().optional(),
  parameters: z.array(z.unknown()).optional(),
  port_mappings: z.array(z.unknown()).optional(),
});

export const containerInfo = z.object({
  type: z.enum(['DOCKER', 'MESOS']),
  docker: dockerInfo.optional(),
  mesos: z.object({ image: z.object({ type: z.enum(['DOCKER', 'APPC']).optional(), docker: z.object({ name: z.string().min(1).max(1024) }).optional() }).optional() }).optional(),
  volumes: z.array(z.unknown()).optional(),
  network_infos: z.array(z.unknown()).optional(),
  hostname: z.string().optional(),
});

const healthCheck = z.object({
  type: z.enum(['COMMAND', 'HTTP', 'TCP']),
  command: commandInfo.optional(),
  http: z.object({ port: z.number().int().min(1).max(65535), path: z.string().max(2048).optional(), scheme: z.string().optional() }).optional(),
  tcp: z.object({ port: z.number().int().min(1).max(65535) }).optional(),
  delay_seconds: finiteNumber.min(0).optional(),
  interval_seconds: finiteNumber.positive().optional(),
  timeout_seconds: finiteNumber.positive().optional(),
  consecutive_failures: z.number().int().min(1).optional(),
  grace_period_seconds: finiteNumber.min(0).optional(),
});

export const killPolicy = z.object({ grace_period: z.object({ nanoseconds: int64 }).optional() });

const discovery = z.object({
  visibility: z.enum(['FRAMEWORK', 'CLUSTER', 'EXTERNAL']).optional(),
  name: z.string().min(1).max(255).optional(),
  ports: z.object({ ports: z.array(z.object({ number: z.number().int().min(0).max(65535), name: z.string().max(255).optional(), protocol: z.string().max(32).optional() })).max(64).default([]) }).optional(),
});

export const taskInfo = z.object({
  name: z.string().max(1024),
  task_id: idValue,
  agent_id: idValue,
  resources: mesosResources,
  executor: z.unknown().optional(),
  command: commandInfo.optional(),
  container: containerInfo.optional(),
  health_check: healthCheck.optional(),
  kill_policy: killPolicy.optional(),
  labels: labels.optional(),
  discovery: discovery.optional(),
  data: z.string().optional(),
});
export type MesosTaskInfo = z.output<typeof taskInfo>;

export interface DecodedTask {
  readonly taskId: TaskId;
  readonly agentId: AgentId;
  readonly resources: Resources;
  readonly spec: TaskSpec;
}

const MAX_KILL_GRACE_MS = 24 * 3600 * 1000;

function decodeEnvironment(c: z.output<typeof commandInfo>, field: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of c.environment?.variables ?? []) {
    if (v.type === 'SECRET') throw new ValidationError(`${field}.environment: SECRET variables are not supported`, `${field}.environment`);
    env[v.name] = v.value ?? '';
  }
  return env;
}

/**
 * CommandInfo -> CommandSpec. With `imageDefault` (the task has a container image) a command
 * that names no program means "the image's own entrypoint" with the given environment, as in
 * Mesos's Docker containerizer.
 */
export function decodeCommand(c: z.output<typeof commandInfo>, field: string, imageDefault = false): CommandSpec {
  const names = (c.value !== undefined && c.value.trim() !== '') || (c.arguments !== undefined && c.arguments.length > 0);
  const env = decodeEnvironment(c, field);
  if (!names && imageDefault) {
    return { shell: false, ...(Object.keys(env).length ? { environment: env } : {}), ...(c.user ? { user: c.user } : {}) };
  }
  const shell = c.shell ?? true;
  if (shell && (c.value === undefined || c.value.trim() === '')) {
    throw new ValidationError(`${field}.value must be a non-empty shell command`, `${field}.value`);
  }
  if (!shell && (c.value === undefined || c.value === '') && (c.arguments === undefined || c.arguments.length === 0)) {
    throw new ValidationError(`${field}: a command without shell needs value (the program) or arguments`, `${field}.value`);
  }
  return {
    shell,
    ...(c.value !== undefined ? { value: c.value } : {}),
    ...(c.arguments ? { arguments: c.arguments } : {}),
    ...(Object.keys(env).length ? { environment: env } : {}),
    ...(c.user ? { user: c.user } : {}),
  };
}

// Docker image references: [registry/]name[:tag][@digest], lower-case path components.
const IMAGE_PATTERN = /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** ContainerInfo -> ContainerSpec; undefined when it names no image (a MESOS container without one). */
export function decodeContainer(c: z.output<typeof containerInfo>, field: string): ContainerSpec | undefined {
  const image = c.docker?.image ?? c.mesos?.image?.docker?.name;
  if (c.type === 'DOCKER' && !c.docker) {
    throw new ValidationError(`${field}.container.docker is required for a DOCKER container`, `${field}.container.docker`);
  }
  if (image === undefined) return undefined;
  if (!IMAGE_PATTERN.test(image)) throw new ValidationError(`${field}.container image '${image.slice(0, 128)}' is not a valid image reference`, `${field}.container.docker.image`);
  const net = c.docker?.network ?? 'HOST';
  if (net === 'BRIDGE' || net === 'USER') {
    throw new ValidationError(`${field}.container.docker.network ${net} is not supported (HOST or NONE)`, `${field}.container.docker.network`);
  }
  return { type: c.type, docker: { image, network: net, pullPolicy: c.docker?.force_pull_image ? 'ALWAYS' : 'IF_NOT_PRESENT' } };
}

export function decodeTaskInfo(value: unknown, field: string): DecodedTask {
  const t = parse(taskInfo, value, field);
  const tid = taskId(t.task_id.value, `${field}.task_id.value`);
  const aid = agentId(t.agent_id.value, `${field}.agent_id.value`);
  const res = decodeResources(t.resources, `${field}.resources`);
  if (res.cpus === 0 && res.mem === 0) {
    throw new ValidationError(`${field}.resources must include cpus or mem`, `${field}.resources`);
  }
  const container = t.container ? decodeContainer(t.container, field) : undefined;
  // A custom executor runs the task; otherwise the task is a command (or an image's own).
  const executor = t.executor !== undefined ? decodeTaskExecutor(t.executor, t.command !== undefined, `${field}.executor`) : undefined;
  if (!executor && !t.command && !container) {
    throw new ValidationError(`${field} needs a command or a container image`, `${field}.command`);
  }
  const command = t.command ? decodeCommand(t.command, `${field}.command`, container?.docker !== undefined) : undefined;
  let healthCheck: HealthCheckSpec | undefined;
  if (t.health_check) {
    const h = t.health_check;
    const hf = `${field}.health_check`;
    if (h.type === 'COMMAND' && !h.command) throw new ValidationError(`${hf}.command is required for a COMMAND check`, `${hf}.command`);
    if (h.type === 'HTTP' && !h.http) throw new ValidationError(`${hf}.http is required for an HTTP check`, `${hf}.http`);
    if (h.type === 'TCP' && !h.tcp) throw new ValidationError(`${hf}.tcp is required for a TCP check`, `${hf}.tcp`);
    if (h.http?.scheme && h.http.scheme !== 'http') throw new ValidationError(`${hf}.http.scheme must be http`, `${hf}.http.scheme`);
    healthCheck = {
      type: h.type,
      ...(h.command ? { command: decodeCommand(h.command, `${hf}.command`) } : {}),
      ...(h.http ? { http: { port: h.http.port, path: h.http.path ?? '/', scheme: 'http' as const } } : {}),
      ...(h.tcp ? { tcp: { port: h.tcp.port } } : {}),
      delaySeconds: h.delay_seconds ?? 15,
      intervalSeconds: h.interval_seconds ?? 10,
      timeoutSeconds: h.timeout_seconds ?? 20,
      consecutiveFailures: h.consecutive_failures ?? 3,
      gracePeriodSeconds: h.grace_period_seconds ?? 10,
    };
  }
  let killGracePeriodMs: number | undefined;
  if (t.kill_policy?.grace_period) {
    const ns = t.kill_policy.grace_period.nanoseconds;
    if (ns < 0 || ns / 1e6 > MAX_KILL_GRACE_MS) throw new ValidationError(`${field}.kill_policy.grace_period must be between 0 and 24 h`, `${field}.kill_policy.grace_period.nanoseconds`);
    killGracePeriodMs = Math.round(ns / 1e6);
  }
  const spec: TaskSpec = {
    name: t.name,
    ...(command ? { command } : {}),
    ...(container ? { container } : {}),
    ...(t.labels ? { labels: labelsToRecord(t.labels)! } : {}),
    ...(healthCheck ? { healthCheck } : {}),
    ...(killGracePeriodMs !== undefined ? { killGracePeriodMs } : {}),
    ...(t.discovery?.name ? { discovery: { name: t.discovery.name, ports: t.discovery.ports?.ports ?? [] } } : {}),
    ...(executor ? { executorId: executor.executorId, executor } : {}),
    ...(executor && t.data !== undefined ? { data: t.data } : {}),
  };
  return { taskId: tid, agentId: aid, resources: res, spec };
}

const taskRefSchema = z.object({ task_id: idValue, agent_id: idValue });

/**
 * A TaskInfo's ids alone. A task whose ids read but whose rest is invalid or unsupported is
 * answered per task (TASK_ERROR), as Mesos does; without readable ids the call itself is refused.
 */
export function decodeTaskRef(value: unknown, field: string): { readonly taskId: TaskId; readonly agentId: AgentId } {
  const t = parse(taskRefSchema, value, field);
  return { taskId: taskId(t.task_id.value, `${field}.task_id.value`), agentId: agentId(t.agent_id.value, `${field}.agent_id.value`) };
}
