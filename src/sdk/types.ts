// The scheduler driver's public vocabulary: Mesos v1 scheduler events as typed values, and the
// JSON shapes a framework writes in calls (TaskInfo, Resource, Filters) as on the wire.

import type { MesosResource, ResourceTotals as OfferedResources } from '../wire/mesos-resources.js';

// Shared with the master (src/wire, src/core): an inclusive port range (Mesos's Value.Range);
// Mesos's Resource JSON, the subset Stratus offers and accepts; an offer's resources summed by
// name in user units (cpus as cores, mem and disk in MiB).
export type { PortRange } from '../core/resources.js';
export type { MesosResource, ResourceTotals as OfferedResources } from '../wire/mesos-resources.js';

export interface Offer {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly hostname: string;
  /** The role the resources are allocated to (MULTI_ROLE), when the master says. */
  readonly role?: string;
  readonly resources: OfferedResources;
  /** Agent attributes as strings (TEXT values; scalars printed). */
  readonly attributes: Readonly<Record<string, string>>;
  /** The resources exactly as offered. */
  readonly rawResources: readonly MesosResource[];
}

/** Mesos task states, with the TASK_ prefix as on the wire. */
export type TaskStateName =
  | 'TASK_STAGING'
  | 'TASK_STARTING'
  | 'TASK_RUNNING'
  | 'TASK_KILLING'
  | 'TASK_FINISHED'
  | 'TASK_FAILED'
  | 'TASK_KILLED'
  | 'TASK_ERROR'
  | 'TASK_LOST'
  | 'TASK_DROPPED'
  | 'TASK_UNREACHABLE'
  | 'TASK_GONE'
  | 'TASK_GONE_BY_OPERATOR'
  | 'TASK_UNKNOWN';

export interface TaskStatus {
  readonly taskId: string;
  readonly agentId?: string;
  readonly state: TaskStateName;
  readonly source?: string;
  /** e.g. REASON_RECONCILIATION. */
  readonly reason?: string;
  readonly message?: string;
  readonly healthy?: boolean;
  /** Present when the update needs an ACKNOWLEDGE. */
  readonly uuid?: string;
  readonly timestamp?: number;
}

export interface SubscribedInfo {
  readonly frameworkId: string;
  readonly heartbeatIntervalSeconds: number;
  /** True when this subscription reused an existing framework id (failover or reconnect). */
  readonly resubscribed: boolean;
  /** The event delivery in use for this subscription. */
  readonly mode: 'stream' | 'poll';
}

export interface FailureInfo {
  readonly agentId?: string;
  readonly executorId?: string;
  readonly status?: number;
}

export interface MessageInfo {
  readonly agentId: string;
  readonly executorId: string;
  /** Base64, as on the wire. */
  readonly data: string;
}

/** The outcome of one reconciliation after a (re)subscription. */
export interface ReconcileResult {
  /** The latest status the master gave for each task asked about explicitly. */
  readonly statuses: ReadonlyMap<string, TaskStatus>;
  /** Tasks asked about that the master never answered within the attempts. */
  readonly unanswered: readonly string[];
}

/** What the driver reports to listeners, by name. */
export interface DriverEventMap {
  subscribed: SubscribedInfo;
  offers: readonly Offer[];
  rescind: string;
  update: TaskStatus;
  message: MessageInfo;
  failure: FailureInfo;
  /** An ERROR event from the master (or a refusal to subscribe): the driver stops. */
  error: { readonly message: string };
  heartbeat: undefined;
  /** The connection to the master dropped; the driver resubscribes with backoff. */
  disconnected: { readonly reason: string };
  reconciled: ReconcileResult;
}

export type DriverEventName = keyof DriverEventMap;
export type DriverListener<K extends DriverEventName> = (event: DriverEventMap[K]) => void | Promise<void>;

/** The FrameworkInfo fields a framework chooses; ids and principal are filled in by the driver. */
export interface FrameworkOptions {
  readonly name: string;
  readonly user?: string;
  /** Default ['*']. */
  readonly roles?: readonly string[];
  /** How long the master keeps the framework's tasks while it is disconnected (Mesos's failover_timeout). */
  readonly failoverTimeoutSeconds?: number;
  readonly checkpoint?: boolean;
  readonly hostname?: string;
  readonly webuiUrl?: string;
  /** Default MULTI_ROLE and PARTITION_AWARE. */
  readonly capabilities?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
}

export type { Credentials } from '../http/json-client.js';

export interface CommandInfo {
  readonly shell?: boolean;
  readonly value?: string;
  readonly arguments?: readonly string[];
  readonly environment?: { readonly variables: readonly { readonly name: string; readonly value: string }[] };
  readonly user?: string;
}

export interface HealthCheckInfo {
  readonly type: 'COMMAND' | 'HTTP' | 'TCP';
  readonly command?: CommandInfo;
  readonly http?: { readonly port: number; readonly path?: string; readonly scheme?: string };
  readonly tcp?: { readonly port: number };
  readonly delay_seconds?: number;
  readonly interval_seconds?: number;
  readonly timeout_seconds?: number;
  readonly consecutive_failures?: number;
  readonly grace_period_seconds?: number;
}

/** Mesos's TaskInfo (JSON), the fields Stratus reads. */
export interface TaskInfo {
  readonly name: string;
  readonly task_id: { readonly value: string };
  readonly agent_id: { readonly value: string };
  readonly resources: readonly MesosResource[];
  readonly command?: CommandInfo;
  readonly container?: {
    readonly type: 'DOCKER' | 'MESOS';
    readonly docker?: { readonly image: string; readonly network?: 'HOST' | 'NONE'; readonly force_pull_image?: boolean };
  };
  readonly health_check?: HealthCheckInfo;
  readonly kill_policy?: { readonly grace_period?: { readonly nanoseconds: number } };
  readonly labels?: { readonly labels: readonly { readonly key: string; readonly value: string }[] };
  readonly discovery?: {
    readonly visibility?: 'FRAMEWORK' | 'CLUSTER' | 'EXTERNAL';
    readonly name?: string;
    readonly ports?: { readonly ports: readonly { readonly number: number; readonly name?: string; readonly protocol?: string }[] };
  };
}

export interface Filters {
  /** How long the master keeps the declined resources away from this framework. */
  readonly refuse_seconds?: number;
}

/** A task to reconcile: its id and, when known, its agent. */
export interface TaskRef {
  readonly taskId: string;
  readonly agentId?: string;
}
