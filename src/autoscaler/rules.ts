import { z } from 'zod';
import { ValidationError } from '../core/errors.js';

// Autoscaling rules, one per agent group (the agents' `group` attribute), as operators write
// them (JSON: the operator API and the rules file) and as the decision function reads them (milliseconds).
// Every refusal is a ValidationError naming the field, e.g. `groups[0].minSize`.

const MAX_SECONDS = 7 * 24 * 3600;
const seconds = z.number().min(0, 'must not be negative').max(MAX_SECONDS, `must be at most ${MAX_SECONDS} (a week)`);
const count = z.number().int('must be a whole number').min(0, 'must not be negative').max(100_000, 'must be at most 100000');

const shapeSchema = z.strictObject({
  /** Cores one new host brings. */
  cpus: z.number().positive('must be positive').max(1_000_000),
  /** MiB. */
  mem: z.number().positive('must be positive').max(1_000_000_000_000),
  /** MiB; 0 (the default) leaves disk out of the estimate. */
  disk: z.number().min(0, 'must not be negative').max(1_000_000_000_000).default(0),
  /** How many ports one host offers; 0 (the default) leaves ports out of the estimate. */
  ports: z.number().int().min(0, 'must not be negative').max(65535).default(0),
});

export const groupRuleSchema = z.strictObject({
  group: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._:@+=-]{0,254}$/, 'must be an agent group name: letters, digits and ._:@+=- (at most 255)'),
  minSize: count,
  maxSize: count,
  /** Idle hosts (no task) kept as headroom: fewer starts a scale-up. */
  minIdle: count.default(0),
  /** Idle hosts beyond this are drained and removed. Default: minIdle. */
  maxIdle: count.optional(),
  scaleUpCooldownSeconds: seconds.default(60),
  /** Also how long a host must have been idle before it is removed, and the quiet time after a scale-up. */
  scaleDownCooldownSeconds: seconds.default(300),
  /** The resources one new host of the group brings. */
  shape: shapeSchema,
  /** Zones new hosts should be spread over (providers that place hosts); default the zones the group's hosts are in. */
  zones: z.array(z.string().min(1).max(255)).max(64).optional(),
  /** Allow draining hosts that run tasks (when the group is above maxSize). Default false. */
  drainBusy: z.boolean().default(false),
  /** A drain running longer than this is reported and the host removed anyway. */
  drainTimeoutSeconds: seconds.default(600),
  /** Kill grace given to tasks of a drained host (DRAIN_AGENT's max_grace_period); default each task's own. */
  drainGraceSeconds: seconds.optional(),
});

export const ruleSetSchema = z.strictObject({ groups: z.array(groupRuleSchema).max(1000) });

export type GroupRuleInput = z.input<typeof groupRuleSchema>;
export type RuleSetInput = z.input<typeof ruleSetSchema>;
/** A group's rule with defaults filled in (user units: seconds, cores, MiB). */
export type GroupRuleConfig = Omit<z.output<typeof groupRuleSchema>, 'maxIdle'> & { readonly maxIdle: number };
export interface RuleSet {
  readonly groups: readonly GroupRuleConfig[];
}

/** Resources of one host, in user units: cores, MiB, MiB, a count of ports. */
export interface HostShape {
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
  readonly ports: number;
}

/** A rule as the decision function uses it. */
export interface GroupRule {
  readonly group: string;
  readonly minSize: number;
  readonly maxSize: number;
  readonly minIdle: number;
  readonly maxIdle: number;
  readonly scaleUpCooldownMs: number;
  readonly scaleDownCooldownMs: number;
  readonly shape: HostShape;
  readonly zones: readonly string[];
  readonly drainBusy: boolean;
  readonly drainTimeoutMs: number;
  readonly drainGraceMs?: number;
}

/** `groups[0].minSize` from a zod path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out;
}

/**
 * Parses and checks a rule set. `knownGroups` (the provider's groups) refuses rules for a group
 * nobody can size; omit it to check the shape only (a rules file read before the provider exists).
 */
export function parseRuleSet(body: unknown, knownGroups?: readonly string[]): RuleSet {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('the rules must be a JSON object {"groups": [...]}', 'groups');
  const r = ruleSetSchema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = fieldPath(issue.path) || 'groups';
    throw new ValidationError(`${field}: ${issue.message}`, field);
  }
  const seen = new Set<string>();
  const groups = r.data.groups.map((g, i): GroupRuleConfig => {
    const at = `groups[${i}]`;
    if (seen.has(g.group)) throw new ValidationError(`${at}.group: group '${g.group}' has two rules`, `${at}.group`);
    seen.add(g.group);
    if (knownGroups !== undefined && !knownGroups.includes(g.group)) {
      throw new ValidationError(`${at}.group: unknown agent group '${g.group}' (known: ${knownGroups.join(', ') || 'none'})`, `${at}.group`);
    }
    if (g.minSize > g.maxSize) throw new ValidationError(`${at}.minSize: minSize ${g.minSize} is greater than maxSize ${g.maxSize}`, `${at}.minSize`);
    const maxIdle = g.maxIdle ?? g.minIdle;
    if (g.minIdle > maxIdle) throw new ValidationError(`${at}.minIdle: minIdle ${g.minIdle} is greater than maxIdle ${maxIdle}`, `${at}.minIdle`);
    if (g.minIdle > g.maxSize) throw new ValidationError(`${at}.minIdle: minIdle ${g.minIdle} is greater than maxSize ${g.maxSize}`, `${at}.minIdle`);
    return { ...g, maxIdle };
  });
  return { groups };
}

export function toGroupRule(g: GroupRuleConfig): GroupRule {
  return {
    group: g.group,
    minSize: g.minSize,
    maxSize: g.maxSize,
    minIdle: g.minIdle,
    maxIdle: g.maxIdle,
    scaleUpCooldownMs: Math.round(g.scaleUpCooldownSeconds * 1000),
    scaleDownCooldownMs: Math.round(g.scaleDownCooldownSeconds * 1000),
    shape: { cpus: g.shape.cpus, mem: g.shape.mem, disk: g.shape.disk, ports: g.shape.ports },
    zones: g.zones ?? [],
    drainBusy: g.drainBusy,
    drainTimeoutMs: Math.round(g.drainTimeoutSeconds * 1000),
    ...(g.drainGraceSeconds !== undefined ? { drainGraceMs: Math.round(g.drainGraceSeconds * 1000) } : {}),
  };
}
