import { NotFoundError } from '../../core/errors.js';
import { childName } from './child-job.js';
import { regionsOf, type ControllerContext } from './controller-context.js';
import type { FederatedJobDoc, VersionedJob } from './federated-job.js';
import { successor } from './ownership.js';
import type { RegionLiveness } from './plan.js';
import type { RoundView } from './round-view.js';

// A region's part in the federated jobs it does not own: it takes one over when the owner is
// dead and this region is its successor (the controller then reconciles it as its owner), and
// it tidies up after jobs deleted while it was away: replicas of deleted jobs, replicas and
// children of jobs their live owner no longer lists, and children no live region has heard of.
// Nothing is removed on one round's evidence: the suspicion has to hold for the orphan delay.

export class Follower {
  private readonly orphanSince = new Map<string, number>();

  constructor(private readonly ctx: ControllerContext) {}

  /** Takes `job` over when its owner is dead and this region is next; the job as stored now, or undefined when it stays with its owner. */
  async takeOver(view: RoundView, job: VersionedJob): Promise<VersionedJob | undefined> {
    const doc = job.doc;
    const ownerState: RegionLiveness = view.regions.get(doc.owner)?.state ?? (view.warm ? 'dead' : 'unknown');
    if (!view.warm || !view.quorate || ownerState !== 'dead') return undefined;
    const next = successor(doc.home, regionsOf(this.ctx), doc.owner, (r) => view.regions.get(r)?.state === 'alive');
    if (next !== this.ctx.region) return undefined;
    const taken: FederatedJobDoc = { ...doc, owner: this.ctx.region, ownerTerm: doc.ownerTerm + 1, generation: doc.generation + 1, updatedAt: view.wall };
    const version = await this.ctx.store.put(taken, job.version, view.epoch);
    this.ctx.stats.takeovers++;
    this.ctx.log.info('took over a federated job from a dead owner', { id: doc.id, from: doc.owner, term: taken.ownerTerm });
    return { doc: taken, version };
  }

  /** A job owned elsewhere: removes the replica (and child) once the job is gone. Updates `stored`. */
  async cleanUp(view: RoundView, job: VersionedJob, stored: Map<string, VersionedJob>): Promise<void> {
    const doc = job.doc;
    const owner = view.regions.get(doc.owner);
    const child = view.children.get(doc.id);
    if (doc.deleting && !child) {
      await this.ctx.store.remove(doc.id, job.version, view.epoch);
      stored.delete(doc.id);
      return;
    }
    // The owner is alive and lists the job no more: it was deleted while this region was away.
    const forgotten = owner?.state === 'alive' && owner.complete && !owner.jobs.has(doc.id);
    if (!this.orphaned(view, doc.id, forgotten && view.warm)) return;
    if (child) await this.ctx.jobs.api.remove(childName(doc.id)).catch((e: unknown) => (e instanceof NotFoundError ? undefined : Promise.reject(e)));
    await this.ctx.store.remove(doc.id, job.version, view.epoch);
    stored.delete(doc.id);
    this.ctx.stats.orphansRemoved++;
    this.ctx.log.info('removed a federated job its owner no longer has', { id: doc.id, owner: doc.owner, child: child !== undefined });
  }

  /** Children with no definition here: removed once no live region has heard of their job for a while. */
  async removeStrayChildren(view: RoundView, stored: ReadonlyMap<string, VersionedJob>): Promise<void> {
    for (const c of view.children.values()) {
      if (stored.has(c.id)) continue;
      const peers = [...view.regions.values()].filter((r) => r.name !== this.ctx.region && r.state === 'alive');
      const known = peers.some((r) => r.jobs.has(c.id) || !r.complete);
      if (!this.orphaned(view, c.id, view.warm && view.quorate && !known) || c.deleting) continue;
      await this.ctx.jobs.api.remove(childName(c.id)).catch((e: unknown) => (e instanceof NotFoundError ? undefined : Promise.reject(e)));
      this.ctx.stats.orphansRemoved++;
      this.ctx.log.info('removed the child of a federated job no region knows', { id: c.id });
    }
  }

  /** True once `suspect` has held for the orphan delay without a break. */
  private orphaned(view: RoundView, id: string, suspect: boolean): boolean {
    if (!suspect) {
      this.orphanSince.delete(id);
      return false;
    }
    const since = this.orphanSince.get(id) ?? view.now;
    this.orphanSince.set(id, since);
    if (view.now - since < this.ctx.config.orphanAfterIntervals * this.ctx.interval) return false;
    this.orphanSince.delete(id);
    return true;
  }
}
