import { GROUP_ATTRIBUTE, INSTANCE_ID_ATTRIBUTE, ZONE_ATTRIBUTE, type Agent } from '../core/agent.js';
import { isEmpty } from '../core/resources.js';
import type { PendingTask } from '../jobs/views.js';
import type { HostActivity, HostState, PendingDemand } from './decide.js';

// How the region's state looks to the decision function: a registered agent becomes a HostState,
// a task the jobs framework could not place becomes a PendingDemand.

export function activityOf(a: Agent): HostActivity {
  if (a.reachability === 'UNREACHABLE' || a.health?.healthy === false) return 'unreachable';
  if (a.drain !== undefined || a.deactivated) return 'draining';
  return isEmpty(a.allocated) ? 'idle' : 'busy';
}

/** Every agent that is not gone; `idleSinceOf` says since when each idle one has been idle. */
export function hostStates(agents: readonly Agent[], removing: ReadonlySet<string>, idleSinceOf: ReadonlyMap<string, number>): HostState[] {
  const out: HostState[] = [];
  for (const a of agents) {
    if (a.reachability === 'GONE') continue;
    const activity = activityOf(a);
    const zone = a.attributes[ZONE_ATTRIBUTE];
    const instanceId = a.attributes[INSTANCE_ID_ATTRIBUTE];
    const idleSince = activity === 'idle' ? idleSinceOf.get(a.id) : undefined;
    out.push({
      agentId: a.id,
      hostname: a.hostname,
      group: a.attributes[GROUP_ATTRIBUTE] ?? '',
      activity,
      registeredAt: a.registeredAt,
      removing: removing.has(a.id),
      attributes: a.attributes,
      ...(zone !== undefined ? { zone } : {}),
      ...(instanceId !== undefined ? { instanceId } : {}),
      ...(idleSince !== undefined ? { idleSince } : {}),
    });
  }
  return out;
}

export function pendingDemand(t: PendingTask): PendingDemand {
  return {
    id: `${t.job}/${t.instance}`,
    job: t.job,
    resources: { cpus: t.resources.cpus, mem: t.resources.mem, disk: t.resources.disk, ports: t.resources.ports },
    zoneSpread: t.zoneSpread,
    constraints: t.constraints,
    kind: t.kind,
    ...(t.at !== undefined ? { at: t.at } : {}),
  };
}
