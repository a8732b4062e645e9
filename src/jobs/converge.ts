import type { ClusterAgent } from './agents.js';
import { hasLiveTask, type InstanceDoc, type JobDoc, type JobStatusDoc, type KillCause } from './model.js';
import { eligibleZones, planRebalance, type RebalancePlan } from './rebalance.js';
import { rolloutStep } from './rollout.js';
import { chooseScaleDownVictims } from './scale.js';

// What one step does to one job to move it towards its spec, decided without doing it: delete
// (kill every task, drop the slots, then the job), scale (new slots, or the surplus killed or
// dropped), pending slots taking the current spec, a new rebalance request (the surplus of
// crowded zones marked to move), the rolling update and the moves within maxUnavailable,
// launches that never got going, and KILLs to ask again. Pure: the framework stores the slot
// changes, then sends the KILLs (a kill is recorded before it is sent).
//
// The phases run in that order over a working copy of the slots, each seeing what the ones
// before it decided (a slot marked to move is what the rollout then kills).

export interface ConvergeInput {
  readonly job: JobDoc;
  readonly status: JobStatusDoc | undefined;
  /** The job's slots as stored. */
  readonly instances: readonly InstanceDoc[];
  /** The agents known: the zones a rebalance may spread over. */
  readonly agents: readonly ClusterAgent[];
  /** When a KILL was last sent, by task id. */
  readonly killSent: ReadonlyMap<string, number>;
  readonly now: number;
  /** A task not RUNNING this long after its launch is replaced. */
  readonly launchTimeoutMs: number;
  /** A KILL with no answer is sent again after this. */
  readonly killRetryMs: number;
}

export interface KillOrder {
  readonly index: number;
  readonly taskId: string;
  readonly agentId?: string;
  /** Why this step kills it (a retry: the cause the slot was marked with). */
  readonly cause: KillCause;
  /** Asked again: the KILL sent earlier had no answer yet. */
  readonly retry: boolean;
}

export interface JobPlan {
  /** Slot documents to store (new or changed), lowest slot first. */
  readonly writes: readonly InstanceDoc[];
  /** Slots to drop. */
  readonly removals: readonly number[];
  /** KILLs to send once the writes are stored, in order. */
  readonly kills: readonly KillOrder[];
  /** A rebalance request handled: the job's new status and the moves marked. */
  readonly rebalance?: { readonly status: JobStatusDoc; readonly plan: RebalancePlan };
  /** The job is being deleted and no slot is left: its document goes. */
  readonly deleteJob: boolean;
  /** The slots as the plan leaves them, lowest first. */
  readonly instances: readonly InstanceDoc[];
}

export function planConverge(input: ConvergeInput): JobPlan {
  const { job, now } = input;
  const spec = job.spec;
  const stored = new Map(input.instances.map((d) => [d.index, d]));
  const slots = new Map(stored);
  const killSent = new Map(input.killSent);
  const kills: KillOrder[] = [];
  let rebalance: JobPlan['rebalance'];

  const sorted = (): InstanceDoc[] => [...slots.values()].sort((a, b) => a.index - b.index);
  const put = (doc: InstanceDoc): void => void slots.set(doc.index, doc);
  const send = (doc: InstanceDoc, cause: KillCause, retry: boolean): void => {
    kills.push({ index: doc.index, taskId: doc.taskId!, ...(doc.agentId !== undefined ? { agentId: doc.agentId } : {}), cause, retry });
    killSent.set(doc.taskId!, now);
  };
  /** Marks the slot's task to be killed for `cause` (unless already marked) and orders the KILL. */
  const kill = (doc: InstanceDoc, cause: KillCause): void => {
    if (doc.taskId === undefined) return;
    if (doc.kill === undefined) put({ ...doc, kill: cause, state: 'killing', ...(cause === 'scale' ? { remove: true } : {}), updatedAt: now });
    send(doc, cause, false);
  };
  /** Kills can be lost (the master or an agent restarting, or this framework): ask again. */
  const retryKills = (): void => {
    for (const doc of sorted()) {
      if (doc.taskId !== undefined && doc.kill !== undefined && now - (killSent.get(doc.taskId) ?? 0) >= input.killRetryMs) send(doc, doc.kill, true);
    }
  };
  const done = (deleteJob: boolean): JobPlan => ({
    writes: sorted().filter((d) => stored.get(d.index) !== d),
    removals: [...stored.keys()].filter((index) => !slots.has(index)).sort((a, b) => a - b),
    kills,
    ...(rebalance ? { rebalance } : {}),
    deleteJob,
    instances: sorted(),
  });

  if (job.deleting) {
    for (const doc of sorted()) {
      // The delete marker replaces any other cause: the slot goes when its task ends.
      if (hasLiveTask(doc)) {
        if (doc.kill !== 'delete') kill({ ...doc, kill: undefined }, 'delete');
      } else slots.delete(doc.index);
    }
    retryKills();
    return done(slots.size === 0);
  }

  // Slots scaled away whose task is gone (e.g. ended while the framework was away) go now.
  for (const doc of sorted()) if (doc.remove === true && !hasLiveTask(doc)) slots.delete(doc.index);

  // Scale: add slots, or remove the surplus (the ones not serving first, then by crowded zone).
  const active = sorted().filter((d) => d.remove !== true);
  if (active.length < spec.instances) {
    let next = Math.max(-1, ...slots.keys()) + 1;
    for (let n = active.length; n < spec.instances; n++) put({ index: next++, state: 'pending', specVersion: job.specVersion, launches: 0, failures: 0, updatedAt: now });
  } else if (active.length > spec.instances) {
    for (const victim of chooseScaleDownVictims(active, active.length - spec.instances)) {
      if (hasLiveTask(victim)) kill(victim, 'scale');
      else slots.delete(victim.index);
    }
  }

  // Slots waiting for a task take the current spec.
  for (const doc of sorted()) if (doc.state === 'pending' && doc.specVersion < job.specVersion) put({ ...doc, specVersion: job.specVersion, updatedAt: now });

  // A new rebalance request: mark the surplus of crowded zones to move.
  if (job.rebalanceRequests > (input.status?.rebalanceHandled ?? 0)) {
    const plan = planRebalance(sorted(), eligibleZones(spec, input.agents));
    for (const index of plan.victims) put({ ...slots.get(index)!, move: true, updatedAt: now });
    rebalance = { status: { rebalanceHandled: job.rebalanceRequests, lastRebalance: { at: now, moves: plan.moves } }, plan };
  }

  // Rolling update and moves, within maxUnavailable.
  for (const k of rolloutStep(sorted(), spec, job.specVersion).kill) {
    const doc = slots.get(k.index);
    if (doc) kill(doc, k.cause);
  }

  // A launch that never got going: replace it (counted as a failure when its task ends).
  for (const doc of sorted()) {
    if (doc.taskId === undefined || doc.kill !== undefined || doc.state === 'running' || doc.launchedAt === undefined) continue;
    if (now - doc.launchedAt >= input.launchTimeoutMs) kill(doc, 'timeout');
  }
  retryKills();
  return done(false);
}
