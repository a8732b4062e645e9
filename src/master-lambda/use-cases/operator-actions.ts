import { NotFoundError, ValidationError } from '../../core/errors.js';
import { isValidRole, type QuotaLimit, type RoleConfig } from '../../core/role.js';
import { add, EMPTY, SCALAR_LIMITS, type ScalarName } from '../../core/resources.js';
import { isTerminal } from '../../core/task-state.js';
import type { OperatorCall } from '../codec/operator-call.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';
import { requestKill } from './kill.js';
import { markAgentGone } from './master-task-updates.js';
import { releaseOffers } from './release-offers.js';

// Operator calls that change the region: weights, quota limits, agent maintenance
// (drain, deactivate, reactivate, mark gone). Every input is validated before anything is
// written, so a bad call changes nothing.

type Call<T extends OperatorCall['type']> = Extract<OperatorCall, { type: T }>;

export async function updateWeights(ctx: MasterContext, call: Call<'UPDATE_WEIGHTS'>): Promise<void> {
  const infos = call.update_weights.weight_infos;
  infos.forEach((w, i) => {
    const f = `update_weights.weight_infos[${i}]`;
    if (!isValidRole(w.role) || w.role === '*') throw new ValidationError(`${f}.role '${w.role.slice(0, 64)}' is not a valid role name`, `${f}.role`);
    if (!(w.weight > 0)) throw new ValidationError(`${f}.weight must be positive (got ${w.weight})`, `${f}.weight`);
  });
  if (new Set(infos.map((w) => w.role)).size !== infos.length) throw new ValidationError('update_weights names a role twice', 'update_weights.weight_infos');
  await retryOnConflict(async () => {
    const current = await Promise.all(infos.map((w) => ctx.registry.getRole(w.role)));
    const tx = ctx.registry.transaction();
    infos.forEach((w, i) => {
      const cur = current[i];
      const next: RoleConfig = { name: w.role, weight: w.weight, ...(cur?.quotaLimit ? { quotaLimit: cur.quotaLimit } : {}) };
      tx.putRole(next, cur ? { version: cur.version } : 'absent');
    });
    await tx.commit();
  });
  ctx.notifier.notify('allocation');
}

const SCALE: Record<ScalarName, number> = { cpus: 1000, mem: 1, disk: 1, network: 1 };

export async function updateQuota(ctx: MasterContext, call: Call<'UPDATE_QUOTA'>): Promise<void> {
  const configs = call.update_quota.quota_configs;
  const total = (await ctx.registry.listAgents()).filter((a) => a.reachability !== 'GONE').reduce((s, a) => add(s, a.total), EMPTY);
  const limits: QuotaLimit[] = configs.map((c, i) => {
    const f = `update_quota.quota_configs[${i}]`;
    if (!isValidRole(c.role) || c.role === '*') throw new ValidationError(`${f}.role '${c.role.slice(0, 64)}' is not a valid role name`, `${f}.role`);
    if (c.guarantees && Object.keys(c.guarantees).length) {
      throw new ValidationError(`${f}.guarantees: Stratus supports quota limits only`, `${f}.guarantees`);
    }
    const limit: Partial<Record<ScalarName, number>> = {};
    for (const [name, { value }] of Object.entries(c.limits ?? {})) {
      const lf = `${f}.limits.${name}`;
      if (!Object.hasOwn(SCALE, name)) throw new ValidationError(`${lf}: '${name}' is not a scalar resource Stratus tracks (cpus, mem, disk, network)`, lf);
      const n = name as ScalarName;
      if (value < 0) throw new ValidationError(`${lf} must not be negative (got ${value})`, `${lf}.value`);
      if (value > SCALAR_LIMITS[n]) throw new ValidationError(`${lf} is too large (got ${value})`, `${lf}.value`);
      const fixed = Math.round(value * SCALE[n]);
      // Like Mesos's quota checks, a limit beyond what the cluster has is refused unless forced.
      if (!call.update_quota.force && fixed > total[n]) {
        throw new ValidationError(`${lf} (${value}) exceeds the cluster's total ${n} (${total[n] / SCALE[n]}); set force to allow it`, `${lf}.value`);
      }
      limit[n] = fixed;
    }
    return limit;
  });
  if (new Set(configs.map((c) => c.role)).size !== configs.length) throw new ValidationError('update_quota names a role twice', 'update_quota.quota_configs');
  await retryOnConflict(async () => {
    const current = await Promise.all(configs.map((c) => ctx.registry.getRole(c.role)));
    const tx = ctx.registry.transaction();
    configs.forEach((c, i) => {
      const cur = current[i];
      // An empty limits map removes the quota, as in Mesos.
      const next: RoleConfig = { name: c.role, weight: cur?.weight ?? 1, ...(Object.keys(limits[i]!).length ? { quotaLimit: limits[i]! } : {}) };
      tx.putRole(next, cur ? { version: cur.version } : 'absent');
    });
    await tx.commit();
  });
  ctx.notifier.notify('allocation');
}

