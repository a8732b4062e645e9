import type { MasterConfig } from '../../src/master-lambda/config.js';
import type { Authenticator } from '../../src/http/auth.js';
import { createLogger, silentLogger } from '../../src/core/logger.js';
import { Master } from '../../src/master-lambda/master.js';
import { startLocalServer, type RunningServer } from '../../src/master-lambda/local-server.js';
import { MemoryItemStore } from '../../src/state/memory-item-store.js';
import { TestAgent } from './test-agent.js';

// An in-process region for SDK and jobs tests: a master on the in-memory Registry behind the
// local server, with fast timings, and simulated agents (TestAgent) spread over zones.

export interface ClusterOptions {
  readonly config?: Partial<MasterConfig>;
  readonly authenticator?: Authenticator;
  readonly canStream?: boolean;
}

export interface AgentSpec {
  readonly hostname: string;
  readonly zone?: string;
  readonly cpus?: number;
  readonly mem?: number;
  readonly attributes?: Record<string, string>;
  readonly ports?: { begin: number; end: number };
  readonly headers?: Record<string, string>;
}

export const FAST_MASTER: Partial<MasterConfig> = {
  allocationIntervalMs: 100,
  allocationDebounceMs: 20,
  pollIntervalMs: 50,
  heartbeatIntervalSeconds: 1,
  leaseDurationMs: 3000,
  // Loss is noticed after 1.5 s: quick, yet no false alarm on a busy 2-core machine.
  agentPingTimeoutMs: 500,
  maxAgentPingTimeouts: 3,
  frameworkDisconnectMs: 2_000,
  longPollMaxWaitMs: 2_000,
};

export class TestCluster {
  readonly agents: TestAgent[] = [];

  private constructor(
    readonly master: Master,
    readonly server: RunningServer,
  ) {}

  static async start(options: ClusterOptions = {}): Promise<TestCluster> {
    const master = new Master({
      store: new MemoryItemStore(),
      log: process.env.STRATUS_TEST_LOG ? createLogger('test-master', 'debug') : silentLogger,
      config: { ...FAST_MASTER, ...options.config },
      ...(options.authenticator ? { authenticator: options.authenticator } : {}),
      ...(options.canStream !== undefined ? { canStream: options.canStream } : {}),
    });
    const server = await startLocalServer(master, { port: 0 });
    master.start();
    return new TestCluster(master, server);
  }

  get url(): string {
    return this.server.url;
  }

  async addAgent(spec: AgentSpec): Promise<TestAgent> {
    const agent = await new TestAgent({
      master: this.url,
      hostname: spec.hostname,
      cpus: spec.cpus ?? 4,
      mem: spec.mem ?? 4096,
      attributes: { ...(spec.zone ? { zone: spec.zone } : {}), ...spec.attributes },
      heartbeatMs: 100,
      resendMs: 300,
      ...(spec.ports ? { ports: spec.ports } : {}),
      ...(spec.headers ? { headers: spec.headers } : {}),
    }).start();
    this.agents.push(agent);
    return agent;
  }

  /** One agent per zone, `perZone` times: hostnames `<zone>-<i>`. */
  async addZones(zones: readonly string[], perZone = 1, spec: Partial<AgentSpec> = {}): Promise<TestAgent[]> {
    const out: TestAgent[] = [];
    for (const zone of zones) for (let i = 0; i < perZone; i++) out.push(await this.addAgent({ hostname: `${zone}-${i}`, zone, ...spec }));
    return out;
  }

  async stop(): Promise<void> {
    for (const a of this.agents.splice(0)) await a.stop();
    await this.master.stop();
    await this.server.close();
  }
}

