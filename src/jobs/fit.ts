import { ValidationError } from '../core/errors.js';
import type { ClusterAgent } from './agents.js';
import type { JobSpec } from './spec.js';

// Submission checks that need the cluster: a job asking more than any host has, or placing on
// an attribute no host carries, can never run, so it is refused (400 naming the field) rather
// than left pending forever. With no agents known yet, everything is accepted (and waits).

const DIMENSIONS = [
  ['cpus', 'cpus', ''],
  ['mem', 'mem', ' MiB'],
  ['disk', 'disk', ' MiB'],
  ['ports', 'ports', ' ports'],
] as const;

export function checkPlaceable(spec: JobSpec, agents: readonly ClusterAgent[]): void {
  if (agents.length === 0) return;
  const fits = (a: ClusterAgent): boolean => a.total.cpus >= spec.cpus && a.total.mem >= spec.mem && a.total.disk >= spec.disk && a.total.ports >= spec.ports;
  if (!agents.some(fits)) {
    for (const [key, field, unit] of DIMENSIONS) {
      const largest = Math.max(...agents.map((a) => a.total[key]));
      if (spec[key] > largest) {
        throw new ValidationError(`${field} ${spec[key]}${unit} is more than any agent has (the largest has ${largest}${unit})`, field);
      }
    }
    throw new ValidationError(`no single agent has ${spec.cpus} cpus, ${spec.mem} MiB mem, ${spec.disk} MiB disk and ${spec.ports} ports together`, 'cpus');
  }
  spec.constraints.forEach((c, i) => {
    if (c.type !== 'hostAttribute') return;
    if (!agents.some((a) => a.attributes[c.attribute] !== undefined)) {
      const known = [...new Set(agents.flatMap((a) => Object.keys(a.attributes)))].sort();
      throw new ValidationError(`no agent has the attribute '${c.attribute}' (known: ${known.join(', ') || 'none'})`, `constraints[${i}].attribute`);
    }
  });
}
