import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { add, EMPTY, toSpec, type Resources } from '../core/resources.js';
import { isTaskState, isTerminal } from '../core/task-state.js';
import type { AgentEvent, AgentListener } from './agent-events.js';

// One agent's metrics: Prometheus (GET /metrics on the agent endpoint), one Registry per agent
// so that several agents in one process keep theirs apart, and Mesos's names for
// GET /metrics/snapshot. Counters come from the agent's events (work received, status updates
// reported and delivered); gauges from its tasks and journal when scraped.

export interface AgentMetricsSource {
  registered(): boolean;
  /** The agent's tasks with their latest state (`TASK_RUNNING`...). */
  tasks(): readonly { readonly framework_id: string; readonly task_id: string; readonly state: string }[];
  /** Status updates in the journal not yet acknowledged. */
  pendingUpdates(): readonly unknown[];
  /** What the agent offers the region, once known. */
  total(): Resources | undefined;
  subscribe(listener: AgentListener): () => void;
}

const MIB = 1024 * 1024;
const key = (t: { readonly framework_id: string; readonly task_id: string }): string => `${t.framework_id}/${t.task_id}`;

export class AgentMetrics {
  readonly registry = new Registry();
  readonly startedAt: number;
  private readonly launches = new Histogram({
    name: 'stratus_agent_task_launch_duration_seconds',
    help: 'From the launch reaching the agent to the task running',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly launchErrors = new Counter({ name: 'stratus_agent_task_launch_errors_total', help: 'Tasks that failed before they ran (Mesos: slave/container_launch_errors)', registers: [this.registry] });
  private readonly updates = new Counter({ name: 'stratus_agent_status_updates_total', help: 'Status updates the agent reported, by state', labelNames: ['state'] as const, registers: [this.registry] });
  private readonly delivered = new Counter({ name: 'stratus_agent_status_update_results_total', help: "The master's answers to status updates, by result", labelNames: ['result'] as const, registers: [this.registry] });
  private readonly running = new Gauge({ name: 'stratus_agent_containers_running', help: 'Containers (tasks) running on this agent', registers: [this.registry] });
  private readonly tasksGauge = new Gauge({ name: 'stratus_agent_tasks', help: 'Non-terminal tasks on this agent by state', labelNames: ['state'] as const, registers: [this.registry] });
  private readonly pending = new Gauge({ name: 'stratus_agent_status_updates_pending', help: 'Status updates in the journal awaiting acknowledgement (the backlog)', registers: [this.registry] });
  private readonly registered = new Gauge({ name: 'stratus_agent_registered', help: '1 when the agent is registered with the master', registers: [this.registry] });
  private readonly uptime = new Gauge({ name: 'stratus_agent_uptime_seconds', help: 'Seconds since the agent started', registers: [this.registry] });
  private readonly cpus = new Gauge({ name: 'stratus_agent_cpus', help: "The agent's CPUs: total, used by its tasks", labelNames: ['kind'] as const, registers: [this.registry] });
  private readonly mem = new Gauge({ name: 'stratus_agent_mem_bytes', help: "The agent's memory: total, used by its tasks", labelNames: ['kind'] as const, registers: [this.registry] });
  private readonly disk = new Gauge({ name: 'stratus_agent_disk_bytes', help: "The agent's disk: total, used by its tasks", labelNames: ['kind'] as const, registers: [this.registry] });

  /** When each launch first reached the agent (performance.now()), until the task runs or ends. */
  private readonly launching = new Map<string, number>();
  /** The resources each task was launched with. */
  private readonly resources = new Map<string, Resources>();
  /** Terminal updates reported, by state (Mesos's slave/tasks_<state> counters). */
  readonly terminal = new Map<string, number>();
  private readonly results = new Map<string, number>();
  private launchErrorCount = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly source: AgentMetricsSource,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
    this.unsubscribe = source.subscribe((e) => this.on(e));
  }

  close(): void {
    this.unsubscribe();
  }

  private on(e: AgentEvent): void {
    if (e.type === 'work') {
      for (const l of e.launch) {
        const k = key(l);
        if (!this.launching.has(k) && !this.resources.has(k)) this.launching.set(k, e.at);
        if (l.resources !== undefined) this.resources.set(k, l.resources);
      }
    } else if (e.type === 'status') {
      const k = key(e.update);
      const state = e.update.state.replace(/^TASK_/, '');
      this.updates.inc({ state: e.update.state });
      const since = this.launching.get(k);
      if (state === 'RUNNING' && since !== undefined) {
        this.launches.observe((e.at - since) / 1000);
        this.launching.delete(k);
      }
      if (isTaskState(state) && isTerminal(state)) {
        if (since !== undefined && (state === 'FAILED' || state === 'ERROR')) {
          this.launchErrors.inc();
          this.launchErrorCount++;
        }
        this.launching.delete(k);
        this.resources.delete(k);
        this.terminal.set(state, (this.terminal.get(state) ?? 0) + 1);
      }
    } else if (e.type === 'delivered') {
      this.delivered.inc({ result: e.result });
      this.results.set(e.result, (this.results.get(e.result) ?? 0) + 1);
    }
  }

  private figures(): { tasks: Map<string, number>; total: Resources; used: Resources; pending: number } {
    const tasks = new Map<string, number>();
    let used = EMPTY;
    for (const t of this.source.tasks()) {
      const state = t.state.replace(/^TASK_/, '');
      if (isTaskState(state) && isTerminal(state)) continue;
      tasks.set(state, (tasks.get(state) ?? 0) + 1);
      const r = this.resources.get(key(t));
      if (r) used = add(used, r);
    }
    return { tasks, total: this.source.total() ?? EMPTY, used, pending: this.source.pendingUpdates().length };
  }

  /** Sets the gauges from the agent now; call before rendering the registry. */
  refresh(): void {
    const f = this.figures();
    this.tasksGauge.reset();
    for (const state of ['STAGING', 'STARTING', 'RUNNING', 'KILLING']) this.tasksGauge.set({ state: `TASK_${state}` }, f.tasks.get(state) ?? 0);
    this.running.set(f.tasks.get('RUNNING') ?? 0);
    this.pending.set(f.pending);
    this.registered.set(this.source.registered() ? 1 : 0);
    this.uptime.set((this.now() - this.startedAt) / 1000);
    const total = toSpec(f.total);
    const used = toSpec(f.used);
    this.cpus.set({ kind: 'total' }, total.cpus);
    this.cpus.set({ kind: 'used' }, used.cpus);
    this.mem.set({ kind: 'total' }, total.mem * MIB);
    this.mem.set({ kind: 'used' }, used.mem * MIB);
    this.disk.set({ kind: 'total' }, total.disk * MIB);
    this.disk.set({ kind: 'used' }, used.disk * MIB);
  }

  /** Mesos's metrics/snapshot of an agent (slave/...). */
  snapshot(): Record<string, number> {
    const f = this.figures();
    const total = toSpec(f.total);
    const used = toSpec(f.used);
    const out: Record<string, number> = {
      'slave/uptime_secs': (this.now() - this.startedAt) / 1000,
      'slave/registered': this.source.registered() ? 1 : 0,
      'slave/executors_running': f.tasks.get('RUNNING') ?? 0,
      'slave/container_launch_errors': this.launchErrorCount,
      'slave/valid_status_updates': (this.results.get('applied') ?? 0) + (this.results.get('duplicate') ?? 0) + (this.results.get('acknowledged') ?? 0),
      'slave/invalid_status_updates': (this.results.get('rejected') ?? 0) + (this.results.get('unknown_task') ?? 0),
    };
    for (const state of ['STAGING', 'STARTING', 'RUNNING', 'KILLING']) out[`slave/tasks_${state.toLowerCase()}`] = f.tasks.get(state) ?? 0;
    for (const state of ['FINISHED', 'FAILED', 'KILLED', 'LOST', 'GONE']) out[`slave/tasks_${state.toLowerCase()}`] = this.terminal.get(state) ?? 0;
    for (const r of ['cpus', 'mem', 'disk'] as const) {
      out[`slave/${r}_total`] = total[r];
      out[`slave/${r}_used`] = used[r];
      out[`slave/${r}_percent`] = total[r] > 0 ? used[r] / total[r] : 0;
    }
    return out;
  }
}