async function requireAgent(ctx: MasterContext, agentId: string, field: string) {
  const a = await ctx.registry.getAgent(agentId);
  if (!a || a.reachability === 'GONE') throw new NotFoundError(`agent ${agentId} is not registered`, field);
  return a;
}

/** DRAIN_AGENT: no more offers, tasks killed within max_grace_period; DRAINING → DRAINED. Idempotent. */
export interface DrainOptions {
  /** Mark the agent GONE once drained (Mesos's mark_gone). */
  readonly markGone?: boolean;
  /** Caps every task's kill grace period (Mesos's max_grace_period). */
  readonly maxGraceMs?: number;
}

/** Starts draining an agent (Mesos's DRAIN_AGENT): offers rescinded, tasks killed within the grace. */
export async function drainAgent(ctx: MasterContext, id: string, options: DrainOptions = {}, field = 'agent_id'): Promise<void> {
  await requireAgent(ctx, id, field);
  const maxGraceMs = options.maxGraceMs;
  const started = await retryOnConflict(async () => {
    const a = await requireAgent(ctx, id, field);
    if (a.drain) return false; // already draining or drained: nothing to do
    const drain = { state: 'DRAINING' as const, markGone: options.markGone ?? false, startedAt: ctx.now(), ...(maxGraceMs !== undefined ? { maxGracePeriodMs: maxGraceMs } : {}) };
    await ctx.registry.transaction().putAgent({ ...a, drain }, { version: a.version }).commit();
    return true;
  });
  if (!started) return;
  await releaseOffers(ctx, await ctx.registry.listOffersByAgent(id), { rescind: true });
  for (const t of await ctx.registry.listTasksByAgent(id)) {
    if (isTerminal(t.state)) continue;
    const own = t.killGracePeriodMs ?? t.spec.killGracePeriodMs;
    const grace = maxGraceMs === undefined ? own : Math.min(own ?? maxGraceMs, maxGraceMs);
    await requestKill(ctx, t.frameworkId, t.taskId, grace);
  }
  ctx.log.info('agent draining', { agentId: id, maxGraceMs, markGone: options.markGone ?? false });
}

export async function setAgentActive(ctx: MasterContext, agentId: string, active: boolean, field: string): Promise<void> {
  await requireAgent(ctx, agentId, field);
  await retryOnConflict(async () => {
    const a = await requireAgent(ctx, agentId, field);
    // REACTIVATE also ends a drain, as in Mesos.
    const next = active ? { ...a, deactivated: false, drain: undefined } : { ...a, deactivated: true };
    if (a.deactivated === next.deactivated && (!active || a.drain === undefined)) return;
    await ctx.registry.transaction().putAgent(next, { version: a.version }).commit();
  });
  if (!active) await releaseOffers(ctx, await ctx.registry.listOffersByAgent(agentId), { rescind: true });
  ctx.notifier.notify('allocation');
}

export async function markGoneByOperator(ctx: MasterContext, call: Call<'MARK_AGENT_GONE'>): Promise<void> {
  const id = call.mark_agent_gone.agent_id.value;
  const a = await ctx.registry.getAgent(id);
  if (!a) throw new NotFoundError(`agent ${id} is not registered`, 'mark_agent_gone.agent_id');
  await markAgentGone(ctx, id, true);
}
