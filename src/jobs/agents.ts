import { countPorts, type Resources } from '../core/resources.js';
import type { Registry } from '../state/registry.js';

// The agents the jobs framework knows of, for validation (is any host big enough, does the
// attribute exist) and for placement (zones of hosts that have no offer out right now).

export interface ClusterAgent {
  readonly agentId: string;
  readonly hostname: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** The agent's total, in user units: cores, MiB, MiB, a count of ports. */
  readonly total: { readonly cpus: number; readonly mem: number; readonly disk: number; readonly ports: number };
  /** The same total in fixed units, for bin packing. */
  readonly totalResources?: Resources;
  /** False while the master sees it unreachable: its zone does not count for spreading. */
  readonly reachable: boolean;
}

export type AgentSource = () => Promise<readonly ClusterAgent[]>;

/** The region's agents as the master registered them (removed ones left out). */
export function registryAgents(registry: Registry): AgentSource {
  return async () =>
    (await registry.listAgents())
      .filter((a) => a.reachability !== 'GONE')
      .map((a) => ({
        agentId: a.id,
        hostname: a.hostname,
        attributes: a.attributes,
        total: { cpus: a.total.cpus / 1000, mem: a.total.mem, disk: a.total.disk, ports: countPorts(a.total.ports) },
        totalResources: a.total,
        reachable: a.reachability === 'REACHABLE' && !a.deactivated && a.drain === undefined,
      }));
}
