import { isAbsolute } from 'node:path';
import { isValidId } from '../../core/ids.js';
import { assertResources, MAX_PORT, rangesContain, type PortRange, type Resources } from '../../core/resources.js';
import type { CommandSpec, HealthCheckSpec, TaskSpec } from '../../core/task.js';
import type { LaunchRequest } from './containerizer.js';

// Launch input is checked before anything touches the engine or the disk: a bad task ends in
// TASK_ERROR / TASK_INVALID with a message naming the field, and leaves nothing behind.

export class InvalidTask extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

/** Labels the containerizer sets itself; a task label may not shadow them. */
export const LABEL_TASK_ID = 'stratus.task_id';
export const LABEL_FRAMEWORK_ID = 'stratus.framework_id';
export const LABEL_AGENT_ID = 'stratus.agent_id';
export const LABEL_CONTAINER_ID = 'stratus.container_id';
export const RESERVED_LABELS: ReadonlySet<string> = new Set([LABEL_TASK_ID, LABEL_FRAMEWORK_ID, LABEL_AGENT_ID, LABEL_CONTAINER_ID]);

const MAX_ASSIGNED_PORTS = 1024;

// Docker's reference grammar (distribution/reference): [domain/]path[:tag][@digest].
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|-+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}';
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);

export function isValidImageReference(image: string): boolean {
  const name = image.split(/[:@]/)[0] ?? '';
  return image.length > 0 && name.length <= 255 && REFERENCE.test(image);
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

function checkEnv(env: unknown, field: string): void {
  if (env === undefined) return;
  if (typeof env !== 'object' || env === null) throw new InvalidTask(field, 'must be an object of strings');
  for (const [k, v] of Object.entries(env)) {
    if (k.length === 0 || k.includes('=') || k.includes('\0')) throw new InvalidTask(`${field}.${k}`, 'is not a valid variable name');
    if (!isString(v) || v.includes('\0')) throw new InvalidTask(`${field}.${k}`, 'must be a string without NUL');
  }
}

/** The program and its arguments, or undefined when the spec names no program. */
export function commandArgv(cmd: CommandSpec): string[] | undefined {
  if (cmd.shell) return cmd.value !== undefined && cmd.value.trim() !== '' ? ['/bin/sh', '-c', cmd.value] : undefined;
  const args = cmd.arguments ?? [];
  if (cmd.value !== undefined && cmd.value !== '') return [cmd.value, ...args.slice(1)];
  return args.length > 0 && args[0] !== '' ? [...args] : undefined;
}

/**
 * Checks a command; with `imageDefault` (a Docker task with an image) a non-shell command that
 * names no program is allowed and means the image's own entrypoint, run with its environment.
 */
export function checkCommand(cmd: unknown, field: string, imageDefault = false): asserts cmd is CommandSpec {
  if (typeof cmd !== 'object' || cmd === null) throw new InvalidTask(field, 'must be an object');
  const c = cmd as Partial<CommandSpec>;
  if (typeof c.shell !== 'boolean') throw new InvalidTask(`${field}.shell`, 'must be a boolean');
  if (c.value !== undefined && !isString(c.value)) throw new InvalidTask(`${field}.value`, 'must be a string');
  if (c.arguments !== undefined && (!Array.isArray(c.arguments) || !c.arguments.every(isString))) {
    throw new InvalidTask(`${field}.arguments`, 'must be a list of strings');
  }
  if (c.user !== undefined && (!isString(c.user) || c.user === '')) throw new InvalidTask(`${field}.user`, 'must be a non-empty string');
  checkEnv(c.environment, `${field}.environment`);
  if (commandArgv(c as CommandSpec) === undefined && !(imageDefault && !c.shell)) {
    throw new InvalidTask(field, c.shell ? 'the shell command (value) is empty' : 'names no program (value or arguments[0])');
  }
}

function checkSeconds(v: unknown, field: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidTask(field, 'must be a non-negative number of seconds');
}

function checkPort(v: unknown, field: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_PORT) throw new InvalidTask(field, `must be a port 1-${MAX_PORT}`);
}

