import { ValidationError } from '../core/errors.js';
import { resources, type PortRange } from '../core/resources.js';
import type { ConstraintEvaluator, VMTaskFitnessCalculator } from './plugin.js';
import type { TaskRequest } from './types.js';

/** A task request in user units: CPUs as cores (0.5), memory and disk in MiB, network in Mbps. */
export interface TaskRequestSpec {
  readonly id: string;
  readonly groupName?: string;
  readonly cpus?: number;
  readonly mem?: number;
  readonly disk?: number;
  readonly network?: number;
  /** A count of ports to pick, or exact ranges. */
  readonly ports?: number | readonly PortRange[];
  readonly hardConstraints?: readonly ConstraintEvaluator[];
  readonly softConstraints?: readonly VMTaskFitnessCalculator[];
}

/** Builds a TaskRequest in fixed units, validating like core `resources` (errors name the field). */
export function taskRequest(spec: TaskRequestSpec, field = 'task'): TaskRequest {
  if (typeof spec.id !== 'string' || spec.id.length === 0) throw new ValidationError(`${field}.id must be a non-empty string`, `${field}.id`);
  const ports = spec.ports ?? 0;
  const fixed = resources(
    { cpus: spec.cpus, mem: spec.mem, disk: spec.disk, network: spec.network, ports: typeof ports === 'number' ? undefined : ports },
    `${field}.resources`,
  );
  if (typeof ports === 'number' && (!Number.isInteger(ports) || ports < 0)) {
    throw new ValidationError(`${field}.resources.ports must be a non-negative integer count`, `${field}.resources.ports`);
  }
  return {
    id: spec.id,
    groupName: spec.groupName ?? '',
    resources: { cpus: fixed.cpus, mem: fixed.mem, disk: fixed.disk, network: fixed.network, ports: typeof ports === 'number' ? ports : fixed.ports },
    ...(spec.hardConstraints ? { hardConstraints: spec.hardConstraints } : {}),
    ...(spec.softConstraints ? { softConstraints: spec.softConstraints } : {}),
  };
}
