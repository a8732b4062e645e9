import { GROUP_ATTRIBUTE } from '../core/agent.js';
import type { Logger } from '../core/logger.js';
import { retryOnConflict } from '../master-lambda/extension.js';
import type { Registry } from '../state/registry.js';
import type { GroupCounts } from '../wire/autoscaler-api.js';
import { putActivity, toJson } from './activity.js';
import type { DecideResult, HostActivity } from './decide.js';
import { activityOf } from './decision-input.js';
import type { AutoscalerMetrics } from './metrics.js';
import { inFlight, removingAgents } from './operations.js';
import type { ScalingProvider } from './provider.js';
import { parseRuleSet, type GroupRuleConfig, type RuleSet } from './rules.js';
import { CONFIG_COLLECTION, RULES_ID, type AutoscalerStore, type Operation } from './store.js';

// What operators see and set (the routes in routes.ts, the CLI, the rules file): the rule set,
// and the status of each group with the open operations. Any master answers, not only the leader.

export interface RulesView {
  readonly groups: readonly GroupRuleConfig[];
  readonly updatedAt?: number;
  readonly version: number;
  /** Groups the provider can size. */
  readonly knownGroups: readonly string[];
}

export interface GroupStatus extends GroupCounts {
  readonly rule?: GroupRuleConfig;
  readonly lastScaleUpAt?: number;
  readonly lastScaleDownAt?: number;
}

/** The latest pass of a process, with what it decided. */
export type Evaluation = { readonly at: number } & DecideResult;

export interface AutoscalerStatus {
  readonly provider: string;
  readonly groups: readonly GroupStatus[];
  readonly operations: readonly (Operation & { readonly id: string })[];
  /** The latest pass of this process (when it led). */
  readonly lastEvaluation?: Evaluation;
  readonly metrics: AutoscalerMetrics;
}

export async function rulesView(store: AutoscalerStore, provider: ScalingProvider): Promise<RulesView> {
  const stored = await store.rules();
  return { groups: stored?.rules.groups ?? [], ...(stored ? { updatedAt: stored.updatedAt } : {}), version: stored?.version ?? 0, knownGroups: provider.groups() };
}

/** Validates (ValidationError naming the field) and stores a rule set, with an activity entry. */
export async function storeRules(
  store: AutoscalerStore,
  provider: ScalingProvider,
  body: unknown,
  now: number,
  options: { readonly activityRetentionSeconds: number; readonly log: Logger },
): Promise<RulesView> {
  const registry: Registry = store.registry;
  const rules: RuleSet = parseRuleSet(body, provider.groups());
  await retryOnConflict(async () => {
    const current = await registry.getDocument(CONFIG_COLLECTION, RULES_ID);
    const tx = registry.transaction();
    tx.putDocument(CONFIG_COLLECTION, RULES_ID, toJson({ groups: rules.groups, updatedAt: now }), current ? { version: current.version } : 'absent');
    putActivity(
      tx,
      now,
      {
        group: '*',
        action: 'rules',
        outcome: 'succeeded',
        reason: `rules set: ${rules.groups.map((g) => `${g.group} size ${g.minSize}..${g.maxSize}, idle ${g.minIdle}..${g.maxIdle}`).join('; ') || 'none'}`,
      },
      options.activityRetentionSeconds,
    );
    await tx.commit();
  });
  options.log.info('autoscaler rules set', { groups: rules.groups.map((g) => g.group) });
  return rulesView(store, provider);
}

export async function statusView(store: AutoscalerStore, provider: ScalingProvider, metrics: AutoscalerMetrics, lastEvaluation: Evaluation | undefined): Promise<AutoscalerStatus> {
  const [stored, agents, ops, groups] = await Promise.all([store.rules(), store.registry.listAgents(), store.operations(), store.groups()]);
  const ruleOf = new Map((stored?.rules.groups ?? []).map((g) => [g.group, g]));
  const names = [...new Set([...provider.groups(), ...ruleOf.keys()])].sort();
  const removing = removingAgents(ops);
  const flying = inFlight(ops, agents);
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
      inFlight: flying[g] ?? 0,
      ...(h?.lastScaleUpAt !== undefined ? { lastScaleUpAt: h.lastScaleUpAt } : {}),
      ...(h?.lastScaleDownAt !== undefined ? { lastScaleDownAt: h.lastScaleDownAt } : {}),
    };
  });
  return {
    provider: provider.kind,
    groups: statuses,
    operations: ops.map((o) => ({ ...o.doc, id: o.id })),
    ...(lastEvaluation ? { lastEvaluation } : {}),
    metrics: { ...metrics },
  };
}
