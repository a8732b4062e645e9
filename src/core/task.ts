import type { AgentId, ExecutorId, FrameworkId, TaskId } from './ids.js';
import type { Resources } from './resources.js';
import type { JsonObject } from './json.js';
import type { TaskState } from './task-state.js';

/** What to run: Mesos's CommandInfo. `shell: true` runs `value` with `sh -c`. */
export interface CommandSpec {
  readonly shell: boolean;
  /** The shell command line (shell) or the executable (argv). */
  readonly value?: string;
  /** argv (without shell): arguments[0] is the program name, as in Mesos. */
  readonly arguments?: readonly string[];
  readonly environment?: Readonly<Record<string, string>>;
  readonly user?: string;
}

export type NetworkMode = 'HOST' | 'NONE';
export type PullPolicy = 'ALWAYS' | 'IF_NOT_PRESENT' | 'NEVER';

/** Mesos's ContainerInfo, DOCKER type. Without it a task runs as a plain process. */
export interface ContainerSpec {
  readonly type: 'DOCKER' | 'MESOS';
  readonly docker?: {
    readonly image: string;
    readonly network: NetworkMode;
    /** Mesos's force_pull_image maps to ALWAYS; default IF_NOT_PRESENT. */
    readonly pullPolicy: PullPolicy;
  };
}

export interface HealthCheckSpec {
  readonly type: 'COMMAND' | 'HTTP' | 'TCP';
  readonly command?: CommandSpec;
  readonly http?: { readonly port: number; readonly path: string; readonly scheme: 'http' };
  readonly tcp?: { readonly port: number };
  readonly delaySeconds: number;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly consecutiveFailures: number;
  readonly gracePeriodSeconds: number;
}

/** A named endpoint a task offers, registered for (cross-region) service discovery. */
export interface DiscoverySpec {
  readonly name: string;
  readonly ports: readonly { readonly name?: string; readonly number: number; readonly protocol?: string }[];
}

/** Everything an agent needs to launch a task: Mesos's TaskInfo minus ids and resources. */
export interface TaskSpec {
  readonly name: string;
  readonly command?: CommandSpec;
  readonly container?: ContainerSpec;
  readonly labels?: Readonly<Record<string, string>>;
  readonly healthCheck?: HealthCheckSpec;
  /** SIGTERM-to-SIGKILL grace; Mesos's kill_policy.grace_period (default 3 s here). */
  readonly killGracePeriodMs?: number;
  readonly workingDir?: string;
  readonly discovery?: DiscoverySpec;
  /** Tasks launched together by LAUNCH_GROUP share this id. */
  readonly groupId?: string;
  readonly executorId?: ExecutorId;
  /** A custom executor (Mesos's TaskInfo.executor): the agent runs it and hands it the task. */
  readonly executor?: ExecutorSpec;
  /** TaskInfo.data (base64), handed to a custom executor in its LAUNCH event. */
  readonly data?: string;
}

/**
 * Mesos's ExecutorInfo for a custom executor: what the agent runs (command, optional container)
 * and the resources it holds besides its tasks'. `info` is the ExecutorInfo JSON as the
 * framework sent it (validated, framework_id filled in): the executor's SUBSCRIBED and LAUNCH
 * events carry it, and a second task naming the same executor id must send the same one.
 */
export interface ExecutorSpec {
  readonly executorId: ExecutorId;
  readonly name?: string;
  readonly command: CommandSpec;
  readonly container?: ContainerSpec;
  readonly resources: Resources;
  readonly info: JsonObject;
}

export const DEFAULT_KILL_GRACE_PERIOD_MS = 3_000;

/** Mesos's TaskStatus.Source. */
export type StatusSource = 'SOURCE_MASTER' | 'SOURCE_AGENT' | 'SOURCE_EXECUTOR';

/** One status of a task, as the agent or master reported it (Mesos's TaskStatus). */
export interface TaskStatus {
  readonly state: TaskState;
  /** Present on updates that must be acknowledged (agent-originated). */
  readonly uuid?: string;
  readonly source: StatusSource;
  /** Mesos's TaskStatus.Reason without the REASON_ prefix, e.g. CONTAINER_LIMITATION_MEMORY. */
  readonly reason?: string;
  readonly message?: string;
  readonly healthy?: boolean;
  /** Unix time in seconds, like Mesos. */
  readonly timestamp: number;
}

/** A task as the master keeps it. */
export interface Task {
  readonly frameworkId: FrameworkId;
  readonly taskId: TaskId;
  readonly agentId: AgentId;
  readonly role: string;
  readonly resources: Resources;
  readonly spec: TaskSpec;
  readonly state: TaskState;
  readonly status: TaskStatus;
  /** The statuses before `status`, oldest first, the last STATUS_HISTORY_LIMIT (Mesos's Task.statuses). */
  readonly previousStatuses?: readonly TaskStatus[];
  /** Set once a KILL was asked for; the agent sees it in its work. */
  readonly killRequestedAt?: number;
  readonly killGracePeriodMs?: number;
  /** Status uuids the framework acknowledged and the agent has not yet been told of. */
  readonly pendingAcks: readonly string[];
  /** Recent status uuids already applied, so an agent's resend is told apart from news. */
  readonly seenUuids?: readonly string[];
  /** The offers the task was launched from. */
  readonly offerIds?: readonly string[];
  /** The lease epoch of the offer that launched the task. */
  readonly epoch: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** How many earlier statuses a task keeps (for the state views and the dashboard's task page). */
export const STATUS_HISTORY_LIMIT = 10;

/** The task moved to `status`: its current status becomes history (bounded). */
export function withStatus<T extends Task>(task: T, status: TaskStatus, now: number): T {
  return { ...task, state: status.state, status, previousStatuses: [...(task.previousStatuses ?? []), task.status].slice(-STATUS_HISTORY_LIMIT), updatedAt: now };
}
