import { ValidationError } from '../../core/errors.js';
import { rangesContain, type PortRange, type Resources } from '../../core/resources.js';
import { declineFilterKey } from './decline-filter.js';
import { DrfSorter } from './drf-sorter.js';
import { shuffleInPlace } from './shuffle.js';
import type { AllocationInput, AllocationResult, OfferDecision } from './types.js';

// One allocation round of Mesos's hierarchical allocator (its second stage; Stratus has
// quota limits but no guarantees, so there is no first stage):
//
//   for each allocatable agent, in a seeded random order:
//     while the agent has resources left:
//       role      = lowest weighted dominant share among roles that can take some of them
//       framework = lowest dominant share among the role's frameworks that can take them
//       offer it everything left on the agent, scalars capped by the role's quota headroom
//
// Decisions where Mesos leaves room, and what Stratus does:
// - Cluster total for shares: every agent's `total`, allocatable or not. Mesos's sorters
//   count an agent from addSlave to removeSlave, whether deactivated or draining.
// - A role's allocation is what all its frameworks hold in it, active or not: an inactive
//   framework's tasks still run (Mesos deactivates the framework in its sorter but keeps
//   its allocation in the role's). The same sum is the role's quota consumption.
// - Quota limits cap the four scalars, each on its own; ports are never capped (Mesos's
//   quota only names scalars, and it offers non-scalars with any offer). Every scalar of
//   `quotaLimit` is a limit: 0 means none of it. A role with no headroom left in any
//   scalar is at its limit and drops out of the round.
// - When the capped offer holds none of `minAllocatable`, the role gets nothing from this
//   agent and the next role is tried (Mesos's allocatable() check fails for every framework
//   of the role alike). A filtered framework is skipped for the next in its role.
// - An empty `minAllocatable` accepts any non-empty offer; an empty offer is never made.
// - After a capped offer the agent's remainder goes to the next candidate, with shares
//   re-read (Mesos keeps looping over roles for the same agent). A role gets at most one
//   offer per agent per round: after it, each scalar is exhausted on the agent or in the
//   role's headroom, and the ports went with it.
// - Roles are flat: "a/b" is a role of its own, not a child of "a" (no hierarchical
//   quota or share roll-up).

const NO_PORTS: readonly PortRange[] = Object.freeze([]);

// Scalars live in Float64Arrays, four per role or agent, in this order.
const CPUS = 0;
const MEM = 1;
const DISK = 2;
const NETWORK = 3;
const DIMS = 4;

