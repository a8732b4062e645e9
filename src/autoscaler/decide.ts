import { INSTANCE_ID_ATTRIBUTE } from '../core/agent.js';
import type { GroupRule, HostShape } from './rules.js';
import { evaluateShortfall, type ShortfallTask } from './shortfall.js';
import { chooseForRemoval, zonesForNewHosts, type RemovalCandidate } from './zone-balance.js';

// The autoscaler's decision function: plain data in, decisions out, no I/O and no clock of its
// own (`now` is an argument). Per group with a rule:
//   up:   hosts of the group's shape that would place the fresh resource-shortfall tasks (the
//         Fenzo scheduler run on pseudo hosts, shortfall.ts; hosts in flight filled first), plus
//         idle headroom up to minIdle, at least minSize, at most maxSize, no sooner than
//         scaleUpCooldown after the last one.
//   down: above maxSize, the excess (unreachable, then idle, then busy hosts if drainBusy);
//         otherwise idle hosts beyond maxIdle that have been idle for scaleDownCooldown, never
//         below minSize, no sooner than scaleDownCooldown after any scale-up or scale-down,
//         never while the group has demand or hosts in flight, from the most crowded zone first.
// Hysteresis: a host must stay idle a whole scale-down cooldown to go, so a load that comes
// back within the cooldown finds its hosts still there and nothing alternates.

/** `idle`: no task and open for offers; `draining`: an operator or the autoscaler drains it. */
export type HostActivity = 'idle' | 'busy' | 'draining' | 'unreachable';

