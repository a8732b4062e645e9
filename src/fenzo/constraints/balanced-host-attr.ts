import type { AttributeCounts, ConstraintEvaluator, TaskTrackerState, VirtualMachineCurrentState } from '../plugin.js';
import type { TaskRequest } from '../types.js';

// Spreads a group evenly over the values of a host attribute (zones by default): a task may only
// go to a value where its group has the fewest tasks, so from a balanced start the counts never
// differ by more than one, even if that leaves tasks unplaced while one value has no room. As a
// soft constraint, emptier values score higher instead.

export interface BalancedHostAttrOptions {
  /** Default 'zone'. */
  readonly attribute?: string;
  /** The values to balance over; default: every value seen on the leases and known hosts. */
  readonly values?: readonly string[];
}

export class BalancedHostAttrConstraint implements ConstraintEvaluator {
  readonly name: string;
  readonly attribute: string;
  private readonly values: readonly string[] | undefined;
  private readonly valueSet: ReadonlySet<string> | undefined;

  constructor(options: BalancedHostAttrOptions = {}) {
    this.attribute = options.attribute ?? 'zone';
    this.values = options.values;
    this.valueSet = options.values === undefined ? undefined : new Set(options.values);
    this.name = `BalancedHostAttrConstraint[${this.attribute}]`;
  }

  /** The group's count on the host's value; -1 when the host is not among the values balanced over. */
  private measure(counts: AttributeCounts, host: VirtualMachineCurrentState): number {
    const v = counts.valueIndexOf(host);
    if (v < 0) return -1;
    if (this.valueSet !== undefined && !this.valueSet.has(counts.values[v]!)) return -1;
    return counts.countAt(v);
  }

  private minOf(counts: AttributeCounts): number {
    if (this.values === undefined) return counts.min;
    let min = Infinity;
    for (const value of this.values) min = Math.min(min, counts.countOf(value));
    return min === Infinity ? 0 : min;
  }

  private maxOf(counts: AttributeCounts): number {
    if (this.values === undefined) return counts.max;
    let max = 0;
    for (const value of this.values) max = Math.max(max, counts.countOf(value));
    return max;
  }

  evaluate(task: TaskRequest, host: VirtualMachineCurrentState, tracker: TaskTrackerState): boolean {
    const counts = tracker.groupTasksByAttribute(task.groupName, this.attribute);
    const own = this.measure(counts, host);
    return own >= 0 && own <= this.minOf(counts);
  }

  explain(task: TaskRequest, host: VirtualMachineCurrentState, tracker: TaskTrackerState): string {
    const counts = tracker.groupTasksByAttribute(task.groupName, this.attribute);
    const value = host.attributes[this.attribute];
    if (this.measure(counts, host) < 0) {
      return value === undefined
        ? `host ${host.hostname} has no ${this.attribute} attribute`
        : `${this.attribute}=${value} is not among the values balanced over`;
    }
    return `${this.attribute}=${value} already has ${this.measure(counts, host)} task(s) of group '${task.groupName}', the least loaded has ${this.minOf(counts)}`;
  }

  /** 1 on the least loaded values, falling towards 1/(1 + max - min) on the most loaded. */
  softFitness(task: TaskRequest, host: VirtualMachineCurrentState, tracker: TaskTrackerState): number {
    const counts = tracker.groupTasksByAttribute(task.groupName, this.attribute);
    const own = this.measure(counts, host);
    if (own < 0) return 0;
    const max = this.maxOf(counts);
    return (1 + max - own) / (1 + max - this.minOf(counts));
  }
}
