import { GROUP_ATTRIBUTE, INSTANCE_ID_ATTRIBUTE, ZONE_ATTRIBUTE, type Agent } from '../core/agent.js';
import { ConflictError, FencedError, NotFoundError } from '../core/errors.js';
import { isEmpty } from '../core/resources.js';
import type { PendingTask } from '../jobs/views.js';
import { createLogger, type Logger } from '../core/logger.js';
import { drainAgent, markAgentGone, retryOnConflict, setAgentActive, type MasterContext } from '../master-lambda/extension.js';
import type { Registry, RegistryTransaction, Stored } from '../state/registry.js';
import { ACTIVITY_COLLECTION, activityId, hostOf, toJson, type ActivityEntry } from './activity.js';
import { backoffDelay } from '../core/backoff.js';
import { DEFAULT_RETRY, type RetryPolicy } from './provider.js';
import { decide, type DecideResult, type EngineOptions, type GroupHistory, type HostActivity, type HostState, type PendingDemand, type ScaleDownDecision, type ScaleUpDecision } from './engine.js';
import { newMetrics, type AutoscalerMetrics } from './metrics.js';
import { isRetryable, type HostRef, type ScalingProvider } from './provider.js';
import { parseRuleSet, toEngineRule, type GroupRule, type GroupRuleConfig, type RuleSet } from './rules.js';
import { AutoscalerStore, CONFIG_COLLECTION, GROUPS_COLLECTION, OPS_COLLECTION, RULES_ID, scaleDownOpId, scaleUpOpId, type GroupDoc, type Operation, type ScaleDownOp, type ScaleUpOp, type StoredOp, type Versioned } from './store.js';

// The autoscaler use case. On the leader, each pass:
//   1. carries every open operation one or more steps further (persisted, fenced by the epoch):
//        scale-up:   requested → launching (provider asked) → ended when its hosts registered
//        scale-down: draining (DRAIN_AGENT) → terminating (provider) → removing (agent GONE) → ended
//      so a new leader resumes where the old one stopped;
//   2. builds the engine's input (rules, hosts, pending tasks, hosts in flight, last scale
//      times) and applies its decisions as new operations.
// Provider errors never escape a pass: transient ones are retried with backoff, permanent ones
// end the operation (a host to remove is reactivated); each is logged and in the activity log.

export interface AutoscalerOptions {
  readonly provider: ScalingProvider;
  /** Tasks waiting for placement with Fenzo's reasons (the jobs framework's `pendingTasks`). */
  readonly pendingTasks?: () => readonly PendingTask[] | Promise<readonly PendingTask[]>;
  /** How often the duty runs a pass (default 5 s). */
  readonly intervalMs?: number;
  readonly engine?: Partial<EngineOptions>;
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

export interface RulesView {
  readonly groups: readonly GroupRuleConfig[];
  readonly updatedAt?: number;
  readonly version: number;
  /** Groups the provider can size. */
  readonly knownGroups: readonly string[];
}

export interface GroupStatus {
  readonly group: string;
  readonly rule?: GroupRuleConfig;
  readonly hosts: number;
  readonly idle: number;
  readonly busy: number;
  readonly draining: number;
  readonly unreachable: number;
  readonly removing: number;
  readonly inFlight: number;
  readonly lastScaleUpAt?: number;
  readonly lastScaleDownAt?: number;
}

export interface AutoscalerStatus {
  readonly provider: string;
  readonly groups: readonly GroupStatus[];
  readonly operations: readonly (Operation & { readonly id: string })[];
  /** The latest pass of this process (when it led). */
  readonly lastEvaluation?: { readonly at: number } & DecideResult;
  readonly metrics: AutoscalerMetrics;
}

/** What one pass did. */
export interface PassReport {
  readonly ran: boolean;
  readonly result?: DecideResult;
  readonly operations: number;
}

const DAY_SECONDS = 24 * 3600;
const MAX_TRACKED_IDLE = 2_000;

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** The group constraint of a pending task (a hard hostAttribute constraint on `group`). */
function groupsOf(t: PendingTask): readonly string[] | undefined {
  let groups: string[] | undefined;
  for (const c of t.constraints) {
    if (c.type !== 'hostAttribute' || c.attribute !== GROUP_ATTRIBUTE || c.soft) continue;
    groups = groups === undefined ? [...c.values] : groups.filter((g) => c.values.includes(g));
  }
  return groups;
}

export function pendingDemand(t: PendingTask): PendingDemand {
  const groups = groupsOf(t);
  return {
    id: `${t.job}/${t.instance}`,
    resources: { cpus: t.resources.cpus, mem: t.resources.mem, disk: t.resources.disk, ports: t.resources.ports },
    kind: t.kind,
    ...(t.at !== undefined ? { at: t.at } : {}),
    ...(groups !== undefined ? { groups } : {}),
  };
}

function activityOf(a: Agent): HostActivity {
  if (a.reachability === 'UNREACHABLE' || a.health?.healthy === false) return 'unreachable';
  if (a.drain !== undefined || a.deactivated) return 'draining';
  return isEmpty(a.allocated) ? 'idle' : 'busy';
}

function hostRef(op: ScaleDownOp): HostRef {
  return { group: op.group, agentId: op.agentId, hostname: op.hostname, ...(op.instanceId !== undefined ? { instanceId: op.instanceId } : {}), ...(op.zone !== undefined ? { zone: op.zone } : {}) };
}

export class Autoscaler {
  readonly provider: ScalingProvider;
  readonly metrics: AutoscalerMetrics = newMetrics();
  readonly intervalMs: number;
  private readonly log: Logger;
  private readonly retry: RetryPolicy;
  private readonly launchTimeoutMs: number;
  private readonly retentionSeconds: number;
  /** How old an idle-time observation may be and still be trusted. */
  private readonly idleMemoryMs: number;
  private lastEvaluation: ({ at: number } & DecideResult) | undefined;
  private running: Promise<unknown> | undefined;
  private lastRunAt = -Infinity;
  private stopped = false;
  private readonly warned = new Set<string>();

