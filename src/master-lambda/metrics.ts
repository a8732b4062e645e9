import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TaskStatus } from '../core/task.js';
import type { RouteMatch } from '../http/router.js';
import type { HttpRequest } from '../http/types.js';
import { CounterSync } from '../http/prometheus.js';
import type { StoreObserver } from '../state/observed-item-store.js';
import { OPERATOR_CALLS } from './codec/operator-call.js';
import { CALL_TYPES } from './codec/scheduler-call.js';
import type { MasterFigures } from './use-cases/metrics-views.js';

// The master's Prometheus metrics (GET /metrics), one Registry per Master so that several
// masters in one process (tests, `stratus dev --regions`) keep theirs apart. Counters move as
// things happen (use cases call the methods below after their transaction commits); gauges
// are set from the region's state when scraped (`refresh`). Names follow Prometheus's
// conventions: stratus_<component>_<what>_<unit>, counters ending in _total.

/** Plain counts a gossip keeps (src/federation), read at each scrape. */
export interface GossipCounts {
  readonly sent: number;
  readonly received: number;
  readonly dropped: number;
}

/** Plain counts an autoscaler keeps (src/autoscaler), read at each scrape. */
export interface AutoscalerCounts {
  readonly scaleUps: number;
  readonly scaleDowns: number;
  readonly drainsStarted: number;
  readonly drainsCancelled: number;
  readonly launchesTimedOut: number;
}

export type OfferEvent = 'sent' | 'accepted' | 'declined' | 'rescinded';

const AUTOSCALER_DECISIONS: readonly (readonly [keyof AutoscalerCounts, string])[] = [
  ['scaleUps', 'scale_up'],
  ['scaleDowns', 'scale_down'],
  ['drainsStarted', 'drain_started'],
  ['drainsCancelled', 'drain_cancelled'],
  ['launchesTimedOut', 'launch_timed_out'],
];

const MIB = 1024 * 1024;

function bodyType(req: HttpRequest, known: readonly string[]): string {
  const m = /"type"\s*:\s*"([A-Z_]{1,40})"/.exec(req.body.slice(0, 4096));
  return m && known.includes(m[1]!) ? m[1]! : 'UNKNOWN';
}

/**
 * The `call` label of an API request: `scheduler/<type>` and `operator/<type>` for the v1 calls
 * (a type that is no call is UNKNOWN, so a client cannot make up label values),
 * `agent/<action>`, or the route as mounted (`GET /master/state`); `unmatched` for no route.
 */
export function callLabel(req: HttpRequest, match: RouteMatch): string {
  if (match.route === undefined) return 'unmatched';
  if (match.route === '/api/v1/scheduler' && req.method === 'POST') return `scheduler/${bodyType(req, CALL_TYPES)}`;
  if (match.route === '/api/v1' && req.method === 'POST') return `operator/${bodyType(req, OPERATOR_CALLS)}`;
  if (match.route.startsWith('/api/v1/agents/')) return `agent/${match.params?.action ?? 'register'}`;
  return `${req.method === 'HEAD' ? 'GET' : req.method} ${match.route}`;
}

export class MasterMetrics {
  readonly registry = new Registry();
  readonly startedAt: number;
  /** Allocation rounds and the last one's duration, for Mesos's allocator/mesos/allocation_run_ms. */
  readonly rounds = { count: 0, lastMs: 0 };

