import type { PortRange } from '../core/resources.js';
import type { RunningTask, TaskRequest } from './types.js';

// The plugin points, as in Fenzo: fitness calculators score a host for a task, constraint
// evaluators accept or refuse it. Both are called once per evaluated host on the hot path, so the
// host they get is a reused view (valid only during the call: read it, never keep it) and they
// should not allocate.

/** A host as it stands during one scheduleOnce, after the assignments made so far in it. */
export interface VirtualMachineCurrentState {
  readonly hostname: string;
  readonly agentId: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** This host's number during the current scheduleOnce (0..hosts-1, in hostname order). */
  readonly index: number;
  readonly freeCpus: number;
  readonly freeMem: number;
  readonly freeDisk: number;
  readonly freeNetwork: number;
  /** Count of free ports. */
  readonly freePorts: number;
  readonly freePortRanges: readonly PortRange[];
  readonly totalCpus: number;
  readonly totalMem: number;
  readonly totalDisk: number;
  readonly totalNetwork: number;
  /** Tasks running plus tasks assigned so far in this scheduleOnce. */
  readonly taskCount: number;
  readonly runningTasks: readonly RunningTask[];
  /** Tasks assigned to this host so far in this scheduleOnce. */
  readonly assignedTasks: readonly TaskRequest[];
}

/** Counts of one group's tasks (running + assigned so far) over the values of one host attribute. */
export interface AttributeCounts {
  readonly attribute: string;
  /** The attribute's values on all leases and known hosts, in first-seen (hostname) order. */
  readonly values: readonly string[];
  /** Index into `values` of the host's value; -1 when the host lacks the attribute. */
  valueIndexOf(host: VirtualMachineCurrentState): number;
  countAt(valueIndex: number): number;
  /** 0 for a value no host has. */
  countOf(value: string): number;
  /** Smallest and largest count over `values` (0 when there are none). */
  readonly min: number;
  readonly max: number;
}

/** What the scheduler knows of tasks per host (Fenzo's TaskTrackerState): running and assigned so far. */
export interface TaskTrackerState {
  /** Tasks of `group` running on the host or assigned to it so far. */
  groupTasksOnHost(group: string, host: VirtualMachineCurrentState): number;
  groupTasksByAttribute(group: string, attribute: string): AttributeCounts;
}

/** Facts about all hosts, for upper bounds. */
export interface ClusterStats {
  readonly maxTotalCpus: number;
  readonly minTotalCpus: number;
}

/**
 * Scores a host for a task in [0, 1], higher is better (Fenzo's VMTaskFitnessCalculator). Called
 * only for hosts where the task fits and every hard constraint holds.
 */
export interface VMTaskFitnessCalculator {
  readonly name: string;
  calculateFitness(task: TaskRequest, host: VirtualMachineCurrentState, tracker: TaskTrackerState): number;
  /**
   * Optional, for speed: a score no host whose free CPUs lie in [freeCpusMin, freeCpusMax] can
   * beat. The scheduler skips such hosts once it holds a better one. It must be computed with the
   * same floating-point operations as calculateFitness on values at least as large, so rounding
   * can never put it below a real score. Without it every fitting host is evaluated.
   */
  upperBound?(task: TaskRequest, freeCpusMin: number, freeCpusMax: number, cluster: ClusterStats): number;
  /** Which hosts to try first: fullest ('packing', default) or emptiest ('spreading'). Matters with good-enough < 1. */
  readonly searchOrder?: 'packing' | 'spreading';
}

/** Accepts or refuses a host for a task (Fenzo's ConstraintEvaluator). Hard unless wrapped by asSoftConstraint. */
export interface ConstraintEvaluator {
  readonly name: string;
  evaluate(task: TaskRequest, host: VirtualMachineCurrentState, tracker: TaskTrackerState): boolean;
  /** Why the host was refused, for failure messages (not on the hot path). */
  explain?(task: TaskRequest, host: VirtualMachineCurrentState, tracker: TaskTrackerState): string;
  /** A graded score in [0, 1] used when the constraint is soft; defaults to 1 when evaluate holds, else 0. */
  softFitness?(task: TaskRequest, host: VirtualMachineCurrentState, tracker: TaskTrackerState): number;
  /** When hard, the task holds its host alone: no later task may join it (ExclusiveHostConstraint). */
  readonly exclusive?: boolean;
}
