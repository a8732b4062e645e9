import { isAvailable } from '../../jobs/model.js';
import type { JobsStore } from '../../jobs/store.js';
import { FEDERATED_HOME_LABEL, federatedIdOf, specHash } from './child-job.js';

// The child jobs this region runs for federated jobs, as its digest reports them and as the
// owner (when it is this region) reads them directly: what each was asked, runs and cannot place.

export interface ChildStatus {
  readonly id: string;
  readonly home: string | undefined;
  /** Instances asked (0 while the child is being deleted). */
  readonly wanted: number;
  readonly running: number;
  readonly healthy: number;
  readonly pending: number;
  /** Pending for a resource shortfall, explained so for at least the settle time. */
  readonly unplaceable: number;
  readonly specHash: string;
  readonly deleting: boolean;
}

/**
 * Every child job in the region's jobs store, by federated job id. A pending instance counts as
 * unplaceable once Fenzo has said "no room" about it for `settleMs`: a moment without offers
 * (right after a scale-up) is not a shortage.
 */
export async function localChildren(store: JobsStore, now: number, settleMs: number): Promise<Map<string, ChildStatus>> {
  const out = new Map<string, ChildStatus>();
  for (const [, job] of await store.listJobs()) {
    const id = federatedIdOf(job.doc.spec);
    if (id === undefined) continue;
    const instances = (await store.listInstances(job.doc.spec.name)).map((i) => i.doc).filter((i) => i.remove !== true);
    const pending = instances.filter((i) => i.state === 'pending');
    out.set(id, {
      id,
      home: job.doc.spec.labels[FEDERATED_HOME_LABEL],
      wanted: job.doc.deleting ? 0 : job.doc.spec.instances,
      running: instances.filter((i) => i.state === 'running').length,
      healthy: instances.filter((i) => isAvailable(i, job.doc.spec)).length,
      pending: pending.length,
      unplaceable: pending.filter((i) => i.pending?.shortfall === true && now - i.pending.at >= settleMs).length,
      specHash: specHash(job.doc.spec),
      deleting: job.doc.deleting === true,
    });
  }
  return out;
}
