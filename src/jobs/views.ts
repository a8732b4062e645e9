import type { FailureReason } from '../fenzo/index.js';
import { hasLiveTask, type InstanceDoc, type JobDoc, type JobStatusDoc } from './model.js';
import type { JobConstraint, JobSpec } from './spec.js';
import type { JobCounts } from '../wire/jobs-api.js';

export type { JobCounts } from '../wire/jobs-api.js';

// What the API shows of jobs and instances, and what the autoscaler reads: the instances
// waiting for placement with Fenzo's reasons from the latest pass.

export type JobState = 'running' | 'deploying' | 'pending' | 'finished' | 'failed' | 'deleting';

export interface InstanceView {
  readonly index: number;
  readonly state: InstanceDoc['state'];
  readonly taskId?: string;
  readonly agentId?: string;
  readonly hostname?: string;
  readonly zone?: string;
  readonly healthy?: boolean;
  readonly specVersion: number;
  /** Runs an older spec than the job's (a rolling update will replace it). */
  readonly outdated: boolean;
  readonly launches: number;
  readonly failures: number;
  readonly backoffUntil?: number;
  readonly lastExit?: InstanceDoc['lastExit'];
  /** For a pending instance: why Fenzo could not place it in the latest pass. */
  readonly pending?: { readonly message: string; readonly reasons: readonly FailureReason[]; readonly shortfall: boolean; readonly at: number };
}

export interface JobView {
  readonly name: string;
  readonly type: JobSpec['type'];
  readonly state: JobState;
  readonly specVersion: number;
  readonly spec: JobSpec;
  readonly counts: JobCounts;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly rebalance: { readonly requested: number; readonly handled: number; readonly last?: JobStatusDoc['lastRebalance'] };
  /** Pending instances and why (Fenzo's failure messages). */
  readonly pending: readonly { readonly index: number; readonly message: string }[];
}

export interface JobDetail extends JobView {
  readonly instances: readonly InstanceView[];
}

export function instanceView(i: InstanceDoc, specVersion: number): InstanceView {
  return {
    index: i.index,
    state: i.state,
    ...(i.taskId !== undefined ? { taskId: i.taskId } : {}),
    ...(i.agentId !== undefined ? { agentId: i.agentId } : {}),
    ...(i.hostname !== undefined ? { hostname: i.hostname } : {}),
    ...(i.zone !== undefined ? { zone: i.zone } : {}),
    ...(i.healthy !== undefined ? { healthy: i.healthy } : {}),
    specVersion: i.specVersion,
    outdated: i.specVersion < specVersion,
    launches: i.launches,
    failures: i.failures,
    ...(i.backoffUntil !== undefined && i.state === 'pending' ? { backoffUntil: i.backoffUntil } : {}),
    ...(i.lastExit ? { lastExit: i.lastExit } : {}),
    ...(i.pending && i.state === 'pending' ? { pending: i.pending } : {}),
  };
}

export function jobCounts(job: JobDoc, instances: readonly InstanceDoc[]): JobCounts {
  const live = instances.filter((i) => i.remove !== true);
  const count = (...states: InstanceDoc['state'][]): number => live.filter((i) => states.includes(i.state)).length;
  return {
    desired: job.spec.instances,
    running: count('running'),
    starting: count('launching', 'staging', 'starting'),
    pending: count('pending'),
    killing: count('killing'),
    finished: count('finished'),
    failed: count('failed'),
    outdated: live.filter((i) => i.specVersion < job.specVersion && hasLiveTask(i)).length,
  };
}

export function jobState(job: JobDoc, instances: readonly InstanceDoc[]): JobState {
  if (job.deleting) return 'deleting';
  const c = jobCounts(job, instances);
  if (job.spec.type === 'batch') {
    if (c.finished >= job.spec.instances) return 'finished';
    if (c.failed > 0 && c.running + c.starting + c.pending + c.killing === 0) return 'failed';
  }
  if (c.running === 0 && c.starting === 0 && c.pending > 0) return 'pending';
  if (job.spec.type === 'service' && c.running === job.spec.instances && c.outdated === 0 && live(instances) === job.spec.instances) return 'running';
  if (job.spec.type === 'batch') return 'running';
  return 'deploying';
}

function live(instances: readonly InstanceDoc[]): number {
  return instances.filter((i) => i.remove !== true).length;
}

export function jobView(name: string, job: JobDoc, status: JobStatusDoc | undefined, instances: readonly InstanceDoc[]): JobView {
  return {
    name,
    type: job.spec.type,
    state: jobState(job, instances),
    specVersion: job.specVersion,
    spec: job.spec,
    counts: jobCounts(job, instances),
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    rebalance: {
      requested: job.rebalanceRequests,
      handled: status?.rebalanceHandled ?? 0,
      ...(status?.lastRebalance ? { last: status.lastRebalance } : {}),
    },
    pending: instances.filter((i) => i.state === 'pending' && i.remove !== true).map((i) => ({ index: i.index, message: pendingMessage(i) })),
  };
}

export function pendingMessage(i: InstanceDoc, now = Date.now()): string {
  if (i.backoffUntil !== undefined && i.backoffUntil > now) return `backing off for ${Math.ceil((i.backoffUntil - now) / 1000)} s after ${i.failures} failure(s)`;
  return i.pending?.message ?? 'waiting for offers';
}

export function jobDetail(name: string, job: JobDoc, status: JobStatusDoc | undefined, instances: readonly InstanceDoc[]): JobDetail {
  return { ...jobView(name, job, status, instances), instances: instances.map((i) => instanceView(i, job.specVersion)) };
}

/** A task the jobs framework wants placed and could not place (the autoscaler's input). */
export interface PendingTask {
  readonly job: string;
  readonly instance: number;
  /** Per task, in user units. */
  readonly resources: { readonly cpus: number; readonly mem: number; readonly disk: number; readonly ports: number };
  readonly zoneSpread: JobSpec['zoneSpread'];
  readonly constraints: readonly JobConstraint[];
  /** Fenzo's reasons from the latest pass (empty when no pass has looked at it yet). */
  readonly reasons: readonly FailureReason[];
  readonly message: string;
  /**
   * `resource`: more or bigger hosts would place it (scale up); `constraint`: policy keeps it
   * out (more hosts of the right zone/attribute might); `unevaluated`: no pass has seen it yet.
   */
  readonly kind: 'resource' | 'constraint' | 'unevaluated';
  /** When the latest pass said so. */
  readonly at?: number;
}

export function pendingTask(spec: JobSpec, i: InstanceDoc): PendingTask {
  const p = i.pending;
  return {
    job: spec.name,
    instance: i.index,
    resources: { cpus: spec.cpus, mem: spec.mem, disk: spec.disk, ports: spec.ports },
    zoneSpread: spec.zoneSpread,
    constraints: spec.constraints,
    reasons: p?.reasons ?? [],
    message: p?.message ?? 'not evaluated yet',
    kind: p === undefined ? 'unevaluated' : p.shortfall ? 'resource' : 'constraint',
    ...(p ? { at: p.at } : {}),
  };
}