  constructor(private readonly options: AutoscalerOptions) {
    this.provider = options.provider;
    this.intervalMs = options.intervalMs ?? 5_000;
    this.log = options.log ?? createLogger('stratus-autoscaler');
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.launchTimeoutMs = options.launchTimeoutMs ?? 15 * 60_000;
    this.retentionSeconds = options.activityRetentionSeconds ?? 7 * DAY_SECONDS;
    this.idleMemoryMs = options.idleMemoryMs ?? Math.max(60_000, 4 * this.intervalMs);
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
      if (known.includes(g.group)) rules.push(toEngineRule(g));
      else this.warnOnce(`unknown:${g.group}`, 'a rule names a group the provider does not know; it is ignored', { group: g.group, known });
    }
    const rulesByGroup = new Map(rules.map((r) => [r.group, r]));

    // 1. Open operations, one step or more each.
    let agents = await ctx.registry.listAgents();
    let ops = await this.operations(store);
    let progressed = false;
    const arrivals = this.arrivals(ops, agents);
    for (const op of ops) {
      const after = await this.progress(ctx, epoch, op, arrivals.get(op.id) ?? 0, rulesByGroup.get(op.doc.group));
      if (after !== op) progressed = true;
    }
    if (progressed) {
      [agents, ops] = await Promise.all([ctx.registry.listAgents(), this.operations(store)]);
    }

    // 2. Decide.
    const now = ctx.now();
    const [groups, pending] = await Promise.all([store.groups(), this.pending()]);
    const removing = new Set(ops.flatMap((o) => (o.doc.kind === 'scale-down' ? [o.doc.agentId] : [])));
    const hosts = this.hostStates(agents, removing, await this.trackIdle(ctx, epoch, rules, agents, removing, groups));
    const inFlight: Record<string, number> = {};
    const flying = this.arrivals(ops, agents);
    for (const o of ops) {
      if (o.doc.kind !== 'scale-up') continue;
      inFlight[o.doc.group] = (inFlight[o.doc.group] ?? 0) + Math.max(0, o.doc.count - (flying.get(o.id) ?? 0));
    }
    const history: Record<string, GroupHistory> = {};
    for (const [g, v] of groups) history[g] = { ...(v.doc.lastScaleUpAt !== undefined ? { lastScaleUpAt: v.doc.lastScaleUpAt } : {}), ...(v.doc.lastScaleDownAt !== undefined ? { lastScaleDownAt: v.doc.lastScaleDownAt } : {}) };
    // One decision is one transaction (at most 100 writes): removals per decision stay below.
    const options = { ...this.options.engine, maxRemovalsPerDecision: Math.min(90, this.options.engine?.maxRemovalsPerDecision ?? 50) };
    const result = decide({ rules, hosts, pending, inFlight, history, options }, now);
    this.metrics.evaluations++;
    this.metrics.lastEvaluationAt = now;
    this.metrics.pendingStale = result.pending.stale;
    this.metrics.pendingConstraint = result.pending.constraint;
    this.lastEvaluation = { at: now, ...result };
    for (const h of result.holds) this.log.debug('autoscaler holds', { group: h.group, reason: h.reason });

