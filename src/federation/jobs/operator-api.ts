import { ConflictError, NotFoundError } from '../../core/errors.js';
import { childName, federatedIdOf } from './child-job.js';
import { byName, childrenOf, regionsOf, type ControllerContext } from './controller-context.js';
import type { FederatedJobDoc, VersionedJob } from './federated-job.js';
import { parseChange, parseSubmission } from './request.js';
import { federatedJobView, type FederatedJobView, type RegionFacts } from './views.js';

// The operations behind /api/v1/federation/jobs (routes.ts): submit a federated job to this
// region (its home and first owner), change or delete one this region owns, and show any job
// this region knows of with, per region, its liveness, its child as reported and the owner's
// last error there. Changes go to the store; the controller's next round carries them out.

export class OperatorApi {
  constructor(
    private readonly ctx: ControllerContext,
    /** The owner's last failure to change a job's child in a region. */
    private readonly errorOf: (id: string, region: string) => string | undefined,
    /** Called after every change, so a round runs soon. */
    private readonly changed: () => void,
  ) {}

  async submit(body: unknown): Promise<FederatedJobView> {
    const sub = parseSubmission(body, this.ctx.region, regionsOf(this.ctx));
    const existing = await this.ctx.store.get(sub.id);
    if (existing) throw new ConflictError(`a federated job named ${sub.id} exists (owned by region ${existing.doc.owner}); change it with PUT /api/v1/federation/jobs/${sub.id}`, 'name');
    const clash = await this.ctx.jobs.store.getJob(childName(sub.id));
    if (clash && federatedIdOf(clash.doc.spec) !== sub.id) throw new ConflictError(`this region has a job named ${childName(sub.id)}; pick another name`, 'name');
    const now = this.ctx.wallClock();
    const doc: FederatedJobDoc = {
      id: sub.id,
      home: this.ctx.region,
      owner: this.ctx.region,
      ownerTerm: 1,
      generation: 1,
      policy: sub.policy,
      spec: sub.template,
      targets: {},
      displaced: [],
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.ctx.store.put(doc, 'absent');
    } catch (e) {
      throw e instanceof ConflictError ? new ConflictError(`a federated job named ${sub.id} exists`, 'name') : e;
    }
    this.ctx.log.info('federated job submitted', { id: sub.id, policy: sub.policy });
    this.changed();
    return this.view(doc);
  }

  private async owned(id: string): Promise<VersionedJob> {
    const job = await this.ctx.store.get(id);
    if (!job) throw new NotFoundError(`no federated job named '${id.slice(0, 64)}'`, 'id');
    if (job.doc.owner !== this.ctx.region) throw new ConflictError(`federated job ${id} is owned by region ${job.doc.owner} (term ${job.doc.ownerTerm}); send changes there`, 'id');
    if (job.doc.deleting) throw new ConflictError(`federated job ${id} is being deleted`, 'id');
    return job;
  }

  async update(id: string, body: unknown): Promise<FederatedJobView> {
    const job = await this.owned(id);
    const change = parseChange(body, job.doc.spec, regionsOf(this.ctx));
    const doc: FederatedJobDoc = {
      ...job.doc,
      ...(change.policy ? { policy: change.policy } : {}),
      ...(change.template ? { spec: change.template } : {}),
      generation: job.doc.generation + 1,
      updatedAt: this.ctx.wallClock(),
    };
    await this.ctx.store.put(doc, job.version);
    this.changed();
    return this.view(doc);
  }

  async remove(id: string): Promise<FederatedJobView> {
    const job = await this.owned(id);
    const doc: FederatedJobDoc = { ...job.doc, deleting: true, generation: job.doc.generation + 1, updatedAt: this.ctx.wallClock() };
    await this.ctx.store.put(doc, job.version);
    this.changed();
    return this.view(doc);
  }

  async get(id: string): Promise<FederatedJobView> {
    const job = await this.ctx.store.get(id);
    if (!job) throw new NotFoundError(`no federated job named '${id.slice(0, 64)}'`, 'id');
    return this.view(job.doc);
  }

  async list(): Promise<FederatedJobView[]> {
    const jobs = await this.ctx.store.list();
    const facts = await this.facts();
    return [...jobs.values()].sort((a, b) => byName(a.doc.id, b.doc.id)).map((j) => federatedJobView(this.ctx.region, j.doc, facts(j.doc.id)));
  }

  private async view(doc: FederatedJobDoc): Promise<FederatedJobView> {
    return federatedJobView(this.ctx.region, doc, (await this.facts())(doc.id));
  }

  /** Per region, for one job: liveness, its child as reported, the owner's last error there. */
  private async facts(): Promise<(id: string) => RegionFacts[]> {
    const [peers, children] = await Promise.all([
      this.ctx.gossip.peerDigests(),
      childrenOf(this.ctx, this.ctx.wallClock()),
    ]);
    const byPeer = new Map(peers.map((p) => [p.name, p]));
    return (id) =>
      regionsOf(this.ctx).map((region) => {
        const p = byPeer.get(region);
        const child = region === this.ctx.region ? children.get(id) : p?.digest.jobs.find((j) => j.jobId === id && j.specHash !== undefined);
        const error = this.errorOf(id, region);
        return { region, state: region === this.ctx.region ? 'alive' : (p?.state ?? 'unknown'), ...(child ? { child } : {}), ...(error ? { error } : {}) };
      });
  }
}