function checkHealthCheck(hc: HealthCheckSpec, network: 'HOST' | 'NONE'): void {
  const f = 'spec.healthCheck';
  for (const k of ['delaySeconds', 'intervalSeconds', 'timeoutSeconds', 'gracePeriodSeconds'] as const) checkSeconds(hc[k], `${f}.${k}`);
  if (!Number.isInteger(hc.consecutiveFailures) || hc.consecutiveFailures < 0) {
    throw new InvalidTask(`${f}.consecutiveFailures`, 'must be a non-negative integer');
  }
  switch (hc.type) {
    case 'COMMAND':
      if (hc.command === undefined) throw new InvalidTask(`${f}.command`, 'is required for a COMMAND check');
      checkCommand(hc.command, `${f}.command`);
      return;
    case 'HTTP':
      if (hc.http === undefined) throw new InvalidTask(`${f}.http`, 'is required for an HTTP check');
      checkPort(hc.http.port, `${f}.http.port`);
      if (!isString(hc.http.path) || !hc.http.path.startsWith('/')) throw new InvalidTask(`${f}.http.path`, "must start with '/'");
      break;
    case 'TCP':
      if (hc.tcp === undefined) throw new InvalidTask(`${f}.tcp`, 'is required for a TCP check');
      checkPort(hc.tcp.port, `${f}.tcp.port`);
      break;
    default:
      throw new InvalidTask(`${f}.type`, 'must be COMMAND, HTTP or TCP');
  }
  // HTTP/TCP probes run from the agent's network namespace: a NONE-network task is unreachable.
  if (network === 'NONE') throw new InvalidTask(`${f}.type`, `${hc.type} checks need HOST networking (the task has NONE)`);
}

function expandPorts(ranges: readonly PortRange[]): number[] | undefined {
  const out: number[] = [];
  for (const r of ranges) {
    for (let p = r.begin; p <= r.end; p++) {
      if (out.length >= MAX_ASSIGNED_PORTS) return undefined;
      out.push(p);
    }
  }
  return out;
}

export interface ValidatedLaunch {
  readonly ports: readonly number[];
  /** Program and arguments; undefined means the image's default command (Docker only). */
  readonly argv: readonly string[] | undefined;
  readonly killGracePeriodMs: number | undefined;
  readonly network: 'HOST' | 'NONE';
}

export interface ValidationContext {
  readonly agentId: string;
  readonly agentPorts?: readonly PortRange[];
  /** Docker: whether the task may run its image's default command (it has an image). */
  readonly imageAllowsNoCommand: boolean;
}