    let created = 0;
    for (const d of result.decisions) {
      const rule = rulesByGroup.get(d.group)!;
      const group = groups.get(d.group);
      try {
        const newOps = d.kind === 'scale-up' ? [await this.startScaleUp(ctx, epoch, d, group)] : await this.startScaleDown(ctx, epoch, d, rule, group);
        created += newOps.length;
        for (const op of newOps) await this.progress(ctx, epoch, op, 0, rule);
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

  private operations(store: AutoscalerStore): Promise<StoredOp[]> {
    return store.operations();
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

  private hostStates(agents: readonly Stored<Agent>[], removing: ReadonlySet<string>, idleSinceOf: ReadonlyMap<string, number>): HostState[] {
    const out: HostState[] = [];
    for (const a of agents) {
      if (a.reachability === 'GONE') continue;
      const activity = activityOf(a);
      const zone = a.attributes[ZONE_ATTRIBUTE];
      const instanceId = a.attributes[INSTANCE_ID_ATTRIBUTE];
      const idleSince = activity === 'idle' ? idleSinceOf.get(a.id) : undefined;
      out.push({
        agentId: a.id,
        hostname: a.hostname,
        group: a.attributes[GROUP_ATTRIBUTE] ?? '',
        activity,
        registeredAt: a.registeredAt,
        removing: removing.has(a.id),
        ...(zone !== undefined ? { zone } : {}),
        ...(instanceId !== undefined ? { instanceId } : {}),
        ...(idleSince !== undefined ? { idleSince } : {}),
      });
    }
    return out;
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
      this.groupWrite(tx, rule.group, cur, doc);
      await tx.commit();
      groups.set(rule.group, { doc, version: (cur?.version ?? 0) + 1 });
    }
    return out;
  }

  /**
   * Hosts that arrived for each scale-up: the group's agents registered since it was requested,
   * given to the oldest operation first, each at most its count.
   */
  private arrivals(ops: readonly StoredOp[], agents: readonly Stored<Agent>[]): Map<string, number> {
    const out = new Map<string, number>();
    const ups = ops.filter((o): o is StoredOp & { doc: ScaleUpOp } => o.doc.kind === 'scale-up').sort((a, b) => a.doc.requestedAt - b.doc.requestedAt);
    const taken = new Set<string>();
    for (const o of ups) {
      let n = 0;
      for (const a of agents) {
        if (n >= o.doc.count) break;
        if (taken.has(a.id) || a.attributes[GROUP_ATTRIBUTE] !== o.doc.group || a.registeredAt < o.doc.requestedAt) continue;
        taken.add(a.id);
        n++;
      }
      out.set(o.id, n);
    }
    return out;
  }

  // ---- writes ----

  private expiresAt(now: number): number {
    return Math.floor(now / 1000) + this.retentionSeconds;
  }

  private addActivity(tx: RegistryTransaction, now: number, entry: Omit<ActivityEntry, 'at'>): void {
    tx.putDocument(ACTIVITY_COLLECTION, activityId(now), toJson({ at: now, ...entry }), 'absent', this.expiresAt(now));
  }

  /** Moves an operation on (or ends it with 'end'), with its activity entries, in one fenced transaction. */
  private async write(ctx: MasterContext, epoch: number, op: StoredOp, next: Operation | 'end', entries: readonly Omit<ActivityEntry, 'at' | 'group' | 'epoch' | 'operation'>[]): Promise<StoredOp | undefined> {
    const now = ctx.now();
    const tx = ctx.registry.transaction().fence(epoch);
    if (next === 'end') tx.deleteDocument(OPS_COLLECTION, op.id, { version: op.version });
    else tx.putDocument(OPS_COLLECTION, op.id, toJson(next), { version: op.version });
    for (const e of entries) this.addActivity(tx, now, { ...e, group: op.doc.group, epoch, operation: op.id });
    await tx.commit();
    return next === 'end' ? undefined : { id: op.id, doc: next, version: op.version + 1 };
  }

  private groupWrite(tx: RegistryTransaction, group: string, current: Versioned<GroupDoc> | undefined, patch: GroupDoc): void {
    tx.putDocument(GROUPS_COLLECTION, group, toJson({ ...current?.doc, ...patch }), current ? { version: current.version } : 'absent');
  }

  private async startScaleUp(ctx: MasterContext, epoch: number, d: ScaleUpDecision, group: Versioned<GroupDoc> | undefined): Promise<StoredOp> {
    const now = ctx.now();
    const id = scaleUpOpId(d.group, now);
    const op: ScaleUpOp = { kind: 'scale-up', group: d.group, count: d.count, zones: [...d.zones], cause: d.cause, reason: d.reason, requestedAt: now, phase: 'requested', attempts: 0 };
    const tx = ctx.registry.transaction().fence(epoch);
    tx.putDocument(OPS_COLLECTION, id, toJson(op), 'absent');
    this.groupWrite(tx, d.group, group, { lastScaleUpAt: now });
    this.addActivity(tx, now, { group: d.group, action: 'scale-up', outcome: 'decided', reason: d.reason, count: d.count, operation: id, epoch });
    await tx.commit();
    this.metrics.scaleUps++;
    this.metrics.hostsRequested += d.count;
    this.log.info('autoscaler scales up', { group: d.group, count: d.count, cause: d.cause, reason: d.reason, zones: d.zones, operation: id });
    return { id, doc: op, version: 1 };
  }

  private async startScaleDown(ctx: MasterContext, epoch: number, d: ScaleDownDecision, rule: GroupRule, group: Versioned<GroupDoc> | undefined): Promise<StoredOp[]> {
    const now = ctx.now();
    const tx = ctx.registry.transaction().fence(epoch);
    const out: StoredOp[] = [];
    for (const h of d.hosts) {
      const id = scaleDownOpId(h.agentId);
      const op: ScaleDownOp = {
        kind: 'scale-down',
        group: d.group,
        agentId: h.agentId,
        hostname: h.hostname,
        ...(h.zone !== undefined ? { zone: h.zone } : {}),
        ...(h.instanceId !== undefined ? { instanceId: h.instanceId } : {}),
        busy: h.busy,
        cause: d.cause,
        reason: d.reason,
        startedAt: now,
        phase: 'draining',
        drainRequested: false,
        drainDeadline: now + rule.drainTimeoutMs,
        ...(rule.drainGraceMs !== undefined ? { drainGraceMs: rule.drainGraceMs } : {}),
        attempts: 0,
      };
      tx.putDocument(OPS_COLLECTION, id, toJson(op), 'absent');
      out.push({ id, doc: op, version: 1 });
    }
    this.groupWrite(tx, d.group, group, { lastScaleDownAt: now });
    this.addActivity(tx, now, { group: d.group, action: 'scale-down', outcome: 'decided', reason: d.reason, count: d.hosts.length, hosts: d.hosts.map(hostOf), epoch });
    await tx.commit();
    this.metrics.scaleDowns++;
    this.log.info('autoscaler scales down', { group: d.group, cause: d.cause, reason: d.reason, hosts: d.hosts.map((h) => h.hostname) });
    return out;
  }

  // ---- operations ----

  /** Carries one operation as far as it can go now; returns it as it stands (undefined once ended). */
  private async progress(ctx: MasterContext, epoch: number, op: StoredOp, arrived: number, rule: GroupRule | undefined): Promise<StoredOp | undefined> {
    let cur: StoredOp | undefined = op;
    // Each step either waits (returns the same object) or moves on; a few steps at most.
    for (let i = 0; i < 6 && cur; i++) {
      if (cur.doc.retryAt !== undefined && cur.doc.retryAt > ctx.now()) return cur;
      let next: StoredOp | undefined;
      try {
        next = cur.doc.kind === 'scale-up' ? await this.stepUp(ctx, epoch, cur as StoredOp & { doc: ScaleUpOp }, arrived) : await this.stepDown(ctx, epoch, cur as StoredOp & { doc: ScaleDownOp }, rule);
      } catch (e) {
        if (e instanceof FencedError) throw e;
        if (e instanceof ConflictError) {
          this.log.warn('autoscaler operation changed concurrently; re-read next pass', { operation: cur.id, error: e });
          return cur;
        }
        // A Registry or master error: the operation stays as persisted and is tried again next pass.
        this.metrics.errors++;
        this.log.error('autoscaler operation step failed; retried next pass', { operation: cur.id, error: e });
        return cur;
      }
      if (next === cur) return cur;
      cur = next;
    }
    return cur;
  }

  /**
   * Before a provider call: is `epoch` still the lease's? A pass can outlive its leadership (it
   * runs in the background); the Registry's fencing stops its writes, this stops its calls.
   */
  private async assertLeader(ctx: MasterContext, epoch: number): Promise<void> {
    if ((await ctx.registry.getLeaseEpoch()) !== epoch) throw new FencedError(epoch);
  }

  /** A provider call failed: retry later with backoff, or give the operation up. */
  private async providerFailed(ctx: MasterContext, epoch: number, op: StoredOp, e: unknown, action: 'launch' | 'terminate'): Promise<StoredOp | undefined> {
    this.metrics.providerErrors++;
    const error = errorText(e);
    const attempts = op.doc.attempts + 1;
    const base = { group: op.doc.group, operation: op.id, provider: this.provider.kind, attempt: attempts, error };
    if (isRetryable(e) && attempts < this.retry.maxAttempts) {
      const delay = backoffDelay(attempts, { ...this.retry, jitter: 0.2 });
      this.metrics.providerRetries++;
      this.log.warn(`provider ${action} failed; retrying with backoff`, { ...base, retryInMs: delay });
      return this.write(ctx, epoch, op, { ...op.doc, attempts, retryAt: ctx.now() + delay, lastError: error }, [
        { action, outcome: 'retrying', reason: `${this.provider.kind} ${action} failed (attempt ${attempts}); retrying in ${delay} ms`, error, attempt: attempts },
      ]);
    }
    this.metrics.operationsFailed++;
    this.log.error(`provider ${action} failed; operation given up`, base);
    if (op.doc.kind === 'scale-down') {
      // The host stays: give it back to the scheduler.
      await setAgentActive(ctx, op.doc.agentId, true, 'agent_id').catch((err: unknown) => {
        if (!(err instanceof NotFoundError)) throw err;
      });
    }
    return this.write(ctx, epoch, op, 'end', [
      { action, outcome: 'failed', reason: `${this.provider.kind} ${action} failed after ${attempts} attempt(s)${op.doc.kind === 'scale-down' ? '; the host is kept and reactivated' : ''}`, error, attempt: attempts },
    ]);
  }

  private async stepUp(ctx: MasterContext, epoch: number, op: StoredOp & { doc: ScaleUpOp }, arrived: number): Promise<StoredOp | undefined> {
    const d = op.doc;
    if (d.phase === 'requested') {
      let cur: StoredOp & { doc: ScaleUpOp } = op;
      await this.assertLeader(ctx, epoch);
      try {
        if (d.target === undefined) {
          // Fix the target once: a retry or a new leader asks for the same size, never count more.
          const from = await this.provider.desiredSize(d.group);
          const next = await this.write(ctx, epoch, op, { ...d, from, target: from + d.count }, []);
          cur = next as StoredOp & { doc: ScaleUpOp };
        }
        await this.provider.growTo(d.group, cur.doc.target!, d.zones);
      } catch (e) {
        if (e instanceof FencedError || e instanceof ConflictError) throw e;
        return this.providerFailed(ctx, epoch, cur, e, 'launch');
      }
      const { retryAt: _r, lastError: _l, ...rest } = cur.doc;
      return this.write(ctx, epoch, cur, { ...rest, phase: 'launching' }, [
        { action: 'launch', outcome: 'started', reason: `${this.provider.kind}: group size ${cur.doc.from} → ${cur.doc.target}`, count: d.count },
      ]);
    }
    if (arrived >= d.count) {
      this.log.info('autoscaler scale-up complete', { group: d.group, count: d.count, operation: op.id });
      return this.write(ctx, epoch, op, 'end', [{ action: 'launch', outcome: 'succeeded', reason: `${d.count} new host(s) registered`, count: d.count }]);
    }
    if (ctx.now() - d.requestedAt > this.launchTimeoutMs) {
      this.metrics.launchesTimedOut++;
      this.log.warn('autoscaler scale-up timed out: hosts did not register', { group: d.group, count: d.count, arrived, operation: op.id });
      return this.write(ctx, epoch, op, 'end', [
        { action: 'launch', outcome: 'timed-out', reason: `${arrived} of ${d.count} host(s) registered within ${this.launchTimeoutMs} ms`, count: d.count - arrived },
      ]);
    }
    return op;
  }

  private async stepDown(ctx: MasterContext, epoch: number, op: StoredOp & { doc: ScaleDownOp }, rule: GroupRule | undefined): Promise<StoredOp | undefined> {
    const d = op.doc;
    const host = [hostOf(d)];
    if (d.phase === 'draining') {
      // Read now, not from the pass's list: the host may have taken a task since it was chosen.
      const agent = await ctx.registry.getAgent(d.agentId);
      if (!agent || agent.reachability === 'GONE') {
        return this.write(ctx, epoch, op, { ...d, phase: 'terminating' }, [{ action: 'drain', outcome: 'succeeded', reason: 'the agent is already gone', hosts: host }]);
      }
      if (agent.reachability === 'UNREACHABLE') {
        // Nothing to drain gracefully: the master cannot reach its tasks either.
        return this.write(ctx, epoch, op, { ...d, phase: 'terminating' }, [{ action: 'drain', outcome: 'succeeded', reason: 'the host is unreachable: terminated without a drain', hosts: host }]);
      }
      if (!d.drainRequested) {
        if (!d.busy && !isEmpty(agent.allocated) && !(rule?.drainBusy ?? false)) {
          this.metrics.drainsCancelled++;
          return this.write(ctx, epoch, op, 'end', [{ action: 'drain', outcome: 'cancelled', reason: 'the host took tasks before its drain began; it is kept', hosts: host }]);
        }
        try {
          await drainAgent(ctx, d.agentId, { markGone: false, ...(d.drainGraceMs !== undefined ? { maxGraceMs: d.drainGraceMs } : {}) });
        } catch (e) {
          if (!(e instanceof NotFoundError)) throw e;
          return this.write(ctx, epoch, op, { ...d, phase: 'terminating' }, [{ action: 'drain', outcome: 'succeeded', reason: 'the agent is already gone', hosts: host }]);
        }
        this.metrics.drainsStarted++;
        this.log.info('autoscaler drains a host', { group: d.group, agentId: d.agentId, hostname: d.hostname, deadline: d.drainDeadline });
        return this.write(ctx, epoch, op, { ...d, drainRequested: true }, [{ action: 'drain', outcome: 'started', reason: d.busy ? 'draining a busy host: its tasks get their kill grace' : 'draining an idle host', hosts: host }]);
      }
      if (agent.drain === undefined) {
        // An operator reactivated the host: that ends the drain, and our removal with it.
        this.metrics.drainsCancelled++;
        this.log.warn('autoscaler drain cancelled: the host was reactivated', { group: d.group, agentId: d.agentId });
        return this.write(ctx, epoch, op, 'end', [{ action: 'drain', outcome: 'cancelled', reason: 'the host was reactivated during its drain; it is kept', hosts: host }]);
      }
      if (agent.drain.state === 'DRAINED') {
        return this.write(ctx, epoch, op, { ...d, phase: 'terminating' }, [{ action: 'drain', outcome: 'succeeded', reason: `drained in ${ctx.now() - d.startedAt} ms`, hosts: host }]);
      }
      if (ctx.now() > d.drainDeadline) {
        this.metrics.drainsOverdue++;
        this.log.warn('autoscaler drain exceeded its limit; terminating the host anyway', { group: d.group, agentId: d.agentId, hostname: d.hostname, limitMs: d.drainDeadline - d.startedAt });
        return this.write(ctx, epoch, op, { ...d, phase: 'terminating', overdue: true }, [
          { action: 'drain', outcome: 'overdue', reason: `the drain exceeded its limit of ${d.drainDeadline - d.startedAt} ms with tasks still running; terminating the host anyway`, hosts: host },
        ]);
      }
      return op;
    }
    if (d.phase === 'terminating') {
      await this.assertLeader(ctx, epoch);
      let outcome;
      try {
        outcome = await this.provider.terminate(hostRef(d));
      } catch (e) {
        return this.providerFailed(ctx, epoch, op, e, 'terminate');
      }
      const { retryAt: _r, lastError: _l, ...rest } = d;
      return this.write(ctx, epoch, op, { ...rest, phase: 'removing' }, [
        { action: 'terminate', outcome: 'succeeded', reason: outcome === 'gone' ? `${this.provider.kind}: the host was already gone` : `${this.provider.kind}: host terminated`, hosts: host },
      ]);
    }
    // removing: the master forgets the host (its tasks, if any were left, become GONE_BY_OPERATOR).
    const agent = await ctx.registry.getAgent(d.agentId);
    if (agent && agent.reachability !== 'GONE') await markAgentGone(ctx, d.agentId, true);
    this.metrics.hostsRemoved++;
    this.log.info('autoscaler removed a host', { group: d.group, agentId: d.agentId, hostname: d.hostname });
    return this.write(ctx, epoch, op, 'end', [{ action: 'remove', outcome: 'succeeded', reason: `removed from the group (${d.reason})`, hosts: host }]);
  }

  // ---- operator API ----

  async getRules(registry: Registry): Promise<RulesView> {
    const stored = await this.store(registry).rules();
    return { groups: stored?.rules.groups ?? [], ...(stored ? { updatedAt: stored.updatedAt } : {}), version: stored?.version ?? 0, knownGroups: this.provider.groups() };
  }

  /** Validates (ValidationError naming the field) and stores a rule set; written by any master, not only the leader. */
  async setRules(registry: Registry, body: unknown, now: number = registry.now()): Promise<RulesView> {
    const rules: RuleSet = parseRuleSet(body, this.provider.groups());
    await retryOnConflict(async () => {
      const current = await registry.getDocument(CONFIG_COLLECTION, RULES_ID);
      const tx = registry.transaction();
      tx.putDocument(CONFIG_COLLECTION, RULES_ID, toJson({ groups: rules.groups, updatedAt: now }), current ? { version: current.version } : 'absent');
      this.addActivity(tx, now, {
        group: '*',
        action: 'rules',
        outcome: 'succeeded',
        reason: `rules set: ${rules.groups.map((g) => `${g.group} size ${g.minSize}..${g.maxSize}, idle ${g.minIdle}..${g.maxIdle}`).join('; ') || 'none'}`,
      });
      await tx.commit();
    });
    this.log.info('autoscaler rules set', { groups: rules.groups.map((g) => g.group) });
    return this.getRules(registry);
  }

  async activity(registry: Registry, limit = 100, group?: string): Promise<ActivityEntry[]> {
    return this.store(registry).activity(limit, group);
  }

  async status(registry: Registry): Promise<AutoscalerStatus> {
    const store = this.store(registry);
    const [stored, agents, ops, groups] = await Promise.all([store.rules(), registry.listAgents(), this.operations(store), store.groups()]);
    const ruleOf = new Map((stored?.rules.groups ?? []).map((g) => [g.group, g]));
    const names = [...new Set([...this.provider.groups(), ...ruleOf.keys()])].sort();
    const removing = new Set(ops.flatMap((o) => (o.doc.kind === 'scale-down' ? [o.doc.agentId] : [])));
    const arrivals = this.arrivals(ops, agents);
    const live = agents.filter((a) => a.reachability !== 'GONE');
    const statuses = names.map((g): GroupStatus => {
      const mine = live.filter((a) => a.attributes[GROUP_ATTRIBUTE] === g);
      const count = (k: HostActivity): number => mine.filter((a) => activityOf(a) === k && !removing.has(a.id)).length;
      const rule = ruleOf.get(g);
      const h = groups.get(g)?.doc;
      return {
        group: g,
        ...(rule ? { rule } : {}),
        hosts: mine.length,
        idle: count('idle'),
        busy: count('busy'),
        draining: count('draining'),
        unreachable: count('unreachable'),
        removing: mine.filter((a) => removing.has(a.id)).length,
        inFlight: ops.reduce((n, o) => n + (o.doc.kind === 'scale-up' && o.doc.group === g ? Math.max(0, o.doc.count - (arrivals.get(o.id) ?? 0)) : 0), 0),
        ...(h?.lastScaleUpAt !== undefined ? { lastScaleUpAt: h.lastScaleUpAt } : {}),
        ...(h?.lastScaleDownAt !== undefined ? { lastScaleDownAt: h.lastScaleDownAt } : {}),
      };
    });
    return {
      provider: this.provider.kind,
      groups: statuses,
      operations: ops.map((o) => ({ ...o.doc, id: o.id })),
      ...(this.lastEvaluation ? { lastEvaluation: this.lastEvaluation } : {}),
      metrics: { ...this.metrics },
    };
  }

  private warnOnce(key: string, message: string, context: Record<string, unknown>): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(message, context);
  }
}
