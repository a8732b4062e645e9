import type { ConstraintEvaluator, VirtualMachineCurrentState } from '../plugin.js';

// The task must be alone on its host: no task running or assigned there. Used hard, the scheduler
// also keeps every later task off the host (`exclusive`), as Fenzo does.

export class ExclusiveHostConstraint implements ConstraintEvaluator {
  readonly name = 'ExclusiveHostConstraint';
  readonly exclusive = true;

  evaluate(_task: unknown, host: VirtualMachineCurrentState): boolean {
    return host.taskCount === 0;
  }

  explain(_task: unknown, host: VirtualMachineCurrentState): string {
    return `host ${host.hostname} already has ${host.taskCount} task(s)`;
  }
}

export const exclusiveHost: ExclusiveHostConstraint = new ExclusiveHostConstraint();
