import { HOSTNAME_ATTRIBUTE } from '../task-tracker.js';
import type { ConstraintEvaluator, TaskTrackerState, VirtualMachineCurrentState } from '../plugin.js';
import type { TaskRequest } from '../types.js';

// At most one task of a group per value of a host attribute: per host by default (attribute
// 'hostname'), or e.g. one per zone. Soft, it scores as Fenzo's AsSoftConstraint does: 1 where it
// holds, 0 where it does not. `graded` instead prefers values holding fewer of the group's tasks
// (1/(1 + co-tasks)), which lets a job pile onto hosts that already hold one of its tasks.

export interface UniqueHostAttrOptions {
  /** Soft score 1/(1 + co-tasks) instead of Fenzo's 0 or 1. */
  readonly graded?: boolean;
}

export class UniqueHostAttrConstraint implements ConstraintEvaluator {
  readonly name: string;
  readonly softFitness: ((task: TaskRequest, host: VirtualMachineCurrentState, tracker: TaskTrackerState) => number) | undefined;

  constructor(
    readonly attribute: string = HOSTNAME_ATTRIBUTE,
    options: UniqueHostAttrOptions = {},
  ) {
    this.name = `UniqueHostAttrConstraint[${attribute}]`;
    // Without a graded score asSoftConstraint scores evaluate() as 0 or 1, as Fenzo does.
    this.softFitness = options.graded ? (task, host, tracker) => this.graded(task, host, tracker) : undefined;
  }

  /** The group's tasks on the host's value; -1 when the host lacks the attribute. */
  private count(task: TaskRequest, host: VirtualMachineCurrentState, tracker: TaskTrackerState): number {
    if (this.attribute === HOSTNAME_ATTRIBUTE) return tracker.groupTasksOnHost(task.groupName, host);
    const counts = tracker.groupTasksByAttribute(task.groupName, this.attribute);
    const v = counts.valueIndexOf(host);
    return v < 0 ? -1 : counts.countAt(v);
  }

  evaluate(task: TaskRequest, host: VirtualMachineCurrentState, tracker: TaskTrackerState): boolean {
    return this.count(task, host, tracker) === 0;
  }

  explain(task: TaskRequest, host: VirtualMachineCurrentState, tracker: TaskTrackerState): string {
    const c = this.count(task, host, tracker);
    if (c < 0) return `host ${host.hostname} has no ${this.attribute} attribute`;
    const value = this.attribute === HOSTNAME_ATTRIBUTE ? host.hostname : host.attributes[this.attribute];
    return `${this.attribute}=${value} already has ${c} task(s) of group '${task.groupName}'`;
  }

  private graded(task: TaskRequest, host: VirtualMachineCurrentState, tracker: TaskTrackerState): number {
    const c = this.count(task, host, tracker);
    return c < 0 ? 0 : 1 / (1 + c);
  }
}
