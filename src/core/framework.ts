import type { FrameworkId, StreamId } from './ids.js';

/** Mesos's FrameworkInfo, the parts Stratus uses. */
export interface FrameworkInfo {
  readonly name: string;
  readonly user: string;
  readonly roles: readonly string[];
  readonly principal?: string;
  /** Seconds the master keeps a disconnected framework's tasks. */
  readonly failoverTimeoutSeconds: number;
  readonly hostname?: string;
  readonly webuiUrl?: string;
  readonly capabilities: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly checkpoint: boolean;
}

export interface Framework {
  readonly id: FrameworkId;
  readonly info: FrameworkInfo;
  /** The current subscription's stream; calls from any other stream are refused. */
  readonly streamId: StreamId;
  readonly connected: boolean;
  /** When the framework's connection was last seen (subscribe, call or event poll). */
  readonly lastSeenAt: number;
  readonly disconnectedAt?: number;
  readonly registeredAt: number;
  /** Roles whose offers the framework suppressed. */
  readonly suppressedRoles: readonly string[];
  /** Set once TEARDOWN or failover expiry removed the framework. */
  readonly removedAt?: number;
}

export const DEFAULT_ROLE = '*';
