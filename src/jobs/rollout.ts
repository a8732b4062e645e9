import { isAvailable, type InstanceDoc, type KillCause } from './model.js';
import type { JobSpec } from './spec.js';

// Rolling updates and rebalance moves share one budget: never more than maxUnavailable of the
// job's instances not available (running, and healthy when checked) at once. Each step kills
// as many outdated or to-be-moved instances as the budget allows; each comes back as a new
// task, and the next ones go once it is available again.

export interface RolloutStep {
  readonly kill: readonly { readonly index: number; readonly cause: KillCause }[];
  /** Instances still to replace (outdated or marked to move). */
  readonly remaining: number;
}

export function rolloutStep(instances: readonly InstanceDoc[], spec: JobSpec, specVersion: number): RolloutStep {
  const live = instances.filter((i) => i.remove !== true && i.state !== 'finished' && i.state !== 'failed');
  const unavailable = live.filter((i) => !isAvailable(i, spec)).length;
  let budget = spec.maxUnavailable - unavailable;
  const due = live.filter((i) => i.kill === undefined && i.taskId !== undefined && (i.specVersion < specVersion || i.move === true));
  // Outdated first (the update the user asked for), then moves; lowest slot first.
  due.sort((a, b) => Number(b.specVersion < specVersion) - Number(a.specVersion < specVersion) || a.index - b.index);
  const kill: { index: number; cause: KillCause }[] = [];
  for (const i of due) {
    // Only an available instance costs budget to take down; a not-running one is already counted.
    if (isAvailable(i, spec)) {
      if (budget <= 0) continue;
      budget--;
    }
    kill.push({ index: i.index, cause: i.specVersion < specVersion ? 'update' : 'rebalance' });
  }
  return { kill, remaining: due.length };
}
