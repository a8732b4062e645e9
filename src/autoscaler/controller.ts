import { GROUP_ATTRIBUTE, type Agent } from '../core/agent.js';
import { ConflictError, FencedError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import type { PendingTask } from '../jobs/views.js';
import type { MasterContext } from '../master-lambda/extension.js';
import type { Registry, Stored } from '../state/registry.js';
import { DEFAULT_ACTIVITY_RETENTION_SECONDS, type ActivityEntry } from './activity.js';
import { rulesView, statusView, storeRules, type AutoscalerStatus, type Evaluation, type RulesView } from './api.js';
import { decide, type DecideOptions, type DecideResult, type GroupHistory, type PendingDemand } from './decide.js';
import { activityOf, hostStates, pendingDemand } from './decision-input.js';
import { newMetrics, type AutoscalerMetrics } from './metrics.js';
import { inFlight, removingAgents, ScalingOperations } from './operations.js';
import { DEFAULT_RETRY, type RetryPolicy, type ScalingProvider } from './provider.js';
import { toGroupRule, type GroupRule } from './rules.js';
import { AutoscalerStore, putGroup, type GroupDoc, type Versioned } from './store.js';

// The autoscaler's controller, the leader duty. Each pass:
//   1. carries every open operation one or more steps further (operations.ts);
//   2. reads the region (rules, hosts, pending tasks, hosts in flight, last scale times), calls
//      the pure decision function (decide.ts) and starts its decisions as new operations.
// The operator views (rules, activity, status) are in api.ts; this class offers them with its
// provider and counters.

export interface AutoscalerOptions {
  readonly provider: ScalingProvider;
  /** Tasks waiting for placement with Fenzo's reasons (the jobs framework's `pendingTasks`). */
  readonly pendingTasks?: () => readonly PendingTask[] | Promise<readonly PendingTask[]>;
  /** How often the duty runs a pass (default 5 s). */
  readonly intervalMs?: number;
  /** Options of the decision function. */
  readonly decide?: Partial<DecideOptions>;
  /** A scale-up whose hosts have not all registered after this is closed and reported (default 15 min). */
  readonly launchTimeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Activity entries are kept this long (default 7 days). */
  readonly activityRetentionSeconds?: number;
  /**
   * An idle-time observation older than this is not trusted (no leader watched the hosts in
   * between): idle times start over. Default the larger of 60 s and 4 intervals.
   */
  readonly idleMemoryMs?: number;
  readonly log?: Logger;
}

/** What one pass did. */
export interface PassReport {
  readonly ran: boolean;
  readonly result?: DecideResult;
  readonly operations: number;
}

const MAX_TRACKED_IDLE = 2_000;

export class AutoscalerController {
  readonly provider: ScalingProvider;
  readonly metrics: AutoscalerMetrics = newMetrics();
  readonly intervalMs: number;
  private readonly log: Logger;
  private readonly retentionSeconds: number;
  /** How old an idle-time observation may be and still be trusted. */
  private readonly idleMemoryMs: number;
  private readonly decideOptions: Partial<DecideOptions>;
  private readonly operations: ScalingOperations;
  private lastEvaluation: Evaluation | undefined;
  private running: Promise<unknown> | undefined;
  private lastRunAt = -Infinity;
  private stopped = false;
  private readonly warned = new Set<string>();

  constructor(private readonly options: AutoscalerOptions) {
    this.provider = options.provider;
    this.intervalMs = options.intervalMs ?? 5_000;
    this.log = options.log ?? createLogger('stratus-autoscaler');
    this.retentionSeconds = options.activityRetentionSeconds ?? DEFAULT_ACTIVITY_RETENTION_SECONDS;
    this.idleMemoryMs = options.idleMemoryMs ?? Math.max(60_000, 4 * this.intervalMs);
    this.decideOptions = options.decide ?? {};
    this.operations = new ScalingOperations({
      provider: this.provider,
      metrics: this.metrics,
      log: this.log,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      launchTimeoutMs: options.launchTimeoutMs ?? 15 * 60_000,
      activityRetentionSeconds: this.retentionSeconds,
    });
  }

  /**
   * The leader duty: starts a pass every `intervalMs` in the background, so slow provider calls
   * never hold up allocation rounds. With `wait`, the duty waits for the pass (tick.ts, tests).
   */
  duty(ctx: MasterContext, epoch: number, wait = false): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (!this.running && performance.now() - this.lastRunAt >= this.intervalMs) {
      this.lastRunAt = performance.now();
      this.running = this.runOnce(ctx, epoch).finally(() => {
        this.running = undefined;
      });
    }
    return wait && this.running ? this.running.then(() => undefined) : Promise.resolve();
  }

  /** Resolves when the pass running now (if any) has ended; later passes may still start. */
  async settled(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** No pass starts after this; resolves when the running one has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  /** One pass; never throws except when leadership was lost (FencedError is swallowed too). */
  async runOnce(ctx: MasterContext, epoch: number): Promise<PassReport> {
    const t0 = performance.now();
    try {
      return await this.pass(ctx, epoch);
    } catch (e) {
      if (e instanceof FencedError) {
        this.log.warn('autoscaler pass stopped: leadership lost', { epoch });
        return { ran: false, operations: 0 };
      }
      this.metrics.errors++;
      this.log.error('autoscaler pass failed', { error: e, epoch });
      return { ran: false, operations: 0 };
    } finally {
      this.metrics.lastEvaluationMs = Math.round(performance.now() - t0);
    }
  }

  private async pass(ctx: MasterContext, epoch: number): Promise<PassReport> {
    const store = this.store(ctx.registry);
    const stored = await store.rules();
    const known = this.provider.groups();
    const rules: GroupRule[] = [];
    for (const g of stored?.rules.groups ?? []) {
      if (known.includes(g.group)) rules.push(toGroupRule(g));
      else this.warnOnce(`unknown:${g.group}`, 'a rule names a group the provider does not know; it is ignored', { group: g.group, known });
    }
    const rulesByGroup = new Map(rules.map((r) => [r.group, r]));

    // 1. Open operations, one step or more each.
    let agents = await ctx.registry.listAgents();
    let ops = await store.operations();
    if (await this.operations.advanceAll(ctx, epoch, ops, agents, rulesByGroup)) {
      [agents, ops] = await Promise.all([ctx.registry.listAgents(), store.operations()]);
    }

    // 2. Decide.
    const now = ctx.now();
    const [groups, pending] = await Promise.all([store.groups(), this.pending()]);
    const removing = removingAgents(ops);
    const hosts = hostStates(agents, removing, await this.trackIdle(ctx, epoch, rules, agents, removing, groups));
    const history: Record<string, GroupHistory> = {};
    for (const [g, v] of groups) history[g] = { ...(v.doc.lastScaleUpAt !== undefined ? { lastScaleUpAt: v.doc.lastScaleUpAt } : {}), ...(v.doc.lastScaleDownAt !== undefined ? { lastScaleDownAt: v.doc.lastScaleDownAt } : {}) };
    // One decision is one transaction (at most 100 writes): removals per decision stay below.
    const options = { ...this.decideOptions, maxRemovalsPerDecision: Math.min(90, this.decideOptions.maxRemovalsPerDecision ?? 50) };
    const result = decide({ rules, hosts, pending, inFlight: inFlight(ops, agents), history, options }, now);
    this.metrics.evaluations++;
    this.metrics.lastEvaluationAt = now;
    this.metrics.pendingStale = result.pending.stale;
    this.metrics.pendingConstraint = result.pending.constraint;
    this.lastEvaluation = { at: now, ...result };
    for (const h of result.holds) this.log.debug('autoscaler holds', { group: h.group, reason: h.reason });

    let created = 0;
    for (const d of result.decisions) {
      try {
        created += (await this.operations.start(ctx, epoch, d, rulesByGroup.get(d.group)!, groups.get(d.group))).length;
      } catch (e) {
        if (e instanceof FencedError) throw e;
        // A concurrent change (another pass, an operator): the next pass decides again.
        if (e instanceof ConflictError) this.log.warn('autoscaler decision not recorded: changed concurrently', { group: d.group, error: e });
        else throw e;
      }
    }
    return { ran: true, result, operations: created };
  }

  // ---- inputs ----

  private store(registry: Registry): AutoscalerStore {
    return new AutoscalerStore(registry, (what, error) => this.warnOnce(`corrupt:${what}`, 'autoscaler document unreadable; ignored', { what, error }));
  }

  private async pending(): Promise<PendingDemand[]> {
    if (!this.options.pendingTasks) return [];
    try {
      return (await this.options.pendingTasks()).map(pendingDemand);
    } catch (e) {
      // No fresh view of the demand: decide on none (never scale up on a guess).
      this.log.warn('pending tasks unavailable; no scale-up this pass', { error: e });
      return [];
    }
  }

  /**
   * Since when each idle host has been idle, kept in the group's document so that a new leader
   * (or the next Lambda tick) continues the count instead of starting over. An observation older
   * than `idleMemoryMs` is discarded: the hosts may have worked in between, unseen.
   */
  private async trackIdle(ctx: MasterContext, epoch: number, rules: readonly GroupRule[], agents: readonly Stored<Agent>[], removing: ReadonlySet<string>, groups: Map<string, Versioned<GroupDoc>>): Promise<Map<string, number>> {
    const now = ctx.now();
    const out = new Map<string, number>();
    for (const rule of rules) {
      const cur = groups.get(rule.group);
      const observedAt = cur?.doc.observedAt;
      const fresh = observedAt !== undefined && now >= observedAt && now - observedAt <= this.idleMemoryMs;
      const prev = fresh ? (cur?.doc.idle ?? {}) : {};
      const idle = agents
        .filter((a) => a.reachability !== 'GONE' && a.attributes[GROUP_ATTRIBUTE] === rule.group && !removing.has(a.id) && activityOf(a) === 'idle')
        .map((a) => [a.id, prev[a.id] ?? now] as const)
        .sort((a, b) => a[1] - b[1])
        // Bounded (a DynamoDB item holds 400 KB): hosts beyond it count as idle from now.
        .slice(0, MAX_TRACKED_IDLE);
      const next = Object.fromEntries(idle);
      for (const [id, since] of idle) out.set(id, since);
      const same = Object.keys(next).length === Object.keys(prev).length && Object.keys(next).every((id) => prev[id] !== undefined);
      if (same && fresh && now - observedAt < this.idleMemoryMs / 2) continue;
      const doc: GroupDoc = { ...cur?.doc, idle: next, observedAt: now };
      const tx = ctx.registry.transaction().fence(epoch);
      putGroup(tx, rule.group, cur, doc);
      await tx.commit();
      groups.set(rule.group, { doc, version: (cur?.version ?? 0) + 1 });
    }
    return out;
  }

  // ---- operator API (api.ts), with this controller's provider and counters ----

  getRules(registry: Registry): Promise<RulesView> {
    return rulesView(this.store(registry), this.provider);
  }

  /** Validates (ValidationError naming the field) and stores a rule set; written by any master, not only the leader. */
  setRules(registry: Registry, body: unknown, now: number = registry.now()): Promise<RulesView> {
    return storeRules(this.store(registry), this.provider, body, now, { activityRetentionSeconds: this.retentionSeconds, log: this.log });
  }

  activity(registry: Registry, limit = 100, group?: string): Promise<ActivityEntry[]> {
    return this.store(registry).activity(limit, group);
  }

  status(registry: Registry): Promise<AutoscalerStatus> {
    return statusView(this.store(registry), this.provider, this.metrics, this.lastEvaluation);
  }

  private warnOnce(key: string, message: string, context: Record<string, unknown>): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(message, context);
  }
}
