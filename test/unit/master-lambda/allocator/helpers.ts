import { add, resources, subtract, type ResourceSpec, type Resources } from '../../../../src/core/resources.js';
import type {
  AllocationInput,
  AllocationResult,
  AllocatorAgent,
  AllocatorFramework,
  AllocatorRole,
} from '../../../../src/master-lambda/allocator/types.js';

// Small builders for allocator inputs, in user units.

export const MESOS_MIN_ALLOCATABLE: readonly Resources[] = [resources({ cpus: 0.01 }), resources({ mem: 32 })];

export function agent(id: string, spec: ResourceSpec, opts: { available?: ResourceSpec; allocatable?: boolean } = {}): AllocatorAgent {
  const total = resources(spec);
  return {
    id,
    total,
    available: opts.available === undefined ? total : resources(opts.available),
    allocatable: opts.allocatable ?? true,
  };
}

export function framework(
  id: string,
  roles: readonly string[],
  opts: { active?: boolean; suppressed?: readonly string[]; allocated?: Record<string, ResourceSpec> } = {},
): AllocatorFramework {
  const allocated: Record<string, Resources> = {};
  for (const [role, spec] of Object.entries(opts.allocated ?? {})) allocated[role] = resources(spec);
  return { id, roles, suppressedRoles: opts.suppressed ?? [], active: opts.active ?? true, allocated };
}

export function role(name: string, weight = 1, quotaLimit?: ResourceSpec): AllocatorRole {
  return quotaLimit === undefined ? { name, weight } : { name, weight, quotaLimit: resources(quotaLimit) };
}

export function input(parts: Partial<AllocationInput> & Pick<AllocationInput, 'agents' | 'frameworks'>): AllocationInput {
  return {
    roles: [],
    filters: new Set(),
    minAllocatable: MESOS_MIN_ALLOCATABLE,
    seed: 7,
    ...parts,
  };
}

/**
 * The cluster after every offer of `result` was accepted in full: the agents' available
 * resources shrink and each offer joins its framework's allocation in its role.
 */
export function acceptAll(inp: AllocationInput, result: AllocationResult): AllocationInput {
  const taken = new Map<string, Resources[]>();
  const frameworks = inp.frameworks.map((f) => ({ ...f, allocated: { ...f.allocated } }));
  const byId = new Map(frameworks.map((f) => [f.id, f]));
  for (const o of result.offers) {
    taken.set(o.agentId, [...(taken.get(o.agentId) ?? []), o.resources]);
    const f = byId.get(o.frameworkId)!;
    const held = f.allocated[o.role];
    f.allocated[o.role] = held === undefined ? o.resources : add(held, o.resources);
  }
  const agents = inp.agents.map((a) => {
    let available = a.available;
    for (const r of taken.get(a.id) ?? []) available = subtract(available, r);
    return { ...a, available };
  });
  return { ...inp, agents, frameworks };
}
