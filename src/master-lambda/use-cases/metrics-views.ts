import { add, dominantShare, EMPTY, toSpec, type Resources } from '../../core/resources.js';
import { isTerminal, TASK_STATES, TERMINAL_STATES, type TaskState } from '../../core/task-state.js';
import type { MasterMetrics } from '../metrics.js';
import type { Snapshot } from './operator-views.js';

// The region's figures that monitoring reads, from one snapshot of its state: the gauges of
// GET /metrics, and Mesos's GET /metrics/snapshot (and the operator call GET_METRICS) under
// the names Mesos's monitoring documentation gives them. Counters come from MasterMetrics.

export type AgentState = 'active' | 'deactivated' | 'draining' | 'drained' | 'unreachable' | 'gone';

export interface ScalarFigures {
  /** Cores. */
  readonly cpus: number;
  /** MiB. */
  readonly mem: number;
  /** MiB. */
  readonly disk: number;
}

export interface MasterFigures {
  readonly tasks: Readonly<Record<TaskState, number>>;
  readonly agents: Readonly<Record<AgentState, number>>;
  /** Reachable agents and agents not heard from (Mesos: connected, disconnected). */
  readonly agentsConnected: number;
  readonly agentsDisconnected: number;
  readonly frameworks: { readonly connected: number; readonly disconnected: number };
  readonly outstandingOffers: number;
  readonly resources: { readonly total: ScalarFigures; readonly used: ScalarFigures; readonly offered: ScalarFigures };
  /** Unweighted DRF dominant share of each role with tasks or offers. */
  readonly shares: Readonly<Record<string, number>>;
}

function scalars(r: Resources): ScalarFigures {
  const s = toSpec(r);
  return { cpus: s.cpus, mem: s.mem, disk: s.disk };
}

export function agentState(a: Snapshot['agents'][number]): AgentState {
  if (a.reachability === 'GONE') return 'gone';
  if (a.reachability === 'UNREACHABLE') return 'unreachable';
  if (a.drain) return a.drain.state === 'DRAINED' ? 'drained' : 'draining';
  return a.deactivated ? 'deactivated' : 'active';
}

export function masterFigures(s: Snapshot): MasterFigures {
  const tasks = Object.fromEntries(TASK_STATES.map((t) => [t, 0])) as Record<TaskState, number>;
  const live = s.tasks.filter((t) => !isTerminal(t.state));
  for (const t of live) tasks[t.state]++;
  const agents: Record<AgentState, number> = { active: 0, deactivated: 0, draining: 0, drained: 0, unreachable: 0, gone: 0 };
  for (const a of s.agents) agents[agentState(a)]++;
  const present = s.agents.filter((a) => a.reachability !== 'GONE');
  const total = present.reduce((sum, a) => add(sum, a.total), EMPTY);
  const used = present.reduce((sum, a) => add(sum, a.allocated), EMPTY);
  const offered = present.reduce((sum, a) => add(sum, a.offered), EMPTY);
  const byRole = new Map<string, Resources>();
  for (const t of live) byRole.set(t.role, add(byRole.get(t.role) ?? EMPTY, t.resources));
  for (const o of s.offers) byRole.set(o.role, add(byRole.get(o.role) ?? EMPTY, o.resources));
  const registered = s.frameworks.filter((f) => f.removedAt === undefined);
  return {
    tasks,
    agents,
    agentsConnected: present.filter((a) => a.reachability === 'REACHABLE').length,
    agentsDisconnected: present.filter((a) => a.reachability !== 'REACHABLE').length,
    frameworks: { connected: registered.filter((f) => f.connected).length, disconnected: registered.filter((f) => !f.connected).length },
    outstandingOffers: s.offers.length,
    resources: { total: scalars(total), used: scalars(used), offered: scalars(offered) },
    shares: Object.fromEntries([...byRole].map(([role, r]) => [role, dominantShare(r, total)])),
  };
}

export interface LeaseView {
  readonly epoch: number;
  /** Some process holds the lease. */
  readonly elected: boolean;
  /** This process holds it. */
  readonly leader: boolean;
}

const percent = (used: number, total: number): number => (total > 0 ? used / total : 0);
const lower = (s: string): string => s.toLowerCase();

/**
 * Mesos's metrics/snapshot for the master: a flat object of Mesos's names. Gauges come from
 * the state; counters (terminal task states, offers, calls) count since this process started,
 * as Mesos's do since the master started.
 */
