import type { AgentId } from './ids.js';
import type { Resources } from './resources.js';

/** Reachability as the master sees it (partition-aware Mesos). */
export type AgentReachability = 'REACHABLE' | 'UNREACHABLE' | 'GONE';

/** Mesos's DrainState. */
export type DrainState = 'DRAINING' | 'DRAINED';

export interface AgentDrain {
  readonly state: DrainState;
  /** Kill grace for tasks on the agent; undefined = each task's own grace. */
  readonly maxGracePeriodMs?: number;
  /** Mark the agent GONE once drained. */
  readonly markGone: boolean;
  readonly startedAt: number;
}

/** Well-known attribute names agents register. */
export const ZONE_ATTRIBUTE = 'zone';
export const GROUP_ATTRIBUTE = 'group';
export const INSTANCE_ID_ATTRIBUTE = 'instance_id';
export const INSTANCE_TYPE_ATTRIBUTE = 'instance_type';

/** How the agent reaches the master: HTTP calls (long-poll), or its WebSocket (pushed work, a slower ping). */
export type AgentChannel = 'http' | 'socket';

export interface Agent {
  readonly id: AgentId;
  readonly hostname: string;
  /** Where the agent serves its own API (task logs), when it does. */
  readonly endpoint?: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly total: Resources;
  /** Held by non-terminal tasks. */
  readonly allocated: Resources;
  /** Held by outstanding offers. */
  readonly offered: Resources;
  readonly reachability: AgentReachability;
  /** Operator DEACTIVATE_AGENT: no offers, tasks keep running. */
  readonly deactivated: boolean;
  readonly drain?: AgentDrain;
  readonly registeredAt: number;
  readonly unreachableAt?: number;
  /** Bumped at each (re)registration, so work from an earlier session can be told apart. */
  readonly session: string;
  /** What the agent last said of itself: unhealthy (e.g. its Docker engine is down) gets no offers. */
  readonly health?: { readonly healthy: boolean; readonly message?: string };
  /** The leader epoch the agent last registered in: a new leader has every agent re-report its tasks. */
  readonly registeredEpoch?: number;
  /** sha256 of the secret issued to this agent id: a re-registration under the id must present it. */
  readonly secretHash?: string;
  /** The channel the agent last registered over; absent = HTTP. Its liveness timeout follows it. */
  readonly channel?: AgentChannel;
  /**
   * Custom executors on the agent, by `<framework id>/<executor id>`: the resources each holds
   * (counted once in `allocated`, beside its tasks') and its live tasks. When its last task
   * ends the agent shuts it down and its resources return (use-cases/executors.ts).
   */
  readonly executors?: Readonly<Record<string, AgentExecutor>>;
}

export interface AgentExecutor {
  readonly frameworkId: string;
  readonly executorId: string;
  readonly resources: Resources;
  /** The ExecutorInfo it was launched with (canonical JSON): a task naming the id with another is invalid. */
  readonly fingerprint: string;
  /** Its tasks that have not ended. */
  readonly tasks: readonly string[];
  /** When its framework asked for it to be shut down (scheduler SHUTDOWN): the agent's work says so until it is gone. */
  readonly shutdownRequestedAt?: number;
}
