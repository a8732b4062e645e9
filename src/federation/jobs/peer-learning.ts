import { ConflictError } from '../../core/errors.js';
import { parseStoredSpec } from '../../jobs/spec.js';
import type { FederatedDefinition, FederatedJobSummary } from '../gossip/digest.js';
import { federatedIdOf } from './child-job.js';
import type { ControllerContext } from './controller-context.js';
import { asPolicy, newerThan, type FederatedJobDoc, type VersionedJob } from './federated-job.js';
import { bestClaim, beats, type Claim } from './ownership.js';
import type { RoundView } from './round-view.js';

// What a region learns from its peers' digests at the start of every round: newer definitions
// from their owners (kept here as replicas, so that this region can take a job over), and
// ownership claims heard second-hand (a higher term wins, see ownership.ts), before which an
// owner steps down.

/** Adopts newer definitions from their owners' digests into `stored`, and steps down before a higher claim. */
export async function learnFromPeers(ctx: ControllerContext, view: RoundView, stored: Map<string, VersionedJob>): Promise<void> {
  const offers = new Map<string, { summary: FederatedJobSummary; definition: FederatedDefinition }>();
  const claims = new Map<string, Claim[]>();
  for (const r of view.regions.values()) {
    if (r.name === ctx.region) continue;
    for (const s of r.jobs.values()) {
      const list = claims.get(s.jobId) ?? [];
      if (s.ownerTerm > 0) list.push({ owner: s.owner, term: s.ownerTerm });
      claims.set(s.jobId, list);
      if (!s.definition || s.owner !== r.name) continue;
      const best = offers.get(s.jobId);
      const candidate = { owner: s.owner, ownerTerm: s.ownerTerm, generation: s.definition.generation };
      if (!best || newerThan(candidate, { owner: best.summary.owner, ownerTerm: best.summary.ownerTerm, generation: best.definition.generation })) {
        offers.set(s.jobId, { summary: s, definition: s.definition });
      }
    }
  }
  for (const [id, { summary, definition }] of offers) {
    const local = stored.get(id);
    if (local && !newerThan({ owner: summary.owner, ownerTerm: summary.ownerTerm, generation: definition.generation }, local.doc)) continue;
    let spec;
    try {
      spec = parseStoredSpec(definition.spec);
      if (federatedIdOf(spec) !== id) throw new Error(`the spec is not job ${id}'s child (${spec.name})`);
    } catch (e) {
      ctx.log.warn('a peer sent a federated job definition that does not parse; ignored', { id, from: summary.owner, error: e });
      continue;
    }
    const doc: FederatedJobDoc = {
      id,
      home: summary.home,
      owner: summary.owner,
      ownerTerm: summary.ownerTerm,
      generation: definition.generation,
      policy: asPolicy(definition.policy),
      spec,
      targets: definition.targets,
      displaced: definition.displaced,
      ...(definition.deleting ? { deleting: true } : {}),
      createdAt: definition.createdAt,
      updatedAt: view.wall,
    };
    const version = await write(ctx, doc, local?.version ?? 'absent', view.epoch);
    if (version === undefined) continue;
    if (local?.doc.owner === ctx.region) {
      ctx.stats.stepDowns++;
      ctx.log.info('federated job owned elsewhere now; following', { id, owner: doc.owner, term: doc.ownerTerm });
    }
    ctx.stats.adopted++;
    stored.set(id, { doc, version });
  }
  // Claims heard second-hand (no definition yet): an owner that hears of a higher term stops deciding.
  for (const [id, list] of claims) {
    const local = stored.get(id);
    const best = bestClaim(list);
    if (!local || !best || !beats(best, { owner: local.doc.owner, term: local.doc.ownerTerm }) || local.doc.owner !== ctx.region) continue;
    const doc = { ...local.doc, owner: best.owner, ownerTerm: best.term, updatedAt: view.wall };
    const version = await write(ctx, doc, local.version, view.epoch);
    if (version === undefined) continue;
    ctx.stats.stepDowns++;
    ctx.log.info('a peer claims this federated job with a higher term; following', { id, owner: best.owner, term: best.term });
    stored.set(id, { doc, version });
  }
}

/** A conditional write; undefined when someone else wrote first (the next round re-reads). */
async function write(ctx: ControllerContext, doc: FederatedJobDoc, expect: number | 'absent', epoch: number | undefined): Promise<number | undefined> {
  try {
    return await ctx.store.put(doc, expect, epoch);
  } catch (e) {
    if (e instanceof ConflictError) return undefined;
    throw e;
  }
}
