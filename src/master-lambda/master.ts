import { createLogger, type Logger } from '../core/logger.js';
import type { Authenticator } from '../http/auth.js';
import { Router } from '../http/router.js';
import type { ItemStore } from '../state/item-store.js';
import { LeaderLease } from '../state/leader-lease.js';
import { MemoryItemStore } from '../state/memory-item-store.js';
import { ObservedItemStore } from '../state/observed-item-store.js';
import { Registry } from '../state/registry.js';
import { UncertainWriteStore } from '../state/uncertain-write-store.js';
import { masterConfig, type MasterConfig } from './config.js';
import { mountMasterRoutes } from './http/master-routes.js';
import { mountMetricsRoutes } from './http/metrics-routes.js';
import { callLabel, MasterMetrics } from './metrics.js';
import { LeaderLoop, type LeaderDuty } from './leader-loop.js';
import type { ExtensibleMaster } from './extension.js';
import type { MasterContext } from './master-context.js';
import { InProcessNotifier, type Notifier } from './notifier.js';
import { AgentHealth } from './use-cases/agent-health.js';
import { FrameworkFailover } from './use-cases/framework-failover.js';

// Wires one master: its context, HTTP API, lease and leader loop. Entry points (server,
// Lambda handler, tick, `stratus dev`) build one of these and hold no policy themselves.

export interface MasterOptions {
  readonly store?: ItemStore;
  readonly config?: Partial<MasterConfig>;
  readonly log?: Logger;
  readonly now?: () => number;
  readonly notifier?: Notifier;
  readonly holderId?: string;
  /** The lease's monotonic clock (tests drive takeovers on a fake one). */
  readonly leaseNow?: () => number;
  readonly authenticator?: Authenticator;
  /** False behind API Gateway (no streaming responses). */
  readonly canStream?: boolean;
  /** Extra leader-only jobs (timeouts, autoscaler, gossip...), run every interval. */
  readonly duties?: LeaderDuty[];
  readonly onElected?: LeaderDuty[];
}

export class Master implements ExtensibleMaster {
  readonly ctx: MasterContext;
  /** The master's HTTP API; extensions (jobs, federation, autoscaler) mount their routes here. */
  readonly api: Router;
  readonly lease: LeaderLease;
  readonly leader: LeaderLoop;
  readonly registry: Registry;
  readonly agentHealth: AgentHealth;
  readonly frameworkFailover: FrameworkFailover;

  constructor(options: MasterOptions = {}) {
    const config = masterConfig(options.config);
    const now = options.now ?? Date.now;
    const metrics = new MasterMetrics(now);
    // Every store request is counted (and timed) at the adapter boundary. A write that ended
    // without a definite answer may still commit: this term is then not handed on in its epoch.
    const store = new UncertainWriteStore(options.store ?? new MemoryItemStore(), () => this.lease.noteUncertainWrite());
    this.registry = new Registry(new ObservedItemStore(store, metrics.storeObserver), undefined, now);
    this.ctx = {
      registry: this.registry,
      config,
      notifier: options.notifier ?? new InProcessNotifier(),
      log: options.log ?? createLogger('stratus-master'),
      now,
      metrics,
    };
    this.api = mountMasterRoutes(
      new Router({
        log: this.ctx.log,
        maxBodyBytes: config.maxBodyBytes,
        ...(options.authenticator ? { authenticator: options.authenticator } : {}),
        observe: (req, match, status, seconds) => metrics.apiRequest(callLabel(req, match), status, seconds),
      }),
      this.ctx,
      { canStream: options.canStream ?? true },
    );
    mountMetricsRoutes(this.api, this.ctx);
    this.lease = new LeaderLease(this.registry.store, {
      durationMs: config.leaseDurationMs,
      ...(options.holderId ? { holderId: options.holderId } : {}),
      ...(options.leaseNow ? { now: options.leaseNow } : {}),
    });
    metrics.isLeader = () => this.lease.isLeader();
    // Core leader duties (health timeouts, failover expiry, drains) come first, then extensions.
    this.agentHealth = new AgentHealth();
    this.frameworkFailover = new FrameworkFailover();
    this.leader = new LeaderLoop(this.ctx, this.lease, {
      duties: [this.agentHealth.duty, this.frameworkFailover.duty, ...(options.duties ?? [])],
      onElected: options.onElected ?? [],
    });
  }

  /** Adds a leader-only duty after construction (modules that need this master's registry). */
  addDuty(duty: LeaderDuty): this {
    this.leader.addDuty(duty);
    return this;
  }

  start(): this {
    this.leader.start();
    return this;
  }

  async stop(): Promise<void> {
    await this.leader.stop();
  }
}
