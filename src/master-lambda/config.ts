import { resources, type Resources } from '../core/resources.js';
import { DEFAULT_LEASE_DURATION_MS } from '../state/leader-lease.js';

// The master's settings, with Mesos's defaults where Mesos has one.

export interface MasterConfig {
  /** Unused offers are rescinded after this (Mesos: --offer_timeout; Stratus default 60 s). */
  readonly offerTimeoutMs: number;
  /** DECLINE's refuse_seconds when the framework gives none (Mesos: 5 s). */
  readonly defaultRefuseSeconds: number;
  /** Allocation rounds run at least this often on the leader (1 s on the local server). */
  readonly allocationIntervalMs: number;
  /** State changes trigger a round after this quiet time, so a burst makes one round. */
  readonly allocationDebounceMs: number;
  /** HEARTBEAT events on scheduler streams (Mesos: 15 s). */
  readonly heartbeatIntervalSeconds: number;
  /** The longest a long-poll for events or agent work waits (API Gateway allows 29 s). */
  readonly longPollMaxWaitMs: number;
  /**
   * How often a stream or long-poll re-reads the table when no in-process notice arrives.
   * Each look is one item read by key; 1 s keeps a 10,000-agent region at 10,000 reads/s.
   */
  readonly pollIntervalMs: number;
  /** How often an open event stream re-reads its framework item (removed? replaced by a newer subscription?) when no notice arrives. */
  readonly frameworkRecheckMs: number;
  /** An open stream or long-poll records the framework's liveness at most this often (and at least 4 times per frameworkDisconnectMs). */
  readonly frameworkBeatMs: number;
  /** An offer must hold at least one of these (Mesos: cpus:0.01|mem:32). */
  readonly minAllocatable: readonly Resources[];
  /** Offers per allocation transaction (each costs an offer write and an agent write). */
  readonly offersPerTransaction: number;
  readonly leaseDurationMs: number;
  /** Agent health (Mesos: agent_ping_timeout × max_agent_ping_timeouts, agent_reregister_timeout). */
  readonly agentPingTimeoutMs: number;
  readonly maxAgentPingTimeouts: number;
  readonly agentReregisterTimeoutMs: number;
  /** How long a framework may go unseen before it counts as disconnected (long-poll clients). */
  readonly frameworkDisconnectMs: number;
  readonly maxBodyBytes: number;
  /** Tasks in one ACCEPT: a launch is one DynamoDB transaction (100 items at most). */
  readonly maxTasksPerAccept: number;
  readonly masterId: string;
  readonly hostname: string;
  readonly port: number;
}

export const DEFAULT_MASTER_CONFIG: MasterConfig = {
  offerTimeoutMs: 60_000,
  defaultRefuseSeconds: 5,
  allocationIntervalMs: 1_000,
  allocationDebounceMs: 50,
  heartbeatIntervalSeconds: 15,
  longPollMaxWaitMs: 20_000,
  pollIntervalMs: 1_000,
  frameworkRecheckMs: 2_000,
  frameworkBeatMs: 5_000,
  minAllocatable: [resources({ cpus: 0.01 }), resources({ mem: 32 })],
  offersPerTransaction: 20,
  leaseDurationMs: DEFAULT_LEASE_DURATION_MS,
  agentPingTimeoutMs: 15_000,
  maxAgentPingTimeouts: 5,
  agentReregisterTimeoutMs: 600_000,
  frameworkDisconnectMs: 60_000,
  maxBodyBytes: 1024 * 1024,
  maxTasksPerAccept: 64,
  masterId: 'stratus-master',
  hostname: 'localhost',
  port: 5050,
};

export function masterConfig(overrides: Partial<MasterConfig> = {}): MasterConfig {
  return { ...DEFAULT_MASTER_CONFIG, ...overrides };
}
