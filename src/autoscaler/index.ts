// The autoscaler: Fenzo-style rules per agent group, a pure decision function (the shortfall
// found by the Fenzo scheduler on pseudo hosts), a controller that runs it as a leader duty and
// carries its decisions out as persisted operations, providers (EC2 Auto Scaling, local
// agent daemons), the activity log and operator routes. Wiring, e.g. in `stratus dev`:
//
//   const provider = createLocalScalingProvider({ master: () => server.url, workDir, groups });
//   await provider.growTo('dev', 3, ['a', 'b', 'c']);
//   const autoscaler = await attachAutoscaler(master, { provider, pendingTasks: () => jobs.pendingTasks(), rulesFile });
//   ...
//   await autoscaler.stop(); await provider.stop();
export { AutoscalerController, type AutoscalerOptions, type PassReport } from './controller.js';
/** The controller's former name, kept for existing callers. */
export { AutoscalerController as Autoscaler } from './controller.js';
export type { AutoscalerStatus, Evaluation, GroupStatus, RulesView } from './api.js';
export { pendingDemand } from './decision-input.js';
export { autoscalerDuty, type AutoscalerDutyOptions } from './duty.js';
export { attachAutoscaler, type AttachOptions } from './attach.js';
export { autoscalerRoutes } from './routes.js';
export { decide, shapeText, DEFAULT_DECIDE_OPTIONS } from './decide.js';
export type { ControllerInput, Decision, DecideOptions, DecideResult, GroupHistory, Hold, HostActivity, HostState, PendingDemand, PendingSummary, ScaleDownDecision, ScaleUpDecision, ChosenHost } from './decide.js';
export { evaluateShortfall, type Shortfall, type ShortfallGroup, type ShortfallTask } from './shortfall.js';
export { parseRuleSet, toGroupRule, groupRuleSchema, ruleSetSchema, type GroupRule, type GroupRuleConfig, type GroupRuleInput, type HostShape, type RuleSet, type RuleSetInput } from './rules.js';
export { loadAutoscalerRulesFile, applyAutoscalerRulesFile, RulesFileError } from './rules-file.js';
export { ScalingProviderError, isRetryable, DEFAULT_RETRY, type RetryPolicy, type HostRef, type ScalingProvider, type TerminateOutcome } from './provider.js';
export { Ec2AutoScalingProvider, ec2ProviderFromEnv, providerError, type Ec2ProviderOptions } from './ec2-provider.js';
export { LocalScalingProvider, createLocalScalingProvider, type LocalGroupConfig, type LocalHost, type LocalProviderOptions } from './local-provider.js';
export { agentGroupsFromEnv, parseAgentGroups, rulesFromAgentGroups, AGENT_GROUPS_ENV, type AgentGroupMapping } from './agent-groups-env.js';
export { registryPendingTasks } from './pending-source.js';
export { ACTIVITY_COLLECTION, type ActivityAction, type ActivityEntry, type ActivityHost, type ActivityOutcome } from './activity.js';
export { AutoscalerStore, OPS_COLLECTION, GROUPS_COLLECTION, CONFIG_COLLECTION, type Operation, type ScaleDownOp, type ScaleUpOp, type StoredOp } from './store.js';
export { AutoscalerClient, type ActivityResponse, type RulesResponse, type StatusResponse } from './client.js';
export type { AutoscalerMetrics } from './metrics.js';