export async function mesosMasterSnapshot(s: Snapshot, f: MasterFigures, metrics: MasterMetrics, lease: LeaseView, now: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {
    'master/uptime_secs': (now - metrics.startedAt) / 1000,
    'master/elected': lease.elected ? 1 : 0,
    'master/slaves_active': f.agents.active + f.agents.draining + f.agents.drained,
    'master/slaves_inactive': f.agents.deactivated,
    'master/slaves_connected': f.agentsConnected,
    'master/slaves_disconnected': f.agentsDisconnected,
    'master/slaves_unreachable': f.agents.unreachable,
    'master/frameworks_active': f.frameworks.connected,
    'master/frameworks_inactive': f.frameworks.disconnected,
    'master/frameworks_connected': f.frameworks.connected,
    'master/frameworks_disconnected': f.frameworks.disconnected,
    'master/outstanding_offers': f.outstandingOffers,
  };
  // Mesos: the non-terminal states are gauges of the tasks now; the terminal ones, counters.
  for (const state of ['STAGING', 'STARTING', 'RUNNING', 'KILLING', 'UNREACHABLE'] as const) out[`master/tasks_${lower(state)}`] = f.tasks[state];
  const transitions = (await metrics.taskTransitions.get()).values;
  for (const state of TERMINAL_STATES) out[`master/tasks_${lower(state)}`] = 0;
  for (const v of transitions) {
    const state = String(v.labels.state).replace(/^TASK_/, '');
    if (!TERMINAL_STATES.has(state as TaskState)) continue;
    out[`master/tasks_${lower(state)}`]! += v.value;
    // Mesos: master/task_<state>/source_<source>/reason_<reason>, for updates that carry a reason.
    if (v.labels.reason) {
      const key = `master/task_${lower(state)}/${lower(String(v.labels.source))}/${lower(String(v.labels.reason))}`;
      out[key] = (out[key] ?? 0) + v.value;
    }
  }
  for (const [name, r] of [['cpus', 'cpus'], ['mem', 'mem'], ['disk', 'disk']] as const) {
    out[`master/${name}_total`] = f.resources.total[r];
    out[`master/${name}_used`] = f.resources.used[r];
    out[`master/${name}_percent`] = percent(f.resources.used[r], f.resources.total[r]);
  }
  // Calls as Mesos counts them (master/messages_*), from the API request counter.
  const calls = new Map<string, number>();
  for (const v of (await metrics.apiRequests.get()).values) calls.set(String(v.labels.call), (calls.get(String(v.labels.call)) ?? 0) + v.value);
  const messages: Record<string, readonly string[]> = {
    'master/messages_register_framework': ['scheduler/SUBSCRIBE'],
    'master/messages_unregister_framework': ['scheduler/TEARDOWN'],
    'master/messages_launch_tasks': ['scheduler/ACCEPT'],
    'master/messages_decline_offers': ['scheduler/DECLINE'],
    'master/messages_revive_offers': ['scheduler/REVIVE'],
    'master/messages_suppress_offers': ['scheduler/SUPPRESS'],
    'master/messages_kill_task': ['scheduler/KILL'],
    'master/messages_reconcile_tasks': ['scheduler/RECONCILE'],
    'master/messages_framework_to_executor': ['scheduler/MESSAGE'],
    'master/messages_resource_request': ['scheduler/REQUEST'],
    'master/messages_status_update_acknowledgement': ['scheduler/ACKNOWLEDGE'],
    'master/messages_register_slave': ['agent/register'],
    'master/messages_status_update': ['agent/status'],
  };
  for (const [name, types] of Object.entries(messages)) out[name] = types.reduce((n, t) => n + (calls.get(t) ?? 0), 0);
  // Per framework, as Mesos names them: master/frameworks/<url-encoded name>/<id>/offers/<event>.
  const names = new Map(s.frameworks.map((fw) => [String(fw.id), fw.info.name]));
  for (const fw of s.frameworks) {
    if (fw.removedAt !== undefined) continue;
    for (const event of ['sent', 'accepted', 'declined', 'rescinded']) out[`master/frameworks/${encodeURIComponent(fw.info.name)}/${fw.id}/offers/${event}`] = 0;
  }
  for (const v of (await metrics.offers.get()).values) {
    const id = String(v.labels.framework_id);
    const name = names.get(id);
    const key = `master/frameworks/${encodeURIComponent(name ?? '')}/${id}/offers/${String(v.labels.event)}`;
    if (name !== undefined && key in out) out[key] = v.value;
  }
  out['allocator/mesos/allocation_runs'] = metrics.rounds.count;
  out['allocator/mesos/allocation_run_ms'] = metrics.rounds.lastMs;
  out['allocator/mesos/allocation_run_ms/count'] = metrics.rounds.count;
  for (const [name, r] of [['cpus', 'cpus'], ['mem', 'mem'], ['disk', 'disk']] as const) {
    out[`allocator/mesos/resources/${name}/total`] = f.resources.total[r];
    out[`allocator/mesos/resources/${name}/offered_or_allocated`] = f.resources.used[r] + f.resources.offered[r];
  }
  for (const [role, share] of Object.entries(f.shares)) out[`allocator/mesos/roles/${role}/shares/dominant`] = share;
  return out;
}
