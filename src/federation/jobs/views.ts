import type { JobSpec } from '../../jobs/spec.js';
import { specHash } from './child-job.js';
import type { FederatedJobDoc } from './federated-job.js';
import type { FederatedJobSummary } from '../gossip/digest.js';
import type { RegionLiveness } from './plan.js';
import { baseShares, policyTotal, type RegionPolicy } from './policy.js';
import type { ChildStatus } from './local-children.js';

// What GET /api/v1/federation/jobs shows: a federated job's definition and, per region, its
// share, what the owner asks of it, and how its child job is doing (this region's from its own
// store, the peers' from their latest digests).

export interface ChildView {
  readonly wanted: number;
  readonly running: number;
  readonly healthy: number;
  readonly pending: number;
  readonly unplaceable: number;
  /** Runs the definition's current spec. */
  readonly current: boolean;
}

export interface FederatedRegionView {
  readonly region: string;
  readonly state: RegionLiveness;
  /** From the policy alone. */
  readonly share: number;
  /** What the owner asks of the region now (its share, or more with spill-over and failover). */
  readonly target: number;
  /** Its share is placed elsewhere (it was dead, and has not been back long enough). */
  readonly displaced: boolean;
  /** The region's child job as last reported; absent when it has none. */
  readonly child?: ChildView;
  /** The owner's last failure to change the region's child job. */
  readonly error?: string;
}

export interface FederatedJobView {
  readonly id: string;
  readonly home: string;
  readonly owner: string;
  readonly ownerTerm: number;
  readonly generation: number;
  /** Whether this region owns the job or keeps a replica of its definition. */
  readonly role: 'owner' | 'replica';
  readonly state: 'active' | 'deleting';
  readonly policy: RegionPolicy;
  /** The child jobs' spec (name and instances are per region). */
  readonly job: Omit<JobSpec, 'instances'>;
  readonly regions: readonly FederatedRegionView[];
  readonly counts: { readonly wanted: number; readonly running: number; readonly healthy: number };
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type ReportedChild = Pick<FederatedJobSummary, 'wanted' | 'running' | 'healthy' | 'pending' | 'unplaceable' | 'specHash'>;

export function childView(c: ReportedChild | ChildStatus, spec: JobSpec): ChildView {
  return {
    wanted: c.wanted,
    running: c.running,
    healthy: c.healthy,
    pending: c.pending ?? 0,
    unplaceable: c.unplaceable ?? 0,
    current: c.specHash === specHash(spec),
  };
}

export interface RegionFacts {
  readonly region: string;
  readonly state: RegionLiveness;
  readonly child?: ReportedChild | ChildStatus;
  readonly error?: string;
}

export function federatedJobView(self: string, doc: FederatedJobDoc, regions: readonly RegionFacts[]): FederatedJobView {
  const shares = baseShares(doc.policy);
  const displaced = new Set(doc.displaced);
  const views: FederatedRegionView[] = regions.map((r) => ({
    region: r.region,
    state: r.state,
    share: shares[r.region] ?? 0,
    target: doc.targets[r.region] ?? 0,
    displaced: displaced.has(r.region),
    ...(r.child ? { child: childView(r.child, doc.spec) } : {}),
    ...(r.error ? { error: r.error } : {}),
  }));
  const { instances: _i, ...job } = doc.spec;
  return {
    id: doc.id,
    home: doc.home,
    owner: doc.owner,
    ownerTerm: doc.ownerTerm,
    generation: doc.generation,
    role: doc.owner === self ? 'owner' : 'replica',
    state: doc.deleting ? 'deleting' : 'active',
    policy: doc.policy,
    job,
    regions: views,
    counts: {
      wanted: doc.deleting ? 0 : policyTotal(doc.policy),
      running: views.reduce((n, v) => n + (v.child?.running ?? 0), 0),
      healthy: views.reduce((n, v) => n + (v.child?.healthy ?? 0), 0),
    },
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}
