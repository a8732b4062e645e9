import type { AgentId, FrameworkId, TaskId } from '../../core/ids.js';
import type { PortRange, Resources } from '../../core/resources.js';
import type { TaskSpec } from '../../core/task.js';
import type { TaskState } from '../../core/task-state.js';

// The Containerizer port: how an agent runs a task on its host. The agent daemon turns each
// ContainerStatus into a Mesos status update (it adds the uuid and source); adapters are the
// Docker engine (docker/docker-containerizer.ts) and plain child processes (process-containerizer.ts).

/** A task on this agent: task ids are unique within a framework. */
export interface TaskRef {
  readonly frameworkId: FrameworkId;
  readonly taskId: TaskId;
}

/** Mesos's TaskStatus.Reason names (without REASON_) that containerizers report. */
export type ContainerReason =
  | 'TASK_INVALID'
  | 'CONTAINER_LAUNCH_FAILED'
  | 'CONTAINER_LIMITATION_MEMORY'
  | 'CONTAINER_UPDATE_FAILED'
  | 'COMMAND_EXECUTOR_FAILED'
  | 'EXECUTOR_TERMINATED'
  | 'TASK_KILLED_DURING_LAUNCH'
  | 'TASK_HEALTH_CHECK_STATUS_UPDATED'
  | 'CONTAINER_DESTROYED'
  | 'AGENT_RESTARTED';

/** The task states a containerizer reports. */
export type ContainerState = Extract<TaskState, 'STARTING' | 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED' | 'ERROR'>;

/** One state change of a task's container (Mesos's TaskStatus without uuid/source). */
export interface ContainerStatus extends TaskRef {
  /** Stratus's id for this container run (also in the Docker labels and the state file). */
  readonly containerId: string;
  readonly state: ContainerState;
  readonly reason?: ContainerReason;
  readonly message?: string;
  /** Set on RUNNING updates once a health check has an opinion; kept on later updates. */
  readonly healthy?: boolean;
  /** The command's exit status, when it is known (see process-containerizer.ts for adopted tasks). */
  readonly exitCode?: number;
  /** Unix time in seconds, like Mesos. */
  readonly timestamp: number;
}

export type EngineState = 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY';

/** Whether the container engine answers: an unhealthy engine is not a task failure. */
export interface EngineHealth {
  readonly state: EngineState;
  readonly message: string;
  /** Unix time in seconds of the last change. */
  readonly since: number;
}

export type ContainerizerEvent =
  | { readonly type: 'status'; readonly status: ContainerStatus }
  | { readonly type: 'engine'; readonly health: EngineHealth };

export type ContainerizerListener = (event: ContainerizerEvent) => void;

export interface LaunchRequest {
  readonly taskId: TaskId;
  readonly frameworkId: FrameworkId;
  /** Must be the containerizer's agent: a task sent to the wrong agent is TASK_INVALID. */
  readonly agentId: AgentId;
  readonly spec: TaskSpec;
  readonly resources: Resources;
  /** Host ports assigned to the task (PORT0..n); default: every port of resources.ports. */
  readonly ports?: readonly number[];
  /** Where the task's logs (and a process task's cwd) live; default <workDir>/containers/<containerId>. */
  readonly sandboxDir?: string;
}

export interface ContainerInfo extends TaskRef {
  readonly containerId: string;
  /** The Docker container id, or the process id, once known. */
  readonly engineId?: string;
  readonly sandboxDir: string;
  /** Latest status (terminal once the task ended). */
  readonly status: ContainerStatus;
  /** What was launched, for the agent's Mesos-shaped state (absent for a launch refused early). */
  readonly spec?: TaskSpec;
  readonly resources?: Resources;
  /** Unix time in seconds. */
  readonly launchedAt?: number;
}

export type LogStream = 'stdout' | 'stderr';

export interface LogRead {
  readonly data: Buffer;
  /** Bytes the task wrote to this stream so far (kept + dropped). */
  readonly totalBytes: number;
  /** Bytes dropped from the front to keep the log under its cap. */
  readonly droppedBytes: number;
  readonly truncated: boolean;
}

export interface RecoverOptions {
  /** Tasks the agent still knows (its checkpoint); containers of any other task are killed and removed. */
  readonly knownTasks?: readonly TaskRef[];
}

export interface RecoveryResult {
  /** Containers adopted: still running, or ended while the agent was down (their terminal status is also emitted). */
  readonly recovered: readonly ContainerInfo[];
  /** Containers of unknown tasks, killed and removed. */
  readonly orphans: readonly (TaskRef & { readonly containerId: string })[];
}

export interface KillOptions {
  /** SIGTERM-to-SIGKILL grace; default the task's killGracePeriodMs, else DEFAULT_KILL_GRACE_PERIOD_MS. */
  readonly gracePeriodMs?: number;
}

/** Options every adapter takes. */
export interface ContainerizerOptions {
  readonly agentId: AgentId;
  /** The agent's work dir: state files (for recovery) and default sandboxes live under it. */
  readonly workDir: string;
  /** The agent's `ports` resource: assigned ports outside it are TASK_INVALID. */
  readonly agentPorts?: readonly PortRange[];
  /** Per stream; the last logCapBytes bytes are kept. Default 1 MiB. */
  readonly logCapBytes?: number;
  /** Background errors that have no status to go to (they never throw). */
  readonly log?: (message: string) => void;
}

export const DEFAULT_LOG_CAP_BYTES = 1024 * 1024;

export interface Containerizer {
  readonly kind: 'docker' | 'process';
  /** Every status change and engine-health change; returns an unsubscribe function. */
  subscribe(listener: ContainerizerListener): () => void;
  /**
   * Launches a task. Resolves with RUNNING, or with the status that ended the launch (ERROR with
   * TASK_INVALID for bad input, FAILED with CONTAINER_LAUNCH_FAILED, KILLED if killed meanwhile).
   * Never rejects because of the task or the engine; every status is also emitted.
   */
  launch(request: LaunchRequest): Promise<ContainerStatus>;
  /** SIGTERM, then SIGKILL after the grace. False if the task is unknown or already ended. */
  kill(ref: TaskRef, options?: KillOptions): Promise<boolean>;
  /** The terminal status of a task (rejects with NotFoundError for an unknown task). */
  wait(ref: TaskRef): Promise<ContainerStatus>;
  status(ref: TaskRef): ContainerStatus | undefined;
  containers(): ContainerInfo[];
  /** The stream's log, or its last tailBytes bytes. Rejects with NotFoundError for an unknown task. */
  logs(ref: TaskRef, stream: LogStream, options?: { readonly tailBytes?: number }): Promise<LogRead>;
  /** After an agent restart: adopts this agent's containers (labels / state files), kills unknown ones. */
  recover(options?: RecoverOptions): Promise<RecoveryResult>;
  /** Kills at once if running, removes the container, its state and sandbox, and forgets the task. */
  destroy(ref: TaskRef): Promise<void>;
  engineHealth(): EngineHealth;
  /** Asks the engine now. */
  checkEngine(): Promise<EngineHealth>;
  /** Stops watching (timers, streams) without touching containers: what an agent restart does. */
  close(): Promise<void>;
}

export function refKey(ref: TaskRef): string {
  return `${ref.frameworkId}/${ref.taskId}`;
}

export function nowSeconds(): number {
  return Date.now() / 1000;
}