  readonly offers = new Counter({ name: 'stratus_master_offers_total', help: 'Offers sent to frameworks, and accepted, declined or rescinded', labelNames: ['framework_id', 'event'] as const, registers: [this.registry] });
  readonly taskTransitions = new Counter({
    name: 'stratus_master_task_transitions_total',
    help: 'Task state changes the master applied, by the new state, its source and reason (empty when none)',
    labelNames: ['state', 'source', 'reason'] as const,
    registers: [this.registry],
  });
  readonly apiRequests = new Counter({ name: 'stratus_master_api_requests_total', help: 'API requests by call type (scheduler/operator call, agent action or route) and HTTP status', labelNames: ['call', 'code'] as const, registers: [this.registry] });
  readonly apiDuration = new Histogram({ name: 'stratus_master_api_request_duration_seconds', help: 'API request handling time (a stream: until its first byte)', labelNames: ['call'] as const, buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry] });
  readonly storeRequests = new Counter({ name: 'stratus_master_store_requests_total', help: 'Requests to the state store (DynamoDB or in-memory) by operation and outcome (conflict: a condition failed)', labelNames: ['operation', 'outcome'] as const, registers: [this.registry] });
  readonly storeDuration = new Histogram({ name: 'stratus_master_store_request_duration_seconds', help: 'State store request latency', labelNames: ['operation'] as const, buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers: [this.registry] });
  readonly allocationRound = new Histogram({ name: 'stratus_master_allocation_round_duration_seconds', help: 'Duration of the leader allocation rounds', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });

  private readonly tasks = new Gauge({ name: 'stratus_master_tasks', help: 'Non-terminal tasks in the region by state', labelNames: ['state'] as const, registers: [this.registry] });
  private readonly agents = new Gauge({ name: 'stratus_master_agents', help: 'Agents by state (active, deactivated, draining, drained, unreachable, gone)', labelNames: ['state'] as const, registers: [this.registry] });
  private readonly frameworks = new Gauge({ name: 'stratus_master_frameworks', help: 'Registered frameworks by connection (connected, disconnected)', labelNames: ['state'] as const, registers: [this.registry] });
  private readonly outstandingOffers = new Gauge({ name: 'stratus_master_outstanding_offers', help: 'Offers made and not yet accepted, declined or rescinded', registers: [this.registry] });
  private readonly cpus = new Gauge({ name: 'stratus_master_cpus', help: 'CPUs of the reachable and unreachable agents: total, used by tasks, offered', labelNames: ['kind'] as const, registers: [this.registry] });
  private readonly mem = new Gauge({ name: 'stratus_master_mem_bytes', help: 'Memory of the agents: total, used by tasks, offered', labelNames: ['kind'] as const, registers: [this.registry] });
  private readonly disk = new Gauge({ name: 'stratus_master_disk_bytes', help: 'Disk of the agents: total, used by tasks, offered', labelNames: ['kind'] as const, registers: [this.registry] });
  private readonly shares = new Gauge({ name: 'stratus_master_role_dominant_share', help: 'DRF dominant share of each role (offered and allocated over the region total, unweighted)', labelNames: ['role'] as const, registers: [this.registry] });
  private readonly leaseEpoch = new Gauge({ name: 'stratus_master_lease_epoch', help: 'Epoch of the leader lease', registers: [this.registry] });
  private readonly leader = new Gauge({ name: 'stratus_master_leader', help: '1 when this process holds the leader lease', registers: [this.registry] });
  private readonly elected = new Gauge({ name: 'stratus_master_elected', help: '1 when the region has a leader (some process holds the lease)', registers: [this.registry] });
  private readonly uptime = new Gauge({ name: 'stratus_master_uptime_seconds', help: 'Seconds since this master process started', registers: [this.registry] });
  private readonly gossipDigests = new Counter({ name: 'stratus_federation_gossip_digests_total', help: 'Gossip digests sent to peers, received from them, and dropped (malformed, unknown peer, too large...)', labelNames: ['direction'] as const, registers: [this.registry] });
  private readonly autoscalerDecisions = new Counter({ name: 'stratus_autoscaler_decisions_total', help: 'Autoscaler decisions by kind', labelNames: ['decision'] as const, registers: [this.registry] });

  private readonly gossipSync = new CounterSync(this.gossipDigests);
  private readonly autoscalerSync = new CounterSync(this.autoscalerDecisions);
  /** Whether this process holds the leader lease (the Master binds its lease here). */
  isLeader: () => boolean = () => false;

  private readonly gossipSources: (() => GossipCounts)[] = [];
  private readonly autoscalerSources: (() => AutoscalerCounts)[] = [];

  /** What the store decorator (src/state/observed-item-store.ts) reports to. */
  readonly storeObserver: StoreObserver = {
    request: (operation, outcome, seconds) => {
      this.storeRequests.inc({ operation, outcome });
      this.storeDuration.observe({ operation }, seconds);
    },
  };

  constructor(private readonly now: () => number = Date.now) {
    this.startedAt = now();
    // Every series of the fixed label sets exists from the start, at 0, so rates work at once.
    for (const direction of ['sent', 'received', 'dropped']) this.gossipDigests.inc({ direction }, 0);
    for (const [, decision] of AUTOSCALER_DECISIONS) this.autoscalerDecisions.inc({ decision }, 0);
  }

  offer(event: OfferEvent, frameworkId: string, count = 1): void {
    if (count > 0) this.offers.inc({ framework_id: frameworkId, event }, count);
  }

  /** A task status the master applied (after its transaction committed), or sent for a task it never stored (ERROR, DROPPED). */
  taskStatus(status: Pick<TaskStatus, 'state' | 'source' | 'reason'>): void {
    this.taskTransitions.inc({ state: `TASK_${status.state}`, source: status.source ?? '', reason: status.reason ? `REASON_${status.reason}` : '' });
  }

  apiRequest(call: string, code: number, seconds: number): void {
    this.apiRequests.inc({ call, code: String(code) });
    this.apiDuration.observe({ call }, seconds);
  }

  allocationRoundDone(seconds: number): void {
    this.allocationRound.observe(seconds);
    this.rounds.count++;
    this.rounds.lastMs = seconds * 1000;
  }

  observeGossip(read: () => GossipCounts): void {
    this.gossipSources.push(read);
  }

  observeAutoscaler(read: () => AutoscalerCounts): void {
    this.autoscalerSources.push(read);
  }

  /** Reads the sources and sets the gauges from the region's figures; call before rendering. */
  refresh(f: MasterFigures, lease: { readonly epoch: number; readonly elected: boolean; readonly leader: boolean }): void {
    this.tasks.reset();
    for (const [state, n] of Object.entries(f.tasks)) if (n > 0 || ['STAGING', 'STARTING', 'RUNNING', 'KILLING'].includes(state)) this.tasks.set({ state: `TASK_${state}` }, n);
    for (const [state, n] of Object.entries(f.agents)) this.agents.set({ state }, n);
    this.frameworks.set({ state: 'connected' }, f.frameworks.connected);
    this.frameworks.set({ state: 'disconnected' }, f.frameworks.disconnected);
    this.outstandingOffers.set(f.outstandingOffers);
    for (const kind of ['total', 'used', 'offered'] as const) {
      this.cpus.set({ kind }, f.resources[kind].cpus);
      this.mem.set({ kind }, f.resources[kind].mem * MIB);
      this.disk.set({ kind }, f.resources[kind].disk * MIB);
    }
    this.shares.reset();
    for (const [role, share] of Object.entries(f.shares)) this.shares.set({ role }, share);
    this.leaseEpoch.set(lease.epoch);
    this.leader.set(lease.leader ? 1 : 0);
    this.elected.set(lease.elected ? 1 : 0);
    this.uptime.set((this.now() - this.startedAt) / 1000);
    const gossip = this.gossipSources.map((read) => read());
    for (const direction of ['sent', 'received', 'dropped'] as const) this.gossipSync.set({ direction }, gossip.reduce((n, g) => n + g[direction], 0));
    const scaler = this.autoscalerSources.map((read) => read());
    for (const [key, decision] of AUTOSCALER_DECISIONS) this.autoscalerSync.set({ decision }, scaler.reduce((n, a) => n + a[key], 0));
  }
}