export function allocate(input: AllocationInput): AllocationResult {
  const { agents, frameworks, filters } = input;

  // ---- cluster total and agents' free resources ----
  let tc = 0;
  let tm = 0;
  let td = 0;
  let tn = 0;
  for (const a of agents) {
    tc += a.total.cpus;
    tm += a.total.mem;
    td += a.total.disk;
    tn += a.total.network;
  }
  const clusterTotal: Resources = { cpus: tc, mem: tm, disk: td, network: tn, ports: NO_PORTS };

  // ---- roles: weights, limits, current allocation ----
  const roleIndex = new Map<string, number>();
  const roleNames: string[] = [];
  const roleWeight: number[] = [];
  const roleLimitOf: (Resources | undefined)[] = [];
  const internRole = (name: string): number => {
    let r = roleIndex.get(name);
    if (r === undefined) {
      r = roleNames.length;
      roleIndex.set(name, r);
      roleNames.push(name);
      roleWeight.push(1);
      roleLimitOf.push(undefined);
    }
    return r;
  };
  input.roles.forEach((role, i) => {
    if (!(role.weight > 0) || !Number.isFinite(role.weight)) {
      throw new ValidationError(`roles[${i}].weight must be a positive number (got ${role.weight})`, `roles[${i}].weight`);
    }
    const r = internRole(role.name);
    roleWeight[r] = role.weight;
    roleLimitOf[r] = role.quotaLimit;
  });
  for (const f of frameworks) {
    for (const role of f.roles) internRole(role);
    for (const role in f.allocated) internRole(role);
  }
  const roleCount = roleNames.length;

  const roleAlloc = new Float64Array(roleCount * DIMS);
  for (const f of frameworks) {
    for (const role in f.allocated) {
      const a = f.allocated[role];
      if (a === undefined) continue;
      const o = roleIndex.get(role)! * DIMS;
      roleAlloc[o + CPUS]! += a.cpus;
      roleAlloc[o + MEM]! += a.mem;
      roleAlloc[o + DISK]! += a.disk;
      roleAlloc[o + NETWORK]! += a.network;
    }
  }

  const hasLimit = new Uint8Array(roleCount);
  const limit = new Float64Array(roleCount * DIMS);
  for (let r = 0; r < roleCount; r++) {
    const l = roleLimitOf[r];
    if (l === undefined) continue;
    hasLimit[r] = 1;
    const o = r * DIMS;
    limit[o + CPUS] = l.cpus;
    limit[o + MEM] = l.mem;
    limit[o + DISK] = l.disk;
    limit[o + NETWORK] = l.network;
  }
  const atLimit = (r: number): boolean => {
    if (hasLimit[r] === 0) return false;
    const o = r * DIMS;
    for (let d = 0; d < DIMS; d++) if (limit[o + d]! > roleAlloc[o + d]!) return false;
    return true;
  };

  // ---- frameworks within each role: active, subscribed, not suppressed ----
  const membersOf: number[][] = Array.from({ length: roleCount }, () => []);
  frameworks.forEach((f, i) => {
    if (!f.active) return;
    const seen = new Set<string>();
    for (const role of f.roles) {
      if (seen.has(role) || f.suppressedRoles.includes(role)) continue;
      seen.add(role);
      membersOf[roleIndex.get(role)!]!.push(i);
    }
  });
  const members: Int32Array[] = [];
  const frameworkSorters: (DrfSorter | undefined)[] = [];
  for (let r = 0; r < roleCount; r++) {
    const m = membersOf[r]!;
    members.push(Int32Array.from(m));
    if (m.length === 0) {
      frameworkSorters.push(undefined);
      continue;
    }
    const role = roleNames[r]!;
    frameworkSorters.push(
      new DrfSorter(
        clusterTotal,
        m.map((f) => ({ name: frameworks[f]!.id, allocated: frameworks[f]!.allocated[role] })),
      ),
    );
  }

  const roleSorter = new DrfSorter(
    clusterTotal,
    roleNames.map((name, r) => {
      const o = r * DIMS;
      return {
        name,
        weight: roleWeight[r]!,
        allocated: {
          cpus: roleAlloc[o + CPUS]!,
          mem: roleAlloc[o + MEM]!,
          disk: roleAlloc[o + DISK]!,
          network: roleAlloc[o + NETWORK]!,
          ports: NO_PORTS,
        },
        active: frameworkSorters[r] !== undefined && !atLimit(r),
      };
    }),
  );

  // ---- minimum allocatable resources ----
  const minCount = input.minAllocatable.length;
  const minScalars = new Float64Array(minCount * DIMS);
  const minPorts: (readonly PortRange[])[] = [];
  input.minAllocatable.forEach((m, k) => {
    const o = k * DIMS;
    minScalars[o + CPUS] = m.cpus;
    minScalars[o + MEM] = m.mem;
    minScalars[o + DISK] = m.disk;
    minScalars[o + NETWORK] = m.network;
    minPorts.push(m.ports);
  });
  const allocatable = (c: number, m: number, d: number, n: number, ports: readonly PortRange[]): boolean => {
    if (c === 0 && m === 0 && d === 0 && n === 0 && ports.length === 0) return false;
    if (minCount === 0) return true;
    for (let k = 0; k < minCount; k++) {
      const o = k * DIMS;
      if (
        c >= minScalars[o + CPUS]! &&
        m >= minScalars[o + MEM]! &&
        d >= minScalars[o + DISK]! &&
        n >= minScalars[o + NETWORK]! &&
        (minPorts[k]!.length === 0 || rangesContain(ports, minPorts[k]!))
      ) {
        return true;
      }
    }
    return false;
  };

  // ---- the round ----
  let orderLength = 0;
  const order = new Int32Array(agents.length);
  agents.forEach((a, i) => {
    if (a.allocatable) order[orderLength++] = i;
  });
  const visit = shuffleInPlace(order.subarray(0, orderLength), input.seed ?? 0);

  // State of the agent being visited, read by the candidate checks below (built once,
  // not per agent, so the loop allocates no closures).
  let agentId = '';
  let availC = 0;
  let availM = 0;
  let availD = 0;
  let availN = 0;
  let portsLeft: readonly PortRange[] = NO_PORTS;
  let stamp = 0;
  const offeredOnAgent = new Int32Array(roleCount); // = stamp when the role got this agent
  // The candidate the checks settled on.
  let roleMembers: Int32Array = new Int32Array(0);
  let chosenClient = -1;
  let oC = 0;
  let oM = 0;
  let oD = 0;
  let oN = 0;

  const checkFilters = filters.size > 0;
  const frameworkTakes = (client: number): boolean =>
    !filters.has(declineFilterKey(frameworks[roleMembers[client]!]!.id, agentId));
  const anyFramework = (): boolean => true;

  const roleTakes = (r: number): boolean => {
    if (offeredOnAgent[r] === stamp) return false;
    let c = availC;
    let m = availM;
    let d = availD;
    let n = availN;
    if (hasLimit[r] === 1) {
      const o = r * DIMS;
      c = Math.min(c, Math.max(0, limit[o + CPUS]! - roleAlloc[o + CPUS]!));
      m = Math.min(m, Math.max(0, limit[o + MEM]! - roleAlloc[o + MEM]!));
      d = Math.min(d, Math.max(0, limit[o + DISK]! - roleAlloc[o + DISK]!));
      n = Math.min(n, Math.max(0, limit[o + NETWORK]! - roleAlloc[o + NETWORK]!));
    }
    if (!allocatable(c, m, d, n, portsLeft)) return false;
    roleMembers = members[r]!;
    const client = frameworkSorters[r]!.first(checkFilters ? frameworkTakes : anyFramework);
    if (client < 0) return false;
    chosenClient = client;
    oC = c;
    oM = m;
    oD = d;
    oN = n;
    return true;
  };

  const offers: OfferDecision[] = [];
  for (let v = 0; v < visit.length; v++) {
    const agent = agents[visit[v]!]!;
    const available = agent.available;
    agentId = agent.id;
    availC = available.cpus;
    availM = available.mem;
    availD = available.disk;
    availN = available.network;
    portsLeft = available.ports;
    stamp = v + 1;

    while (availC > 0 || availM > 0 || availD > 0 || availN > 0 || portsLeft.length > 0) {
      const r = roleSorter.first(roleTakes);
      if (r < 0) break;
      const framework = frameworks[members[r]![chosenClient]!]!;
      offers.push({
        frameworkId: framework.id,
        agentId,
        role: roleNames[r]!,
        resources: { cpus: oC, mem: oM, disk: oD, network: oN, ports: portsLeft },
      });

      availC -= oC;
      availM -= oM;
      availD -= oD;
      availN -= oN;
      portsLeft = NO_PORTS;
      offeredOnAgent[r] = stamp;

      const o = r * DIMS;
      roleAlloc[o + CPUS]! += oC;
      roleAlloc[o + MEM]! += oM;
      roleAlloc[o + DISK]! += oD;
      roleAlloc[o + NETWORK]! += oN;
      roleSorter.addScalars(r, oC, oM, oD, oN);
      frameworkSorters[r]!.addScalars(chosenClient, oC, oM, oD, oN);
      // Across the round too: a role that reached its limit takes nothing more.
      if (atLimit(r)) roleSorter.deactivate(r);
    }
  }
  return { offers };
}
