import { GROUP_ATTRIBUTE, type Agent } from '../core/agent.js';
import { backoffDelay } from '../core/backoff.js';
import { ConflictError, FencedError, NotFoundError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { isEmpty } from '../core/resources.js';
import { drainAgent, markAgentGone, setAgentActive, type MasterContext } from '../master-lambda/extension.js';
import type { Stored } from '../state/registry.js';
import { hostOf, putActivity, toJson, type ActivityEntry } from './activity.js';
import type { ScaleDownDecision, ScaleUpDecision } from './decide.js';
import type { AutoscalerMetrics } from './metrics.js';
import { isRetryable, type HostRef, type RetryPolicy, type ScalingProvider } from './provider.js';
import type { GroupRule } from './rules.js';
import { OPS_COLLECTION, putGroup, scaleDownOpId, scaleUpOpId, type GroupDoc, type Operation, type ScaleDownOp, type ScaleUpOp, type StoredOp, type Versioned } from './store.js';

// The operations that carry decisions out, persisted in the Registry and fenced by the leader's
// epoch, so a new leader resumes where the old one stopped:
//   scale-up:   requested → launching (provider asked) → ended when its hosts registered
//   scale-down: draining (DRAIN_AGENT) → terminating (provider) → removing (agent GONE) → ended
// Provider errors never escape: transient ones are retried with backoff, permanent ones end the
// operation (a host to remove is reactivated); each is logged and in the activity log.

export interface OperationsOptions {
  readonly provider: ScalingProvider;
  readonly metrics: AutoscalerMetrics;
  readonly log: Logger;
  readonly retry: RetryPolicy;
  /** A scale-up whose hosts have not all registered after this is closed and reported. */
  readonly launchTimeoutMs: number;
  readonly activityRetentionSeconds: number;
}

type ActivityStep = Omit<ActivityEntry, 'at' | 'group' | 'epoch' | 'operation'>;
type ScaleUp = StoredOp & { readonly doc: ScaleUpOp };
type ScaleDown = StoredOp & { readonly doc: ScaleDownOp };

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function hostRef(op: ScaleDownOp): HostRef {
  return { group: op.group, agentId: op.agentId, hostname: op.hostname, ...(op.instanceId !== undefined ? { instanceId: op.instanceId } : {}), ...(op.zone !== undefined ? { zone: op.zone } : {}) };
}

/**
 * Hosts that arrived for each scale-up: the group's agents registered since it was requested,
 * given to the oldest operation first, each at most its count.
 */
export function arrivals(ops: readonly StoredOp[], agents: readonly Stored<Agent>[]): Map<string, number> {
  const out = new Map<string, number>();
  const ups = ops.filter((o): o is ScaleUp => o.doc.kind === 'scale-up').sort((a, b) => a.doc.requestedAt - b.doc.requestedAt);
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

/** Hosts requested and not registered yet, per group. */
export function inFlight(ops: readonly StoredOp[], agents: readonly Stored<Agent>[]): Record<string, number> {
  const out: Record<string, number> = {};
  const arrived = arrivals(ops, agents);
  for (const o of ops) {
    if (o.doc.kind !== 'scale-up') continue;
    out[o.doc.group] = (out[o.doc.group] ?? 0) + Math.max(0, o.doc.count - (arrived.get(o.id) ?? 0));
  }
  return out;
}

/** Agents a scale-down operation is removing. */
export function removingAgents(ops: readonly StoredOp[]): Set<string> {
  return new Set(ops.flatMap((o) => (o.doc.kind === 'scale-down' ? [o.doc.agentId] : [])));
}

export class ScalingOperations {
  private readonly provider: ScalingProvider;
  private readonly metrics: AutoscalerMetrics;
  private readonly log: Logger;

  constructor(private readonly options: OperationsOptions) {
    this.provider = options.provider;
    this.metrics = options.metrics;
    this.log = options.log;
  }

  /** Carries every open operation one or more steps further; true when any of them moved. */
  async advanceAll(ctx: MasterContext, epoch: number, ops: readonly StoredOp[], agents: readonly Stored<Agent>[], rules: ReadonlyMap<string, GroupRule>): Promise<boolean> {
    const arrived = arrivals(ops, agents);
    let progressed = false;
    for (const op of ops) {
      const after = await this.progress(ctx, epoch, op, arrived.get(op.id) ?? 0, rules.get(op.doc.group));
      if (after !== op) progressed = true;
    }
    return progressed;
  }

  /** Records a decision as operations (with its activity and the group's last scaling time) and starts them. */
  async start(ctx: MasterContext, epoch: number, d: ScaleUpDecision | ScaleDownDecision, rule: GroupRule, group: Versioned<GroupDoc> | undefined): Promise<StoredOp[]> {
    const ops = d.kind === 'scale-up' ? [await this.recordScaleUp(ctx, epoch, d, group)] : await this.recordScaleDown(ctx, epoch, d, rule, group);
    for (const op of ops) await this.progress(ctx, epoch, op, 0, rule);
    return ops;
  }

  private async recordScaleUp(ctx: MasterContext, epoch: number, d: ScaleUpDecision, group: Versioned<GroupDoc> | undefined): Promise<StoredOp> {
    const now = ctx.now();
    const id = scaleUpOpId(d.group, now);
    const op: ScaleUpOp = { kind: 'scale-up', group: d.group, count: d.count, zones: [...d.zones], cause: d.cause, reason: d.reason, requestedAt: now, phase: 'requested', attempts: 0 };
    const tx = ctx.registry.transaction().fence(epoch);
    tx.putDocument(OPS_COLLECTION, id, toJson(op), 'absent');
    putGroup(tx, d.group, group, { lastScaleUpAt: now });
    putActivity(tx, now, { group: d.group, action: 'scale-up', outcome: 'decided', reason: d.reason, count: d.count, operation: id, epoch }, this.options.activityRetentionSeconds);
    await tx.commit();
    this.metrics.scaleUps++;
    this.metrics.hostsRequested += d.count;
    this.log.info('autoscaler scales up', { group: d.group, count: d.count, cause: d.cause, reason: d.reason, zones: d.zones, operation: id });
    return { id, doc: op, version: 1 };
  }

  private async recordScaleDown(ctx: MasterContext, epoch: number, d: ScaleDownDecision, rule: GroupRule, group: Versioned<GroupDoc> | undefined): Promise<StoredOp[]> {
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
    putGroup(tx, d.group, group, { lastScaleDownAt: now });
    putActivity(tx, now, { group: d.group, action: 'scale-down', outcome: 'decided', reason: d.reason, count: d.hosts.length, hosts: d.hosts.map(hostOf), epoch }, this.options.activityRetentionSeconds);
    await tx.commit();
    this.metrics.scaleDowns++;
    this.log.info('autoscaler scales down', { group: d.group, cause: d.cause, reason: d.reason, hosts: d.hosts.map((h) => h.hostname) });
    return out;
  }

  /** Carries one operation as far as it can go now; returns it as it stands (undefined once ended). */
  async progress(ctx: MasterContext, epoch: number, op: StoredOp, arrived: number, rule: GroupRule | undefined): Promise<StoredOp | undefined> {
    let cur: StoredOp | undefined = op;
    // Each step either waits (returns the same object) or moves on; a few steps at most.
    for (let i = 0; i < 6 && cur; i++) {
      if (cur.doc.retryAt !== undefined && cur.doc.retryAt > ctx.now()) return cur;
      let next: StoredOp | undefined;
      try {
        next = cur.doc.kind === 'scale-up' ? await this.stepUp(ctx, epoch, cur as ScaleUp, arrived) : await this.stepDown(ctx, epoch, cur as ScaleDown, rule);
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

  /** Moves an operation on (or ends it with 'end'), with its activity entries, in one fenced transaction. */
  private async write(ctx: MasterContext, epoch: number, op: StoredOp, next: Operation | 'end', entries: readonly ActivityStep[]): Promise<StoredOp | undefined> {
    const now = ctx.now();
    const tx = ctx.registry.transaction().fence(epoch);
    if (next === 'end') tx.deleteDocument(OPS_COLLECTION, op.id, { version: op.version });
    else tx.putDocument(OPS_COLLECTION, op.id, toJson(next), { version: op.version });
    for (const e of entries) putActivity(tx, now, { ...e, group: op.doc.group, epoch, operation: op.id }, this.options.activityRetentionSeconds);
    await tx.commit();
    return next === 'end' ? undefined : { id: op.id, doc: next, version: op.version + 1 };
  }

  /** A provider call failed: retry later with backoff, or give the operation up. */
  private async providerFailed(ctx: MasterContext, epoch: number, op: StoredOp, e: unknown, action: 'launch' | 'terminate'): Promise<StoredOp | undefined> {
    this.metrics.providerErrors++;
    const error = errorText(e);
    const attempts = op.doc.attempts + 1;
    const base = { group: op.doc.group, operation: op.id, provider: this.provider.kind, attempt: attempts, error };
    if (isRetryable(e) && attempts < this.options.retry.maxAttempts) {
      const delay = backoffDelay(attempts, { ...this.options.retry, jitter: 0.2 });
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

  private async stepUp(ctx: MasterContext, epoch: number, op: ScaleUp, arrived: number): Promise<StoredOp | undefined> {
    const d = op.doc;
    if (d.phase === 'requested') {
      let cur: ScaleUp = op;
      await this.assertLeader(ctx, epoch);
      try {
        if (d.target === undefined) {
          // Fix the target once: a retry or a new leader asks for the same size, never count more.
          const from = await this.provider.desiredSize(d.group);
          const next = await this.write(ctx, epoch, op, { ...d, from, target: from + d.count }, []);
          cur = next as ScaleUp;
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
    if (ctx.now() - d.requestedAt > this.options.launchTimeoutMs) {
      this.metrics.launchesTimedOut++;
      this.log.warn('autoscaler scale-up timed out: hosts did not register', { group: d.group, count: d.count, arrived, operation: op.id });
      return this.write(ctx, epoch, op, 'end', [
        { action: 'launch', outcome: 'timed-out', reason: `${arrived} of ${d.count} host(s) registered within ${this.options.launchTimeoutMs} ms`, count: d.count - arrived },
      ]);
    }
    return op;
  }

  private async stepDown(ctx: MasterContext, epoch: number, op: ScaleDown, rule: GroupRule | undefined): Promise<StoredOp | undefined> {
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
}
