import { isResourceShortfall, type TaskAssignmentFailure, type VMTaskFitnessCalculator } from '../fenzo/index.js';
import type { Offer, TaskInfo } from '../sdk/index.js';
import type { ClusterAgent } from './agents.js';
import { clean, hasLiveTask, type InstanceDoc, type JobDoc } from './model.js';
import { place, ZONE_ATTRIBUTE, type PendingInstance, type PlacedInstance } from './placement.js';
import { buildTaskInfo } from './task-info.js';

// One placement pass over the offers held, decided without doing it: which slots need a task
// now (pending, not backing off), what Fenzo places where (the slot records and TaskInfos of
// each ACCEPT), why the rest waits (rewritten when the explanation changes, and now and then),
// and which offers go back. Pure (task ids come from `newTaskId`): the framework records the
// launches, then sends them.

export interface PassJob {
  readonly name: string;
  readonly job: JobDoc;
  readonly instances: readonly InstanceDoc[];
}

export interface LaunchPlanInput {
  readonly jobs: readonly PassJob[];
  /** The offers held. */
  readonly offers: readonly Offer[];
  /** Every agent known (the unreachable ones do not count). */
  readonly agents: ReadonlyMap<string, ClusterAgent>;
  readonly fitness?: VMTaskFitnessCalculator;
  readonly now: number;
  /** When the last pass ran (or offers were asked for). */
  readonly lastPassAt: number;
  /** With no offers, a pass still runs this often to keep pending reasons current. */
  readonly reasonsRefreshMs: number;
  readonly newTaskId: (job: string, index: number) => string;
}

export interface TaskLaunch {
  readonly job: string;
  readonly index: number;
  readonly taskId: string;
  /** The slot as recorded before the launch is sent. */
  readonly doc: InstanceDoc;
  readonly info: TaskInfo;
}

/** One ACCEPT: tasks on one agent, from its offers. */
export interface HostLaunch {
  readonly agentId: string;
  readonly hostname: string;
  readonly offerIds: readonly string[];
  readonly tasks: readonly TaskLaunch[];
}

export interface SlotChange {
  readonly job: string;
  readonly doc: InstanceDoc;
}

export type LaunchPlan =
  /** Nothing waits: every offer held goes back (for longer). */
  | { readonly kind: 'idle'; readonly launchable: readonly string[] }
  /** No offers, and the reasons were refreshed lately: nothing to do. */
  | { readonly kind: 'wait'; readonly launchable: readonly string[] }
  | {
      readonly kind: 'pass';
      /** `<job>/<index>` of the slots that need a task now. */
      readonly launchable: readonly string[];
      readonly launches: readonly HostLaunch[];
      /** Pending reasons to store. */
      readonly reasons: readonly SlotChange[];
      /** Fenzo's failures of this pass, by `<job>/<index>`. */
      readonly failures: ReadonlyMap<string, TaskAssignmentFailure>;
      /** Offers this pass considered and no launch uses: to decline. */
      readonly decline: readonly string[];
    };

export function slotKey(job: string, index: number): string {
  return `${job}/${index}`;
}

const byIndex = (a: InstanceDoc, b: InstanceDoc): number => a.index - b.index;

/** Slots that need a task now: pending and not backing off, by job name then slot. */
export function launchableSlots(jobs: readonly PassJob[], now: number): { job: PassJob; doc: InstanceDoc }[] {
  const out: { job: PassJob; doc: InstanceDoc }[] = [];
  for (const job of [...jobs].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (job.job.deleting) continue;
    for (const doc of [...job.instances].sort(byIndex)) {
      if (doc.state === 'pending' && doc.remove !== true && (doc.backoffUntil ?? 0) <= now) out.push({ job, doc });
    }
  }
  return out;
}

/** Tasks that hold resources on a host: the constraints count them. */
function placedTasks(jobs: readonly PassJob[]): PlacedInstance[] {
  const out: PlacedInstance[] = [];
  for (const job of jobs) {
    for (const doc of job.instances) if (hasLiveTask(doc) && doc.hostname !== undefined) out.push({ taskId: doc.taskId!, spec: job.job.spec, hostname: doc.hostname });
  }
  return out;
}

export function planLaunches(input: LaunchPlanInput): LaunchPlan {
  const { now } = input;
  const launchable = launchableSlots(input.jobs, now);
  const keys = launchable.map(({ job, doc }) => slotKey(job.name, doc.index));
  if (launchable.length === 0) return { kind: 'idle', launchable: keys };
  const haveOffers = input.offers.length > 0;
  // Without offers a pass only refreshes the reasons (every host busy or none at all).
  if (!haveOffers && now - input.lastPassAt < input.reasonsRefreshMs) return { kind: 'wait', launchable: keys };

  const pending: PendingInstance[] = launchable.map(({ job, doc }) => ({ key: slotKey(job.name, doc.index), spec: job.job.spec }));
  const bySlot = new Map(launchable.map((l) => [slotKey(l.job.name, l.doc.index), l]));
  const reachable = new Map([...input.agents].filter(([, a]) => a.reachable));
  const { result, leases } = place({
    pending,
    offers: input.offers,
    placed: placedTasks(input.jobs),
    agents: reachable,
    ...(input.fitness ? { fitness: input.fitness } : {}),
  });

  const used = new Set<string>();
  const launches: HostLaunch[] = result.hosts.map((host) => {
    const lease = leases.get(host.agentId)!;
    for (const id of lease.offerIds) used.add(id);
    const tasks = host.tasks.map((a): TaskLaunch => {
      const { job, doc } = bySlot.get(a.taskId)!;
      const taskId = input.newTaskId(job.name, doc.index);
      const next: InstanceDoc = clean({
        ...doc,
        state: 'launching' as const,
        taskId,
        agentId: host.agentId,
        hostname: host.hostname,
        zone: lease.attributes[ZONE_ATTRIBUTE],
        taskState: undefined,
        healthy: undefined,
        runningSince: undefined,
        backoffUntil: undefined,
        pending: undefined,
        launches: doc.launches + 1,
        launchedAt: now,
        updatedAt: now,
      });
      const placement = { taskId, agentId: host.agentId, hostname: host.hostname, resources: a.resources, ...(lease.role !== undefined ? { role: lease.role } : {}) };
      return { job: job.name, index: doc.index, taskId, doc: next, info: buildTaskInfo(job.job.spec, doc.index, placement) };
    });
    return { agentId: host.agentId, hostname: host.hostname, offerIds: lease.offerIds, tasks };
  });

  // Why the others were not placed; stored when the explanation changes.
  const failures = new Map<string, TaskAssignmentFailure>();
  const reasons: SlotChange[] = [];
  for (const f of result.failures) {
    failures.set(f.taskId, f);
    const { job, doc } = bySlot.get(f.taskId)!;
    // A pass without offers only fills in instances no pass with offers has explained lately.
    if (!haveOffers && doc.pending !== undefined && now - doc.pending.at < input.reasonsRefreshMs * 2) continue;
    // The same explanation is still rewritten now and then: its `at` tells the autoscaler the
    // shortfall was checked against the current hosts, not just once long ago.
    if (doc.pending?.message === f.message && now - doc.pending.at < input.reasonsRefreshMs) continue;
    reasons.push({ job: job.name, doc: { ...doc, pending: { message: f.message, reasons: f.reasons, shortfall: isResourceShortfall(f), at: now }, updatedAt: now } });
  }

  // What no launch uses (and offers of a second role on one agent) goes back.
  const decline = input.offers.map((o) => o.id).filter((id) => !used.has(id));
  return { kind: 'pass', launchable: keys, launches, reasons, failures, decline };
}
