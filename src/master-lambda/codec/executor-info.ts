import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import { executorId } from '../../core/ids.js';
import type { JsonObject } from '../../core/json.js';
import { toJson } from '../../core/json.js';
import type { ExecutorSpec } from '../../core/task.js';
import { decodeResources, mesosResources } from '../../wire/mesos-resources.js';
import { idValue, int64, labels, parse, withoutNulls } from '../../wire/validate.js';
import { commandInfo, containerInfo, decodeCommand, decodeContainer } from './task-info.js';

// Mesos's ExecutorInfo in a TaskInfo (a custom executor) -> ExecutorSpec. The schema is built on
// first use: task-info.ts imports this module, and this one uses task-info's schemas.

let schema: z.ZodType | undefined;

function executorInfo() {
  schema ??= z.object({
    type: z.enum(['UNKNOWN', 'DEFAULT', 'CUSTOM']).optional(),
    executor_id: idValue,
    framework_id: idValue.optional(),
    command: commandInfo.optional(),
    container: containerInfo.optional(),
    resources: mesosResources.optional(),
    name: z.string().max(1024).optional(),
    source: z.string().max(1024).optional(),
    data: z.string().max(1 << 20).optional(),
    labels: labels.optional(),
    shutdown_grace_period: z.object({ nanoseconds: int64 }).optional(),
    discovery: z.unknown().optional(),
  });
  return schema;
}

type MesosExecutorInfo = {
  type?: string;
  executor_id: { value: string };
  framework_id?: { value: string };
  command?: z.output<typeof commandInfo>;
  container?: z.output<typeof containerInfo>;
  resources?: unknown[];
  name?: string;
};

/**
 * A TaskInfo's `executor`. As in Mesos, a task has a command or an executor, not both; the
 * executor must be a CUSTOM one (the default executor runs task groups) with a command.
 */
export function decodeTaskExecutor(value: unknown, taskHasCommand: boolean, field: string): ExecutorSpec {
  const e = parse(executorInfo(), withoutNulls(value), field) as MesosExecutorInfo;
  const parent = field.replace(/\.executor$/, '');
  if (taskHasCommand) throw new ValidationError(`${parent} has both a command and an executor: a task has one of them`, `${parent}.command`);
  if (e.type === 'DEFAULT') throw new ValidationError(`${field}.type DEFAULT runs task groups (LAUNCH_GROUP), not a task of its own`, `${field}.type`);
  if (!e.command) throw new ValidationError(`${field}.command is required for a CUSTOM executor`, `${field}.command`);
  const id = executorId(e.executor_id.value, `${field}.executor_id.value`);
  const container = e.container ? decodeContainer(e.container, field) : undefined;
  const command = decodeCommand(e.command, `${field}.command`, container?.docker !== undefined);
  const resources = decodeResources(e.resources ?? [], `${field}.resources`);
  return {
    executorId: id,
    ...(e.name !== undefined ? { name: e.name } : {}),
    command,
    ...(container ? { container } : {}),
    resources,
    info: toJson(e) as JsonObject,
  };
}

/** Two ExecutorInfos are the same executor when they match field for field (framework_id aside, which the master fills in). */
export function executorFingerprint(spec: ExecutorSpec): string {
  const { framework_id: _f, ...rest } = spec.info;
  return canonical(rest);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
