import type { Resources } from '../core/resources.js';
import { mesosResources, portNumbers, type CommandInfo, type HealthCheckInfo, type TaskInfo } from '../sdk/index.js';
import type { JobSpec } from './spec.js';

// A job instance's Mesos TaskInfo: the spec's command and/or Docker image, the resources Fenzo
// assigned (ports picked from the offer), Marathon-style environment (PORT0.., HOST) and labels
// that tie the task back to its job and slot.

export const JOB_LABEL = 'stratus.job';
export const INSTANCE_LABEL = 'stratus.instance';

export interface TaskPlacement {
  readonly taskId: string;
  readonly agentId: string;
  readonly hostname: string;
  /** As assigned by Fenzo: fixed units (millicpus), ports as ranges. */
  readonly resources: Resources;
  /** The offers' allocation role. */
  readonly role?: string;
}

function healthCheckInfo(spec: JobSpec, ports: readonly number[]): HealthCheckInfo | undefined {
  const hc = spec.healthCheck;
  if (!hc) return undefined;
  const port = hc.port ?? (hc.portIndex !== undefined ? ports[hc.portIndex] : undefined);
  const timing = {
    ...(hc.delaySeconds !== undefined ? { delay_seconds: hc.delaySeconds } : {}),
    ...(hc.intervalSeconds !== undefined ? { interval_seconds: hc.intervalSeconds } : {}),
    ...(hc.timeoutSeconds !== undefined ? { timeout_seconds: hc.timeoutSeconds } : {}),
    ...(hc.gracePeriodSeconds !== undefined ? { grace_period_seconds: hc.gracePeriodSeconds } : {}),
    ...(hc.consecutiveFailures !== undefined ? { consecutive_failures: hc.consecutiveFailures } : {}),
  };
  if (hc.type === 'command') return { type: 'COMMAND', command: { shell: true, value: hc.command! }, ...timing };
  if (port === undefined) return undefined;
  if (hc.type === 'http') return { type: 'HTTP', http: { port, path: hc.path ?? '/' }, ...timing };
  return { type: 'TCP', tcp: { port }, ...timing };
}

export function buildTaskInfo(spec: JobSpec, index: number, placement: TaskPlacement): TaskInfo {
  const r = placement.resources;
  const ports = portNumbers(r.ports);
  const env: Record<string, string> = {
    ...spec.env,
    STRATUS_JOB: spec.name,
    STRATUS_INSTANCE: String(index),
    STRATUS_TASK_ID: placement.taskId,
    HOST: placement.hostname,
    ...(ports.length > 0 ? { PORTS: ports.join(','), PORT: String(ports[0]) } : {}),
  };
  ports.forEach((p, i) => (env[`PORT${i}`] = String(p)));
  const environment = { variables: Object.entries(env).map(([name, value]) => ({ name, value })) };
  let command: CommandInfo | undefined;
  if (typeof spec.command === 'string') command = { shell: true, value: spec.command, environment };
  else if (spec.command !== undefined) command = { shell: false, value: spec.command[0]!, arguments: spec.command, environment };
  // An image without a command runs its entrypoint: the master takes no CommandInfo without a value.
  const hc = healthCheckInfo(spec, ports);
  return {
    name: `${spec.name}.${index}`,
    task_id: { value: placement.taskId },
    agent_id: { value: placement.agentId },
    resources: mesosResources({ cpus: r.cpus / 1000, mem: r.mem, disk: r.disk, network: r.network, ports: r.ports }, placement.role),
    ...(command ? { command } : {}),
    ...(spec.image ? { container: { type: 'DOCKER' as const, docker: { image: spec.image, network: 'HOST' as const } } } : {}),
    ...(hc ? { health_check: hc } : {}),
    ...(spec.killGraceSeconds !== undefined ? { kill_policy: { grace_period: { nanoseconds: Math.round(spec.killGraceSeconds * 1e9) } } } : {}),
    labels: { labels: Object.entries({ ...spec.labels, [JOB_LABEL]: spec.name, [INSTANCE_LABEL]: String(index) }).map(([key, value]) => ({ key, value })) },
    discovery: {
      visibility: 'FRAMEWORK',
      name: spec.name,
      ...(ports.length > 0 ? { ports: { ports: ports.map((number, i) => ({ number, name: `port${i}`, protocol: 'tcp' })) } } : {}),
    },
  };
}
