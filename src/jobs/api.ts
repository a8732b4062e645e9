import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import type { AgentSource } from './agents.js';
import { checkPlaceable } from './fit.js';
import type { JobDoc } from './model.js';
import { eligibleZones, planRebalance, type RebalancePlan } from './rebalance.js';
import { JOB_NAME_PATTERN, mergeJobUpdate, needsRollingUpdate, parseJobSpec } from './spec.js';
import type { JobsStore, Versioned } from './store.js';
import { jobDetail, jobView, pendingTask, type JobDetail, type JobView, type PendingTask } from './views.js';

// The jobs API's operations, on the Registry alone: they validate, record the user's intent
// (the job document) with a conditional write, and wake the framework, which does the work.
// Reads come from what the framework persisted, so any process with the Registry can serve them.

export interface JobsApiOptions {
  readonly store: JobsStore;
  readonly agents: AgentSource;
  /** Called after every accepted change (the in-process framework wakes up). */
  readonly onChange?: (job: string) => void;
  readonly now?: () => number;
}

export interface UpdateResult {
  readonly job: JobDetail;
  /** True when the change replaces the tasks (a rolling update); false for scale-only changes. */
  readonly rolling: boolean;
}

export interface RebalanceResult {
  readonly job: string;
  readonly request: number;
  /** The moves as planned now; the framework re-plans when it acts, from its latest view. */
  readonly plan: RebalancePlan;
}

const ATTEMPTS = 5;

export class JobsApi {
  private readonly now: () => number;

  constructor(private readonly options: JobsApiOptions) {
    this.now = options.now ?? Date.now;
  }

  private checkName(name: string): void {
    if (!JOB_NAME_PATTERN.test(name)) throw new NotFoundError(`no job named '${name.slice(0, 64)}'`, 'name');
  }

  private async current(name: string): Promise<Versioned<JobDoc>> {
    this.checkName(name);
    const job = await this.options.store.getJob(name);
    if (!job) throw new NotFoundError(`no job named '${name}'`, 'name');
    return job;
  }

  private changed(name: string): void {
    this.options.onChange?.(name);
  }

  /** A read-modify-write of the job document, retried when the framework or another call wrote in between. */
  private async modify<T>(name: string, change: (job: Versioned<JobDoc>) => Promise<{ doc: JobDoc; result: T }>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const job = await this.current(name);
      if (job.doc.deleting) throw new ConflictError(`job ${name} is being deleted`, 'name');
      const { doc, result } = await change(job);
      try {
        await this.options.store.putJob(name, doc, job.version);
        this.changed(name);
        return result;
      } catch (e) {
        if (!(e instanceof ConflictError) || attempt >= ATTEMPTS) throw e;
      }
    }
  }

  async submit(body: unknown): Promise<JobDetail> {
    const spec = parseJobSpec(body);
    checkPlaceable(spec, await this.options.agents());
    const now = this.now();
    const doc: JobDoc = { spec, specVersion: 1, createdAt: now, updatedAt: now, rebalanceRequests: 0 };
    const exists = (): ConflictError => new ConflictError(`a job named ${spec.name} exists; change it with PUT /api/v1/jobs/${spec.name}`, 'name');
    if (await this.options.store.getJob(spec.name)) throw exists();
    try {
      await this.options.store.putJob(spec.name, doc, 'absent');
    } catch (e) {
      throw e instanceof ConflictError ? exists() : e;
    }
    this.changed(spec.name);
    return jobDetail(spec.name, doc, undefined, []);
  }

  async list(): Promise<JobView[]> {
    const jobs = await this.options.store.listJobs();
    const out: JobView[] = [];
    for (const [name, job] of [...jobs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const [status, instances] = await Promise.all([this.options.store.getStatus(name), this.options.store.listInstances(name)]);
      out.push(jobView(name, job.doc, status?.doc, instances.map((i) => i.doc)));
    }
    return out;
  }

  async get(name: string): Promise<JobDetail> {
    const job = await this.current(name);
    const [status, instances] = await Promise.all([this.options.store.getStatus(name), this.options.store.listInstances(name)]);
    return jobDetail(name, job.doc, status?.doc, instances.map((i) => i.doc));
  }

  /** Scale (instances) and/or update (anything else: a rolling update within maxUnavailable). */
  async update(name: string, body: unknown): Promise<UpdateResult> {
    const rolling = await this.modify(name, async (job) => {
      const spec = mergeJobUpdate(job.doc.spec, body);
      checkPlaceable(spec, await this.options.agents());
      const rolling = needsRollingUpdate(job.doc.spec, spec);
      return { doc: { ...job.doc, spec, specVersion: job.doc.specVersion + (rolling ? 1 : 0), updatedAt: this.now() }, result: rolling };
    });
    return { job: await this.get(name), rolling };
  }

  async rebalance(name: string): Promise<RebalanceResult> {
    return this.modify(name, async (job) => {
      if (job.doc.spec.zoneSpread === 'off') throw new ValidationError(`job ${name} does not spread over zones (zoneSpread is off)`, 'zoneSpread');
      const [instances, agents] = await Promise.all([this.options.store.listInstances(name), this.options.agents()]);
      const plan = planRebalance(
        instances.map((i) => i.doc),
        eligibleZones(job.doc.spec, agents),
      );
      const request = job.doc.rebalanceRequests + 1;
      return { doc: { ...job.doc, rebalanceRequests: request, updatedAt: this.now() }, result: { job: name, request, plan } };
    });
  }

  /** Kills every instance; the job disappears once they have all ended. */
  async remove(name: string): Promise<JobView> {
    for (let attempt = 1; ; attempt++) {
      const job = await this.current(name);
      if (job.doc.deleting) return jobView(name, job.doc, undefined, (await this.options.store.listInstances(name)).map((i) => i.doc));
      const doc: JobDoc = { ...job.doc, deleting: true, updatedAt: this.now() };
      try {
        await this.options.store.putJob(name, doc, job.version);
      } catch (e) {
        if (!(e instanceof ConflictError) || attempt >= ATTEMPTS) throw e;
        continue;
      }
      this.changed(name);
      return jobView(name, doc, undefined, (await this.options.store.listInstances(name)).map((i) => i.doc));
    }
  }

  /** Pending instances with their reasons, as the framework last persisted them. */
  async pendingTasks(): Promise<PendingTask[]> {
    const out: PendingTask[] = [];
    for (const [name, job] of await this.options.store.listJobs()) {
      if (job.doc.deleting) continue;
      for (const i of await this.options.store.listInstances(name)) {
        if (i.doc.state === 'pending' && i.doc.remove !== true) out.push(pendingTask(job.doc.spec, i.doc));
      }
    }
    return out;
  }
}
