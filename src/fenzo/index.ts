// Stratus's Fenzo-style scheduler: bin-packs tasks onto leased hosts under constraints. Pure.
export { scheduleOnce, DEFAULT_FITNESS_GOOD_ENOUGH, DEFAULT_SOFT_CONSTRAINT_WEIGHT } from './schedule-once.js';
export type {
  FailureReason,
  GroupCap,
  KnownHost,
  ResourceName,
  RunningTask,
  ScheduleOptions,
  SchedulingResult,
  TaskAssignment,
  TaskAssignmentFailure,
  TaskRequest,
  TaskResources,
  VMAssignmentResult,
  VMLease,
} from './types.js';
export type {
  AttributeCounts,
  ClusterStats,
  ConstraintEvaluator,
  TaskTrackerState,
  VMTaskFitnessCalculator,
  VirtualMachineCurrentState,
} from './plugin.js';
export { isResourceShortfall } from './failure.js';
export { HOSTNAME_ATTRIBUTE } from './task-tracker.js';
export {
  cpuBinPacker,
  memoryBinPacker,
  networkBinPacker,
  cpuMemBinPacker,
  cpuMemNetworkBinPacker,
} from './fitness/bin-packing.js';
export { cpuSpreader, memorySpreader, cpuMemSpreader, groupSpreader } from './fitness/spreading.js';
export { weightedAverage, type WeightedFitnessCalculator } from './fitness/weighted-average.js';
export { BalancedHostAttrConstraint, type BalancedHostAttrOptions } from './constraints/balanced-host-attr.js';
export { UniqueHostAttrConstraint } from './constraints/unique-host-attr.js';
export { HostAttrValueConstraint } from './constraints/host-attr-value.js';
export { ExclusiveHostConstraint, exclusiveHost } from './constraints/exclusive-host.js';
export { asSoftConstraint } from './constraints/as-soft.js';
export { taskRequest, type TaskRequestSpec } from './task-request.js';
