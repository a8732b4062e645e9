import { HOSTNAME_ATTRIBUTE } from '../task-tracker.js';
import type { ConstraintEvaluator, TaskTrackerState, VirtualMachineCurrentState } from '../plugin.js';
import type { TaskRequest } from '../types.js';

// At most one task of a group per value of a host attribute: per host by default (attribute
// 'hostname'), or e.g. one per zone. Soft, it prefers values holding fewer of the group's tasks.

export class UniqueHostAttrConstraint implements ConstraintEvaluator {
  readonly name: string;

  constructor(readonly attribute: string = HOSTNAME_ATTRIBUTE) {
    this.name = `UniqueHostAttrConstraint[${attribute}]`;
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

  softFitness(task: TaskRequest, host: VirtualMachineCurrentState, tracker: TaskTrackerState): number {
    const c = this.count(task, host, tracker);
    return c < 0 ? 0 : 1 / (1 + c);
  }
}