export interface HostState {
  readonly agentId: string;
  readonly hostname: string;
  readonly group: string;
  readonly zone?: string;
  readonly activity: HostActivity;
  /** For an idle host: since when it has been idle without interruption. */
  readonly idleSince?: number;
  /** When the host first registered (new capacity makes older pending reasons stale). */
  readonly registeredAt: number;
  /** The autoscaler is already removing it. */
  readonly removing: boolean;
  readonly instanceId?: string;
  /** The agent's attributes: new hosts of the group carry those all its hosts share. */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** A task the scheduler could not place, with why (Fenzo's reasons, summarised). */
export interface PendingDemand extends ShortfallTask {
  /** Only `resource` leads to a scale-up: constraints and unevaluated tasks never do. */
  readonly kind: 'resource' | 'constraint' | 'unevaluated';
  /** When the scheduler said so; without it the reason is unusable. */
  readonly at?: number;
}

export interface GroupHistory {
  readonly lastScaleUpAt?: number;
  readonly lastScaleDownAt?: number;
}

export interface DecideOptions {
  /** Pending reasons older than this are stale. */
  readonly pendingMaxAgeMs: number;
  /** Reasons computed less than this after a host registered are stale (offers had no time to reach the scheduler). */
  readonly settleMs: number;
  /** At most this many hosts removed per decision (one Registry transaction per decision). */
  readonly maxRemovalsPerDecision: number;
  /**
   * Fenzo's fitnessGoodEnough for placing the shortfall on pseudo hosts. 0 (the default) takes the
   * first host that fits and satisfies the hard constraints, fullest CPU first: first-fit
   * decreasing. 1 searches every pseudo host for the fittest, as the jobs framework's scheduler
   * does: on thousands of pseudo hosts that costs many times more for about the same host count
   * (soft constraints only count then).
   */
  readonly shortfallFitnessGoodEnough: number;
}

export const DEFAULT_DECIDE_OPTIONS: DecideOptions = { pendingMaxAgeMs: 10 * 60_000, settleMs: 5_000, maxRemovalsPerDecision: 50, shortfallFitnessGoodEnough: 0 };

export interface ControllerInput {
  readonly rules: readonly GroupRule[];
  /** Every registered host that is not gone, of any group. */
  readonly hosts: readonly HostState[];
  readonly pending: readonly PendingDemand[];
  /** Hosts requested and not registered yet, per group. */
  readonly inFlight: Readonly<Record<string, number>>;
  readonly history: Readonly<Record<string, GroupHistory>>;
  readonly options?: Partial<DecideOptions>;
}

export type ScaleUpCause = 'shortfall' | 'min-idle' | 'min-size';
export type ScaleDownCause = 'max-idle' | 'max-size';

export interface ScaleUpDecision {
  readonly kind: 'scale-up';
  readonly group: string;
  readonly count: number;
  /** Where the new hosts should go, to keep zones balanced (providers that place hosts use it). */
  readonly zones: readonly string[];
  readonly cause: ScaleUpCause;
  readonly reason: string;
  /** Shortfall tasks the new hosts are for. */
  readonly tasks: number;
}

export interface ChosenHost {
  readonly agentId: string;
  readonly hostname: string;
  readonly zone?: string;
  readonly instanceId?: string;
  readonly busy: boolean;
}

export interface ScaleDownDecision {
  readonly kind: 'scale-down';
  readonly group: string;
  readonly hosts: readonly ChosenHost[];
  readonly cause: ScaleDownCause;
  readonly reason: string;
}

export type Decision = ScaleUpDecision | ScaleDownDecision;

/** Why a group that wanted to change did not, this time. */
export interface Hold {
  readonly group: string;
  readonly reason: string;
}

export interface PendingSummary {
  /** Fresh resource shortfalls, counted. */
  readonly counted: number;
  readonly stale: number;
  readonly constraint: number;
  readonly unevaluated: number;
  /** Fit no group's shape, or every fitting group is at its max size. */
  readonly unplaced: number;
}

export interface DecideResult {
  readonly decisions: readonly Decision[];
  readonly holds: readonly Hold[];
  readonly pending: PendingSummary;
}

function zoneCounts(hosts: readonly HostState[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const h of hosts) m.set(h.zone ?? '', (m.get(h.zone ?? '') ?? 0) + 1);
  return m;
}

function since(now: number, t: number | undefined): number {
  return t === undefined ? Infinity : now - t;
}

function chosen(h: HostState): ChosenHost {
  return { agentId: h.agentId, hostname: h.hostname, ...(h.zone !== undefined ? { zone: h.zone } : {}), ...(h.instanceId !== undefined ? { instanceId: h.instanceId } : {}), busy: h.activity === 'busy' };
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

export function decide(input: ControllerInput, now: number): DecideResult {
  const options = { ...DEFAULT_DECIDE_OPTIONS, ...input.options };
  const decisions: Decision[] = [];
  const holds: Hold[] = [];

  // Fresh reasons only: computed after the newest host registered (plus time for its offers to
  // reach the scheduler) and not too old. Anything else may describe capacity that changed.
  let newest = -Infinity;
  for (const h of input.hosts) if (h.registeredAt > newest) newest = h.registeredAt;
  let stale = 0;
  let constraint = 0;
  let unevaluated = 0;
  const fresh: PendingDemand[] = [];
  for (const p of input.pending) {
    if (p.kind === 'constraint') constraint++;
    else if (p.kind === 'unevaluated' || p.at === undefined) unevaluated++;
    else if (now - p.at > options.pendingMaxAgeMs || p.at < newest + options.settleMs || p.at > now) stale++;
    else fresh.push(p);
  }

  const byGroup = new Map<string, HostState[]>();
  for (const r of input.rules) byGroup.set(r.group, []);
  for (const h of input.hosts) byGroup.get(h.group)?.push(h);
  const active = (g: string): HostState[] => byGroup.get(g)!.filter((h) => !h.removing);
  const inFlight = (g: string): number => Math.max(0, input.inFlight[g] ?? 0);

  const estimate = evaluateShortfall(
    fresh,
    input.rules.map((r) => ({
      group: r.group,
      shape: r.shape,
      attributes: sharedAttributes(byGroup.get(r.group)!),
      zones: r.zones,
      hostsPerZone: zoneCounts(active(r.group)),
      inFlight: inFlight(r.group),
      room: r.maxSize - active(r.group).length - inFlight(r.group),
    })),
    { fitnessGoodEnough: options.shortfallFitnessGoodEnough },
  );
  const unplaced = estimate.unplaced.length;

  for (const rule of input.rules) {
    const g = rule.group;
    const hosts = active(g);
    const flying = inFlight(g);
    const size = hosts.length + flying;
    const history = input.history[g] ?? {};
    const idle = hosts.filter((h) => h.activity === 'idle');
    const shortfall = estimate.newHosts.get(g) ?? 0;
    const demand = estimate.tasks.get(g) ?? 0;
    const capped = estimate.capped.get(g) ?? 0;

    // ---- up ----
    const headroom = idle.length + (estimate.unusedInFlight.get(g) ?? 0);
    const idleDeficit = Math.max(0, rule.minIdle - headroom);
    const sizeDeficit = Math.max(0, rule.minSize - size);
    const room = Math.max(0, rule.maxSize - size);
    let up = Math.min(room, Math.max(shortfall + idleDeficit, sizeDeficit));
    let cause: ScaleUpCause = shortfall > 0 ? 'shortfall' : idleDeficit > 0 ? 'min-idle' : 'min-size';
    if (up > 0 && since(now, history.lastScaleUpAt) < rule.scaleUpCooldownMs) {
      // Below minSize is repaired at once; anything else waits for the cooldown.
      const wanted = up;
      up = Math.min(room, sizeDeficit);
      cause = 'min-size';
      holds.push({ group: g, reason: `scale-up of ${wanted} held: cooldown (${rule.scaleUpCooldownMs} ms) since the last scale-up` });
    }
    if (capped > 0 || (room === 0 && idleDeficit > 0)) holds.push({ group: g, reason: `at maxSize ${rule.maxSize}: ${capped > 0 ? `${plural(capped, 'task')} left without a host` : `${plural(idleDeficit, 'more idle host')} wanted for minIdle`}` });
    if (up > 0) {
      const parts: string[] = [];
      if (shortfall > 0) parts.push(`${plural(demand, 'task')} short of resources need ${plural(shortfall, 'host')} of ${shapeText(rule.shape)}${flying ? ` beyond ${flying} in flight` : ''}`);
      if (idleDeficit > 0) parts.push(`${plural(headroom, 'idle host')} < minIdle ${rule.minIdle}`);
      if (sizeDeficit > 0) parts.push(`size ${size} < minSize ${rule.minSize}`);
      if (capped > 0 || up < Math.max(shortfall + idleDeficit, sizeDeficit)) parts.push(`capped by maxSize ${rule.maxSize}${capped > 0 ? ` (${plural(capped, 'task')} left over)` : ''}`);
      decisions.push({ kind: 'scale-up', group: g, count: up, zones: newHostZones(hosts, rule, flying, estimate.zones.get(g) ?? [], up), cause, reason: parts.join('; '), tasks: demand });
      continue;
    }

    // ---- down ----
    if (size > rule.maxSize) {
      const rank = (h: HostState): number => (h.activity === 'unreachable' ? 0 : h.activity === 'idle' ? 1 : h.activity === 'busy' && rule.drainBusy ? 2 : -1);
      const candidates = hosts.filter((h) => rank(h) >= 0 && h.activity !== 'draining').map((h) => ({ ...candidate(h), rank: rank(h), host: h }));
      const n = Math.min(size - rule.maxSize, options.maxRemovalsPerDecision);
      const picks = chooseForRemoval(candidates, zoneCounts(hosts), n);
      if (picks.length > 0) {
        decisions.push({ kind: 'scale-down', group: g, hosts: picks.map((p) => chosen(p.host)), cause: 'max-size', reason: `size ${size} > maxSize ${rule.maxSize}` });
      }
      if (picks.length < size - rule.maxSize) holds.push({ group: g, reason: `size ${size} > maxSize ${rule.maxSize} but only ${plural(picks.length, 'host')} may be removed${rule.drainBusy ? '' : ' (busy hosts are kept: drainBusy is off)'}` });
      continue;
    }
    const excess = Math.min(idle.length - rule.maxIdle, hosts.length - rule.minSize);
    if (excess <= 0) continue;
    if (flying > 0 || demand > 0) {
      holds.push({ group: g, reason: `${plural(excess, 'idle host')} beyond maxIdle kept: ${flying > 0 ? `${plural(flying, 'host')} in flight` : `${plural(demand, 'task')} waiting`}` });
      continue;
    }
    const quiet = Math.min(since(now, history.lastScaleDownAt), since(now, history.lastScaleUpAt));
    if (quiet < rule.scaleDownCooldownMs) {
      holds.push({ group: g, reason: `scale-down of ${plural(excess, 'idle host')} held: cooldown (${rule.scaleDownCooldownMs} ms) since the last scaling` });
      continue;
    }
    // An idle time nobody observed (a new leader) starts now: never removed on a guess.
    const eligible = idle.filter((h) => h.idleSince !== undefined && now - h.idleSince >= rule.scaleDownCooldownMs);
    if (eligible.length === 0) {
      holds.push({ group: g, reason: `${plural(excess, 'idle host')} beyond maxIdle not idle for ${rule.scaleDownCooldownMs} ms yet` });
      continue;
    }
    const picks = chooseForRemoval(
      eligible.map((h) => ({ ...candidate(h), rank: 1, host: h })),
      zoneCounts(hosts),
      Math.min(excess, options.maxRemovalsPerDecision),
    );
    decisions.push({
      kind: 'scale-down',
      group: g,
      hosts: picks.map((p) => chosen(p.host)),
      cause: 'max-idle',
      reason: `${plural(idle.length, 'idle host')} > maxIdle ${rule.maxIdle} (size ${hosts.length}, minSize ${rule.minSize}); removing ${plural(picks.length, 'host')} idle for ${rule.scaleDownCooldownMs} ms or more`,
    });
  }
  return { decisions, holds, pending: { counted: fresh.length - unplaced, stale, constraint, unevaluated, unplaced } };
}

/** The attributes every host of the group has, with the same value (never a host's own instance id). */
function sharedAttributes(hosts: readonly HostState[]): Record<string, string> {
  let shared: Record<string, string> | undefined;
  for (const h of hosts) {
    const a = h.attributes ?? {};
    if (shared === undefined) shared = { ...a };
    else for (const k of Object.keys(shared)) if (a[k] !== shared[k]) delete shared[k];
  }
  const { [INSTANCE_ID_ATTRIBUTE]: _id, ...out } = shared ?? {};
  return out;
}

/**
 * Zones for `n` new hosts: first those of the pseudo hosts the shortfall used (where the tasks'
 * zone balance put them), then the zones with the fewest hosts, counting the hosts in flight.
 */
function newHostZones(hosts: readonly HostState[], rule: GroupRule, inFlight: number, shortfall: readonly string[], n: number): string[] {
  const counts = zoneCounts(hosts);
  const first = shortfall.slice(0, n);
  for (const z of [...zonesForNewHosts(counts, rule.zones, inFlight), ...first]) counts.set(z, (counts.get(z) ?? 0) + 1);
  return [...first, ...zonesForNewHosts(counts, rule.zones, n - first.length)];
}

function candidate(h: HostState): Omit<RemovalCandidate, 'rank'> {
  return { agentId: h.agentId, hostname: h.hostname, ...(h.zone !== undefined ? { zone: h.zone } : {}), ...(h.idleSince !== undefined ? { idleSince: h.idleSince } : {}) };
}

export function shapeText(s: HostShape): string {
  return `${s.cpus} cpus/${s.mem} MiB${s.disk ? `/${s.disk} MiB disk` : ''}${s.ports ? `/${s.ports} ports` : ''}`;
}
