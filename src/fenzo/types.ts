import type { PortRange, Resources, ScalarName } from '../core/resources.js';
import type { ConstraintEvaluator, VMTaskFitnessCalculator } from './plugin.js';

// Plain data in, decisions out. All quantities are in the fixed units of core Resources:
// cpus in millicpus, mem and disk in MiB, network in Mbps.

/** The resources a task asks for. `ports` is a count to pick from the lease (lowest free first) or exact ranges. */
export interface TaskResources {
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
  readonly network: number;
  readonly ports: number | readonly PortRange[];
}

/** A task waiting for placement (Fenzo's TaskRequest). */
export interface TaskRequest {
  readonly id: string;
  /** Co-tasks share a group: the group is what balance/unique constraints and group caps count. '' for none. */
  readonly groupName: string;
  readonly resources: TaskResources;
  /** Every one must hold on the chosen host. */
  readonly hardConstraints?: readonly ConstraintEvaluator[];
  /** Preferences: their average score is blended with the fitness (see ScheduleOptions.softConstraintWeight). */
  readonly softConstraints?: readonly VMTaskFitnessCalculator[];
}

/** What one host offers now (Fenzo's VirtualMachineLease): its Mesos offers, merged. One lease per host. */
export interface VMLease {
  readonly hostname: string;
  readonly agentId: string;
  readonly offerIds: readonly string[];
  /** Available now. */
  readonly resources: Resources;
  /** Host attributes, e.g. { zone: 'us-east-1a' }. */
  readonly attributes?: Readonly<Record<string, string>>;
  /**
   * The agent's total resources, the denominator of bin packing. Defaults to `resources` plus the
   * resources of the running tasks on the host (as Fenzo counts it).
   */
  readonly totalResources?: Resources;
}

/** A task already launched on a host (Fenzo's TaskTracker knowledge). */
export interface RunningTask {
  readonly taskId: string;
  readonly groupName: string;
  readonly hostname: string;
  /** Counted in group caps and in the host total when the lease has no totalResources. */
  readonly resources?: Resources;
  /** Launched under a hard ExclusiveHostConstraint: nothing else may join its host. */
  readonly exclusive?: boolean;
  /**
   * Its host's attributes (zone...): constraints count the task by them also when its host has
   * no lease now (a full host) and no KnownHost was given for it.
   */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** A host without a lease now (e.g. full) whose attributes constraints still need, to count what runs there. */
export interface KnownHost {
  readonly hostname: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** A ceiling on what a group may hold, over running and newly assigned tasks (Fenzo's ResAllocs). */
export type GroupCap = Readonly<Partial<Record<ScalarName, number>>>;

export interface ScheduleOptions {
  /** Default: cpuMemBinPacker. */
  readonly fitnessCalculator?: VMTaskFitnessCalculator;
  /**
   * Stop evaluating hosts for a task as soon as one scores at least this (Fenzo's isFitnessGoodEnough),
   * e.g. 0.1 takes the first fitting host scoring 0.1 or more, trying hosts fullest-CPU first
   * (emptiest first for spreading calculators), then by hostname. 1.0 (default) is a full search:
   * the fittest host, ties to the lowest (hostname, agent id).
   */
  readonly fitnessGoodEnough?: number;
  /** Share of the soft constraints' score in a host's fitness, in [0, 1]. Default 0.5, as Fenzo. */
  readonly softConstraintWeight?: number;
  readonly runningTasks?: readonly RunningTask[];
  readonly knownHosts?: readonly KnownHost[];
  readonly groupCaps?: Readonly<Record<string, GroupCap>>;
}

/** Where one task goes, with the concrete resources to launch it with (ports chosen from the lease). */
export interface TaskAssignment {
  readonly taskId: string;
  readonly hostname: string;
  readonly agentId: string;
  readonly offerIds: readonly string[];
  readonly resources: Resources;
  readonly fitness: number;
}

/** Everything assigned to one host (Fenzo's VMAssignmentResult), and what its lease has left. */
export interface VMAssignmentResult {
  readonly hostname: string;
  readonly agentId: string;
  readonly offerIds: readonly string[];
  readonly tasks: readonly TaskAssignment[];
  readonly remaining: Resources;
}

export type ResourceName = ScalarName | 'ports';

/**
 * Why a task was not placed. `resource` reasons are shortfalls more or bigger hosts would fix (the
 * autoscaler scales up on those only); the others are policy: constraints, group caps.
 */
export type FailureReason =
  | {
      readonly kind: 'resource';
      readonly resource: ResourceName;
      /** Hosts lacking this resource (a host short of several resources counts under each). */
      readonly hosts: number;
      readonly requested: number;
      /** The most any host had free. */
      readonly largestFree: number;
    }
  | {
      readonly kind: 'constraint';
      readonly constraint: string;
      /** Hosts with room for the task where this (first failing) hard constraint said no. */
      readonly hosts: number;
      /** One host's explanation, when the constraint gives one. */
      readonly detail?: string;
    }
  | {
      readonly kind: 'groupCap';
      readonly group: string;
      readonly resource: ScalarName;
      readonly requested: number;
      readonly used: number;
      readonly cap: number;
    }
  | { readonly kind: 'noLeases' };

/** A task not placed (Fenzo's AssignmentFailure list, summarised over hosts). */
export interface TaskAssignmentFailure {
  readonly taskId: string;
  readonly groupName: string;
  readonly reasons: readonly FailureReason[];
  readonly message: string;
}

export interface SchedulingResult {
  /** In task input order. */
  readonly assignments: readonly TaskAssignment[];
  /** In task input order. */
  readonly failures: readonly TaskAssignmentFailure[];
  /** Hosts that received tasks, by hostname. */
  readonly hosts: readonly VMAssignmentResult[];
  /** Hosts whose fitness was computed, over all tasks (what good-enough saves). */
  readonly evaluations: number;
}
