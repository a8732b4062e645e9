import type { Agent } from '../../core/agent.js';
import type { Task } from '../../core/task.js';
import { SERVICE_NAME, type ServiceEndpoint } from './digest.js';

// Service endpoints of this region: a RUNNING task with a discovery name offers one endpoint
// per discovery port, on its agent's hostname. Tasks on agents the master cannot reach are
// left out: their endpoints are likely gone, and callers would time out on them.

export type ServiceMap = Map<string, ServiceEndpoint[]>;

function byHostPortTask(a: ServiceEndpoint, b: ServiceEndpoint): number {
  return a.host < b.host ? -1 : a.host > b.host ? 1 : a.port - b.port || (a.task < b.task ? -1 : a.task > b.task ? 1 : 0);
}

/** Endpoints by service name, each list sorted, names in order (so digests are stable). */
export function localServices(agents: readonly Agent[], tasks: readonly Task[], only?: string): ServiceMap {
  const hosts = new Map<string, string>();
  for (const a of agents) if (a.reachability === 'REACHABLE') hosts.set(a.id, a.hostname);
  const out: ServiceMap = new Map();
  for (const t of tasks) {
    const name = t.spec.discovery?.name;
    if (t.state !== 'RUNNING' || !name || (only !== undefined && name !== only) || !SERVICE_NAME.test(name)) continue;
    const host = hosts.get(t.agentId);
    if (host === undefined) continue;
    let list = out.get(name);
    if (!list) out.set(name, (list = []));
    for (const p of t.spec.discovery?.ports ?? []) {
      list.push({ host, port: p.number, task: t.taskId, ...(p.name ? { portName: p.name } : {}) });
    }
  }
  for (const [name, list] of out) {
    if (list.length === 0) out.delete(name);
    else list.sort(byHostPortTask);
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
