import type { MasterConfig } from '../config.js';
import { toSpec } from '../../core/resources.js';

// The master's settings under Mesos's flag names, as `/flags` and GET_FLAGS show them: the
// values this master really runs with (Mesos writes every flag as a string, durations as
// "15secs"). Stratus-only settings keep their own names after the Mesos ones.

function duration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return `${ms / 3_600_000}hrs`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}mins`;
  if (ms % 1_000 === 0) return `${ms / 1_000}secs`;
  return `${ms}ms`;
}

function minAllocatable(config: MasterConfig): string {
  return config.minAllocatable
    .map((r) => {
      const s = toSpec(r);
      return [s.cpus ? `cpus:${s.cpus}` : '', s.mem ? `mem:${s.mem}` : '', s.disk ? `disk:${s.disk}` : ''].filter(Boolean).join(';');
    })
    .join('|');
}

export interface FlagContext {
  readonly config: MasterConfig;
  /** Whether callers must present credentials (an authenticator other than open access). */
  readonly authenticate: boolean;
}

export function masterFlags({ config, authenticate }: FlagContext): Record<string, string> {
  const auth = String(authenticate);
  return {
    agent_ping_timeout: duration(config.agentPingTimeoutMs),
    agent_reregister_timeout: duration(config.agentReregisterTimeoutMs),
    allocation_interval: duration(config.allocationIntervalMs),
    allocator: 'HierarchicalDRF',
    authenticate_agents: auth,
    authenticate_frameworks: auth,
    authenticate_http_frameworks: auth,
    authenticate_http_readonly: auth,
    authenticate_http_readwrite: auth,
    framework_sorter: 'drf',
    hostname: config.hostname,
    http_authenticators: authenticate ? 'basic,bearer' : '',
    logging_level: (process.env.STRATUS_LOG_LEVEL ?? 'info').toUpperCase(),
    max_agent_ping_timeouts: String(config.maxAgentPingTimeouts),
    min_allocatable_resources: minAllocatable(config),
    offer_timeout: duration(config.offerTimeoutMs),
    port: String(config.port),
    // Stratus's own settings.
    allocation_debounce: duration(config.allocationDebounceMs),
    framework_disconnect_timeout: duration(config.frameworkDisconnectMs),
    heartbeat_interval: duration(config.heartbeatIntervalSeconds * 1000),
    lease_duration: duration(config.leaseDurationMs),
    long_poll_max_wait: duration(config.longPollMaxWaitMs),
    max_body_bytes: String(config.maxBodyBytes),
    max_tasks_per_accept: String(config.maxTasksPerAccept),
    offers_per_transaction: String(config.offersPerTransaction),
    poll_interval: duration(config.pollIntervalMs),
  };
}

/** GET_LOGGING_LEVEL's glog verbosity: debug logging is VLOG(1), everything else VLOG(0). */
export function loggingVerbosity(): number {
  return (process.env.STRATUS_LOG_LEVEL ?? 'info') === 'debug' ? 1 : 0;
}
