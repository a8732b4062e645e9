import type { Agent } from '../../src/core/agent.js';
import type { AgentId } from '../../src/core/ids.js';
import { EMPTY, resources } from '../../src/core/resources.js';
import type { GossipConfig } from '../../src/federation/gossip/config.js';
import type { FederatedJobsConfig } from '../../src/federation/jobs/config.js';
import { FederatedJobsController } from '../../src/federation/jobs/controller.js';
import { registryJobs, type LocalJobs } from '../../src/federation/jobs/local-jobs.js';
import { directRegionJobs } from '../../src/federation/jobs/region-jobs.js';
import type { JobDetail } from '../../src/jobs/views.js';
import { silentLogger } from '../../src/core/logger.js';
import { SimGossip } from './federation-gossip-sim.js';
import { seedFleet } from './federation-fixtures.js';

// Federated jobs on simulated time: SimGossip's regions (in-memory Registries, in-process
// gossip, rounds driven by the test) with a federated jobs controller each, on a jobs API over
// the region's Registry (no framework runs: child jobs are documents whose instance counts the
// tests read). Controllers of cut-off regions keep running, as a partitioned region would.

export interface SimJobsOptions {
  readonly regions: readonly string[];
  readonly config?: Partial<GossipConfig>;
  readonly jobsConfig?: Partial<FederatedJobsConfig>;
}

/** `n` agents of `cpus` cores and `mem` MiB, all free, in zone `<region>a`. */
export function freeAgents(region: string, n: number, cpus = 4, mem = 8192): Agent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${region}-free-${i}` as AgentId,
    hostname: `${region}-host-${i}`,
    attributes: { zone: `${region}a` },
    total: resources({ cpus, mem, disk: 100_000 }),
    allocated: EMPTY,
    offered: EMPTY,
    reachability: 'REACHABLE' as const,
    deactivated: false,
    registeredAt: 0,
    session: 's1',
  }));
}

export class SimFederatedJobs {
  readonly sim: SimGossip;
  readonly controllers = new Map<string, FederatedJobsController>();
  readonly jobs = new Map<string, LocalJobs>();

  constructor(private readonly options: SimJobsOptions) {
    this.sim = new SimGossip({
      regions: options.regions,
      config: { intervalMs: 1_000, ...options.config },
      extraFor: (r) => ({ federatedJobs: () => this.controllers.get(r)?.summaries() ?? Promise.resolve([]) }),
    });
    for (const r of options.regions) {
      this.jobs.set(r, registryJobs(this.sim.region(r).registry));
      this.controllers.set(r, this.newController(r));
    }
  }

  private newController(region: string): FederatedJobsController {
    return new FederatedJobsController({
      gossip: this.sim.region(region).gossip,
      jobs: this.jobs.get(region)!,
      regionJobs: (r) => directRegionJobs(this.jobs.get(r)!.api),
      config: { handBackAfterIntervals: 3, ...this.options.jobsConfig },
      log: silentLogger,
      clock: () => this.sim.now,
      wallClock: () => this.sim.wall,
    });
  }

  controller(region: string): FederatedJobsController {
    return this.controllers.get(region)!;
  }

  async seed(region: string, agents: Agent[]): Promise<void> {
    await seedFleet(this.sim.region(region).registry, { agents, tasks: [] });
  }

  /** A gossip round, then every controller's round (cut-off ones too), then one interval passes. */
  async round(): Promise<void> {
    await this.sim.round();
    for (const c of this.controllers.values()) await c.round();
    await this.finishDeletes();
    this.sim.advance(this.sim.config.intervalMs ?? 1_000);
  }

  /** What a jobs framework would do (none runs here): remove deleted jobs, and slots scaled away (pending ones first). */
  private async finishDeletes(): Promise<void> {
    for (const { store } of this.jobs.values()) {
      for (const [name, job] of await store.listJobs()) {
        if (job.doc.deleting) {
          await store.deleteJob(name, job.version);
          continue;
        }
        const slots = await store.listInstances(name);
        const surplus = slots.length - job.doc.spec.instances;
        if (surplus <= 0) continue;
        const victims = [...slots].sort((x, y) => Number(y.doc.state === 'pending') - Number(x.doc.state === 'pending') || y.doc.index - x.doc.index).slice(0, surplus);
        await store.writeInstances(name, [], victims.map((v) => ({ index: v.doc.index, version: v.version })));
      }
    }
  }

  async rounds(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await this.round();
  }

  cut(region: string): void {
    this.sim.region(region).connected = false;
  }

  restore(region: string): void {
    this.sim.region(region).connected = true;
  }

  /** The child job of `id` in `region`, or undefined. */
  async child(region: string, id: string): Promise<JobDetail | undefined> {
    return this.jobs.get(region)!.api.get(`fed-${id}`).catch(() => undefined);
  }

  /** Instances asked of each region's child job (0 where there is none, or it is being deleted). */
  async childCounts(id: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of this.options.regions) {
      const c = await this.child(r, id);
      out[r] = c && c.state !== 'deleting' ? c.spec.instances : 0;
    }
    return out;
  }

  /** Each region's view of the job's owner: "owner/term", or "-" without a definition. */
  async owners(id: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const r of this.options.regions) {
      const d = await this.controller(r).store.get(id);
      out[r] = d ? `${d.doc.owner}/${d.doc.ownerTerm}` : '-';
    }
    return out;
  }
}
