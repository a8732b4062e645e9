import { ConflictError } from '../core/errors.js';
import type { DriverLogger, TaskRef } from '../sdk/index.js';
import { clean, hasLiveTask, type InstanceDoc, type JobDoc, type JobStatusDoc } from './model.js';
import type { Expectation, JobsStore, Versioned } from './store.js';

// The jobs framework's copy of its Registry documents: each job's intent, status and instance
// slots with the versions they were read at (every write is conditional on them), and which
// slot owns each live task. Writes go to the Registry first and to the copy once stored.

export interface Slot {
  doc: InstanceDoc;
  version: Expectation;
}

export interface JobEntry {
  readonly name: string;
  doc: JobDoc;
  version: number;
  status: Versioned<JobStatusDoc> | undefined;
  readonly slots: Map<number, Slot>;
}

export interface TaskOwner {
  readonly job: JobEntry;
  readonly index: number;
  readonly slot: Slot;
}

export class JobsState {
  readonly jobs = new Map<string, JobEntry>();
  private readonly byTask = new Map<string, { job: string; index: number }>();

  constructor(
    private readonly store: JobsStore,
    private readonly log: DriverLogger,
  ) {}

  async load(): Promise<void> {
    for (const [name, job] of await this.store.listJobs()) await this.addJob(name, job);
  }

  /** Re-reads the job intents (changes made by other processes). */
  async refreshJobs(): Promise<void> {
    const docs = await this.store.listJobs();
    for (const [name, job] of docs) {
      const entry = this.jobs.get(name);
      if (entry === undefined) await this.addJob(name, job);
      else if (entry.version !== job.version) {
        entry.doc = job.doc;
        entry.version = job.version;
      }
    }
    // A job document removed behind our back: its instances go as if it were deleted.
    for (const entry of this.jobs.values()) if (!docs.has(entry.name) && !entry.doc.deleting) entry.doc = { ...entry.doc, deleting: true };
  }

  private async addJob(name: string, job: Versioned<JobDoc>): Promise<void> {
    const [status, instances] = await Promise.all([this.store.getStatus(name), this.store.listInstances(name)]);
    const entry: JobEntry = { name, doc: job.doc, version: job.version, status, slots: new Map() };
    for (const i of instances) {
      entry.slots.set(i.doc.index, { doc: i.doc, version: i.version });
      if (hasLiveTask(i.doc)) this.track(i.doc.taskId!, name, i.doc.index);
    }
    this.jobs.set(name, entry);
  }

  /** The job's slots, in the order they were read or added. */
  instances(job: JobEntry): InstanceDoc[] {
    return [...job.slots.values()].map((s) => s.doc);
  }

  /** The slot whose current task is `taskId`. */
  owner(taskId: string): TaskOwner | undefined {
    const ref = this.byTask.get(taskId);
    const job = ref ? this.jobs.get(ref.job) : undefined;
    const slot = ref && job ? job.slots.get(ref.index) : undefined;
    return ref && job && slot && slot.doc.taskId === taskId ? { job, index: ref.index, slot } : undefined;
  }

  track(taskId: string, job: string, index: number): void {
    this.byTask.set(taskId, { job, index });
  }

  untrack(taskId: string): void {
    this.byTask.delete(taskId);
  }

  untrackAll(): void {
    this.byTask.clear();
  }

  /** The tasks the master may be running for us: what reconciliation asks about. */
  liveTasks(): TaskRef[] {
    const out: TaskRef[] = [];
    for (const job of this.jobs.values()) {
      for (const s of job.slots.values()) {
        if (hasLiveTask(s.doc)) out.push({ taskId: s.doc.taskId!, ...(s.doc.agentId ? { agentId: s.doc.agentId } : {}) });
      }
    }
    return out;
  }

  /** Stores slot changes of one job (new versions kept); on a conflict the job's slots are re-read. */
  async writeSlots(job: JobEntry, changes: readonly InstanceDoc[], removals: readonly number[] = []): Promise<void> {
    if (changes.length === 0 && removals.length === 0) return;
    const writes = changes.map((doc) => ({ doc: clean(doc), expect: job.slots.get(doc.index)?.version ?? ('absent' as const) }));
    const deletes = removals.flatMap((index) => {
      const v = job.slots.get(index)?.version;
      return typeof v === 'number' ? [{ index, version: v }] : [];
    });
    try {
      const versions = await this.store.writeInstances(job.name, writes, deletes);
      writes.forEach((w, k) => job.slots.set(w.doc.index, { doc: w.doc, version: versions[k]! }));
      for (const index of removals) job.slots.delete(index);
    } catch (e) {
      if (e instanceof ConflictError) {
        this.log.warn('instance documents changed elsewhere; re-reading', { job: job.name, error: e });
        job.slots.clear();
        for (const i of await this.store.listInstances(job.name)) job.slots.set(i.doc.index, { doc: i.doc, version: i.version });
      }
      throw e;
    }
  }
}