/** Checks what every containerizer needs; throws InvalidTask naming the field. */
export function validateLaunch(req: LaunchRequest, ctx: ValidationContext): ValidatedLaunch {
  if (typeof req !== 'object' || req === null) throw new InvalidTask('request', 'must be an object');
  for (const [k, v] of [['taskId', req.taskId], ['frameworkId', req.frameworkId], ['agentId', req.agentId]] as const) {
    if (!isValidId(v)) throw new InvalidTask(k, 'is missing or malformed');
  }
  if (req.agentId !== ctx.agentId) throw new InvalidTask('agentId', `task is for agent ${req.agentId}, this is agent ${ctx.agentId}`);
  const spec: TaskSpec | undefined = req.spec;
  if (typeof spec !== 'object' || spec === null) throw new InvalidTask('spec', 'is required');
  try {
    assertResources(req.resources, 'resources');
  } catch (e) {
    throw new InvalidTask('resources', (e as Error).message);
  }
  const resources: Resources = req.resources;

  let ports: readonly number[];
  if (req.ports !== undefined) {
    if (!Array.isArray(req.ports)) throw new InvalidTask('ports', 'must be a list of port numbers');
    req.ports.forEach((p, i) => checkPort(p, `ports[${i}]`));
    if (new Set(req.ports).size !== req.ports.length) throw new InvalidTask('ports', 'must not repeat a port');
    if (req.ports.length > MAX_ASSIGNED_PORTS) throw new InvalidTask('ports', `at most ${MAX_ASSIGNED_PORTS} ports`);
    ports = req.ports;
    const outside = ports.find((p) => !rangesContain(resources.ports, [{ begin: p, end: p }]));
    if (resources.ports.length > 0 && outside !== undefined) {
      throw new InvalidTask('ports', `port ${outside} is not in the task's ports resource`);
    }
  } else {
    const expanded = expandPorts(resources.ports);
    if (expanded === undefined) throw new InvalidTask('resources.ports', `at most ${MAX_ASSIGNED_PORTS} ports`);
    ports = expanded;
  }
  if (ports.includes(0)) throw new InvalidTask('ports', 'port 0 cannot be assigned');
  if (ctx.agentPorts !== undefined) {
    const outside = ports.find((p) => !rangesContain(ctx.agentPorts ?? [], [{ begin: p, end: p }]));
    if (outside !== undefined) {
      const range = ctx.agentPorts.map((r) => `${r.begin}-${r.end}`).join(',') || 'none';
      throw new InvalidTask('ports', `port ${outside} is outside the agent's port range [${range}]`);
    }
  }

  let argv: string[] | undefined;
  if (spec.command !== undefined) {
    checkCommand(spec.command, 'spec.command', ctx.imageAllowsNoCommand);
    argv = commandArgv(spec.command);
  } else if (!ctx.imageAllowsNoCommand) {
    throw new InvalidTask('spec.command', 'the task has neither a command nor a container image');
  }

  if (spec.killGracePeriodMs !== undefined) {
    const g = spec.killGracePeriodMs;
    if (typeof g !== 'number' || !Number.isFinite(g) || g < 0) throw new InvalidTask('spec.killGracePeriodMs', 'must be a non-negative number');
  }
  if (spec.labels !== undefined) {
    if (typeof spec.labels !== 'object' || spec.labels === null) throw new InvalidTask('spec.labels', 'must be an object of strings');
    for (const [k, v] of Object.entries(spec.labels)) {
      if (k === '' || !isString(v)) throw new InvalidTask(`spec.labels.${k}`, 'must be a non-empty key with a string value');
      if (RESERVED_LABELS.has(k)) throw new InvalidTask(`spec.labels.${k}`, 'is reserved for the containerizer');
    }
  }
  if (spec.workingDir !== undefined && (!isString(spec.workingDir) || spec.workingDir === '' || spec.workingDir.includes('\0'))) {
    throw new InvalidTask('spec.workingDir', 'must be a non-empty path');
  }
  if (req.sandboxDir !== undefined && (!isString(req.sandboxDir) || !isAbsolute(req.sandboxDir))) {
    throw new InvalidTask('sandboxDir', 'must be an absolute path');
  }
  const network = spec.container?.docker?.network ?? 'HOST';
  if (network !== 'HOST' && network !== 'NONE') throw new InvalidTask('spec.container.docker.network', 'must be HOST or NONE');
  if (spec.healthCheck !== undefined) checkHealthCheck(spec.healthCheck, network);
  return { ports, argv, killGracePeriodMs: spec.killGracePeriodMs, network };
}

/** Marathon-style port variables: PORT0..n, PORTS, PORT (the first). */
export function portEnvironment(ports: readonly number[]): Record<string, string> {
  const env: Record<string, string> = {};
  if (ports.length === 0) return env;
  ports.forEach((p, i) => (env[`PORT${i}`] = String(p)));
  env.PORTS = ports.join(',');
  env.PORT = String(ports[0]);
  return env;
}
