import type { EngineHealth } from './containerizer/containerizer.js';
import type { StatusResult, StatusUpdate } from '../wire/agent-api.js';
import type { TaskKeyed } from './status-journal.js';
import type { Resources } from '../core/resources.js';

// What the agent daemon tells its listeners (the CLI, tests, benchmarks), and its health as
// heartbeats and GET /health report it. Shared by the daemon, its master session and its work loop.

export interface AgentHealth {
  readonly healthy: boolean;
  readonly message: string;
  readonly registered: boolean;
  /** Containerizers whose recovery has not finished (the Docker engine does not answer). */
  readonly recovering: readonly string[];
  readonly engine?: EngineHealth;
}

export type AgentEvent =
  | { readonly type: 'registered'; readonly agentId: string; readonly session: string; readonly killTasks: number }
  /** A work poll answered; `at` is performance.now(). */
  | { readonly type: 'work'; readonly at: number; readonly launch: readonly (TaskKeyed & { readonly resources?: Resources })[]; readonly kill: readonly TaskKeyed[]; readonly acks: number }
  | { readonly type: 'status'; readonly at: number; readonly update: StatusUpdate }
  | { readonly type: 'delivered'; readonly at: number; readonly update: StatusUpdate; readonly result: StatusResult }
  | { readonly type: 'health'; readonly health: AgentHealth }
  | { readonly type: 'message'; readonly frameworkId: string; readonly executorId: string; readonly data: string };

export type AgentListener = (event: AgentEvent) => void;
