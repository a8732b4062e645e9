import type { Logger } from '../../core/logger.js';
import type { RegionGossip } from '../gossip/region-gossip.js';
import type { FederatedJobsConfig } from './config.js';
import type { FederatedJobStore } from './federated-job.js';
import { localChildren, type ChildStatus } from './local-children.js';
import type { LocalJobs } from './local-jobs.js';

// What the parts of one region's federated jobs controller share (controller.ts builds it):
// the region and its gossip, the settings, the definitions' store, the region's jobs
// framework, the log, the counters and the clocks.

/** Rounds, takeovers and changes sent, for tests and metrics. */
export interface ControllerStats {
  rounds: number;
  takeovers: number;
  stepDowns: number;
  changesSent: number;
  changeFailures: number;
  adopted: number;
  orphansRemoved: number;
}

export interface ControllerContext {
  readonly region: string;
  readonly gossip: RegionGossip;
  readonly config: FederatedJobsConfig;
  /** The gossip interval: every delay of federated jobs is counted in it. */
  readonly interval: number;
  readonly store: FederatedJobStore;
  readonly jobs: LocalJobs;
  readonly log: Logger;
  readonly stats: ControllerStats;
  /** Monotonic milliseconds (warm-up, resends, holds). */
  readonly clock: () => number;
  /** This region's wall clock (timestamps; the jobs framework's pending times). */
  readonly wallClock: () => number;
}

/** Every region of the federation, this one first. */
export function regionsOf(ctx: Pick<ControllerContext, 'region' | 'gossip'>): string[] {
  return [ctx.region, ...ctx.gossip.peerNames];
}

/** This region's child jobs now, as its digest reports them. */
export function childrenOf(ctx: ControllerContext, wall: number): Promise<Map<string, ChildStatus>> {
  return localChildren(ctx.jobs.store, wall, ctx.config.unplaceableAfterIntervals * ctx.interval);
}

/** Ordinal order of job ids and region names: every region sorts them the same way. */
export const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
