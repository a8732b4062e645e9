import { MAX_JOBS_PER_DIGEST, REGION_NAME, type FederatedDefinition, type FederatedJobSummary } from '../gossip/digest.js';
import { byName, childrenOf, type ControllerContext } from './controller-context.js';
import type { FederatedJobDoc, VersionedJob } from './federated-job.js';

// What this region's digest says about federated jobs (the gossip's `federatedJobs`): for every
// job it keeps a definition of or runs a child of, its view of the owner and how its child is
// doing; for the jobs it owns, also the definition, so that peers keep replicas. Definitions
// take turns when they do not all fit the budget of one digest.

export class JobSummaries {
  private cursor = 0;
  /** The definitions as the latest round left them: the next digest reuses them instead of reading again. */
  private snapshot: { at: number; stored: ReadonlyMap<string, VersionedJob> } | undefined;

  constructor(private readonly ctx: ControllerContext) {}

  /** Keeps the definitions a round ends with, for the digest sent next. */
  remember(stored: ReadonlyMap<string, VersionedJob>): void {
    this.snapshot = { at: this.ctx.clock(), stored };
  }

  /** An API change: the next digest reads the definitions afresh. */
  forget(): void {
    this.snapshot = undefined;
  }

  async summaries(): Promise<FederatedJobSummary[]> {
    const wall = this.ctx.wallClock();
    const snap = this.snapshot;
    const [stored, children] = await Promise.all([snap && this.ctx.clock() - snap.at < this.ctx.interval ? snap.stored : this.ctx.store.list(), childrenOf(this.ctx, wall)]);
    const ids = [...new Set([...stored.keys(), ...children.keys()])].sort(byName).slice(0, MAX_JOBS_PER_DIGEST);
    const owned = ids.filter((id) => stored.get(id)?.doc.owner === this.ctx.region);
    const withDefinition = this.definitionTurn(owned.map((id) => stored.get(id)!.doc));
    return ids.map((id) => {
      const doc = stored.get(id)?.doc;
      const child = children.get(id);
      const home = doc?.home ?? (child?.home !== undefined && REGION_NAME.test(child.home) ? child.home : this.ctx.region);
      return {
        jobId: id,
        home,
        owner: doc?.owner ?? home,
        ownerTerm: doc?.ownerTerm ?? 0,
        wanted: child?.wanted ?? 0,
        running: child?.running ?? 0,
        healthy: child?.healthy ?? 0,
        ...(child ? { pending: child.pending, unplaceable: child.unplaceable, specHash: child.specHash } : {}),
        ...(doc && withDefinition.has(id) ? { definition: definitionOf(doc) } : {}),
      };
    });
  }

  /** The owned jobs whose definitions go in this digest: all that fit the budget, taking turns. */
  private definitionTurn(owned: readonly FederatedJobDoc[]): Set<string> {
    const out = new Set<string>();
    if (owned.length === 0) return out;
    const start = this.cursor % owned.length;
    let bytes = 0;
    for (let k = 0; k < owned.length; k++) {
      const doc = owned[(start + k) % owned.length]!;
      const size = Buffer.byteLength(JSON.stringify(definitionOf(doc)));
      if (k > 0 && bytes + size > this.ctx.config.definitionBytesPerDigest) {
        this.cursor = (start + k) % owned.length;
        return out;
      }
      bytes += size;
      out.add(doc.id);
    }
    this.cursor = 0;
    return out;
  }
}

/** A stored definition as its owner replicates it in a digest. */
function definitionOf(doc: FederatedJobDoc): FederatedDefinition {
  return {
    generation: doc.generation,
    policy: doc.policy,
    spec: doc.spec as unknown as Record<string, unknown>,
    targets: { ...doc.targets },
    displaced: [...doc.displaced],
    ...(doc.deleting ? { deleting: true } : {}),
    createdAt: doc.createdAt,
  };
}
