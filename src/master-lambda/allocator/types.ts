import type { Resources } from '../../core/resources.js';

// The allocator's input and output: plain data read from the Registry by the allocation
// round use case. The engine decides; it never reads or writes anything itself.

export interface AllocatorAgent {
  readonly id: string;
  /** What the agent has free now: total - allocated - offered. */
  readonly available: Resources;
  readonly total: Resources;
  /** Reachable, not deactivated, not draining: only then are its resources offered. */
  readonly allocatable: boolean;
}

export interface AllocatorFramework {
  readonly id: string;
  readonly roles: readonly string[];
  /** Roles the framework SUPPRESSed: no offers for them until REVIVE. */
  readonly suppressedRoles: readonly string[];
  /** Subscribed and connected (or within its failover timeout) and not removed. */
  readonly active: boolean;
  /** What the framework holds now per role: its non-terminal tasks plus outstanding offers. */
  readonly allocated: Readonly<Record<string, Resources>>;
}

export interface AllocatorRole {
  readonly name: string;
  /** DRF weight; roles not listed have weight 1. */
  readonly weight: number;
  /** Never offer the role beyond this (Mesos quota limits). */
  readonly quotaLimit?: Resources;
}

export interface AllocationInput {
  readonly agents: readonly AllocatorAgent[];
  readonly frameworks: readonly AllocatorFramework[];
  readonly roles: readonly AllocatorRole[];
  /** Active DECLINE filters: `${frameworkId}#${agentId}` → no offers from that agent. */
  readonly filters: ReadonlySet<string>;
  /** An offer is made only if it contains at least one of these (Mesos's min_allocatable_resources). */
  readonly minAllocatable: readonly Resources[];
  /** Seeds the agent visiting order, so rounds are deterministic for tests and fair over time. */
  readonly seed?: number;
}

export interface OfferDecision {
  readonly frameworkId: string;
  readonly agentId: string;
  readonly role: string;
  readonly resources: Resources;
}

export interface AllocationResult {
  readonly offers: OfferDecision[];
}
