import { z } from 'zod';
import { regionName } from './region-name.js';

// A region's digest: what one region tells its peers every gossip interval. It aggregates by
// zone and by group, never per agent, so its size does not grow with the agent count; only
// service endpoints grow with the work, and those are capped (see digest-codec.ts).

export const DIGEST_VERSION = 1;

export { REGION_NAME, regionName } from './region-name.js';

export const MAX_JOBS_PER_DIGEST = 1_000;
const MAX_BUCKETS_ON_WIRE = 256;

const count = z.int().min(0).max(1_000_000_000);
/** Fixed-point units as in core/resources.ts: millicpus, MiB, MiB, Mbps. */
const fixed = z.int().min(0).max(Number.MAX_SAFE_INTEGER);

export const scalarsSchema = z.object({ cpus: fixed, mem: fixed, disk: fixed, network: fixed });
export type Scalars = z.infer<typeof scalarsSchema>;

/** Capacity of a set of agents (a zone, a group, the region). */
export const capacityBucketSchema = z.object({
  agents: count,
  reachable: count,
  /** Reachable, active and not draining: the agents new work can go to. */
  schedulable: count,
  /** Over reachable agents. */
  total: scalarsSchema,
  allocated: scalarsSchema,
  offered: scalarsSchema,
  /** total - allocated - offered over schedulable agents. */
  free: scalarsSchema,
  /** Per resource, the most any one schedulable agent has free: an instance larger than this fits nowhere. */
  largestFree: scalarsSchema,
});
export type CapacityBucket = z.infer<typeof capacityBucketSchema>;

const bucketMap = z
  .record(z.string().min(1).max(255), capacityBucketSchema)
  .refine((m) => Object.keys(m).length <= MAX_BUCKETS_ON_WIRE, `at most ${MAX_BUCKETS_ON_WIRE} buckets`);

export const capacitySchema = z.object({ region: capacityBucketSchema, byZone: bucketMap, byGroup: bucketMap });
export type Capacity = z.infer<typeof capacitySchema>;

export const agentCountsSchema = z.object({
  total: count,
  reachable: count,
  unreachable: count,
  schedulable: count,
  draining: count,
  deactivated: count,
});
export type AgentCounts = z.infer<typeof agentCountsSchema>;

export const HEALTH_STATUSES = ['healthy', 'degraded', 'unhealthy'] as const;
export const healthSchema = z.object({
  status: z.enum(HEALTH_STATUSES),
  reasons: z.array(z.string().max(256)).max(16),
});
export type RegionHealth = z.infer<typeof healthSchema>;

/** Instances of one federated job over all regions (each region's child job allows as many). */
export const MAX_FEDERATED_INSTANCES = 1000;
const MAX_POLICY_REGIONS = 64;

const instances = z
  .int('must be a whole number')
  .min(0, 'must not be negative')
  .max(MAX_FEDERATED_INSTANCES, `must be at most ${MAX_FEDERATED_INSTANCES}`);
const weight = z.number('must be a number').min(0, 'must not be negative').max(1_000_000, 'must be at most 1000000');
const fewRegions = (m: Record<string, unknown>): boolean => Object.keys(m).length <= MAX_POLICY_REGIONS;

/** A federated job's region policy as it travels (../jobs/policy.ts checks the rules across fields). */
export const regionPolicySchema = z
  .object({
    counts: z.record(regionName, instances).refine(fewRegions, `at most ${MAX_POLICY_REGIONS} regions`).optional(),
    weights: z.record(regionName, weight).refine(fewRegions, `at most ${MAX_POLICY_REGIONS} regions`).optional(),
    total: instances.optional(),
  })
  .strict();

/**
 * A federated job's definition as its owner replicates it to every peer, so that a successor
 * can take the job over when the owner dies. The spec is checked as a job spec on adoption.
 */
export const federatedDefinitionSchema = z.object({
  /** Grows at every change of spec or policy (by the owner). */
  generation: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  policy: regionPolicySchema,
  /** The template of each region's child job (name and instances aside). */
  spec: z.record(z.string(), z.unknown()),
  /** The owner's latest plan: instances asked of each region. */
  targets: z.record(regionName, count),
  /** Regions whose share is placed elsewhere (dead, or back for less than the hand-back delay). */
  displaced: z.array(regionName).max(256),
  deleting: z.boolean().optional(),
  createdAt: z.number(),
});
export type FederatedDefinition = z.infer<typeof federatedDefinitionSchema>;

/**
 * What a region says about one federated job it takes part in: its view of the owner, and how
 * its child job is doing. The owner's summary also carries the definition.
 */
export const federatedJobSummarySchema = z.object({
  jobId: z.string().min(1).max(255),
  /** The region the job was submitted to. */
  home: regionName,
  /** The region making the job's decisions now (the home region unless it is dead). */
  owner: regionName,
  /** Grows at every change of owner, so a stale claim loses. */
  ownerTerm: count,
  /** Instances of the job this region was asked to run, runs, and sees healthy. */
  wanted: count,
  running: count,
  healthy: count,
  /** Instances waiting for placement, and those of them no host has room for (Fenzo's resource shortfall). */
  pending: count.optional(),
  unplaceable: count.optional(),
  /** Hash of the child job's spec (instances aside): the owner sees whether its last change arrived. */
  specHash: z.string().max(64).optional(),
  definition: federatedDefinitionSchema.optional(),
});
export type FederatedJobSummary = z.infer<typeof federatedJobSummarySchema>;

export const endpointSchema = z.object({
  host: z.string().min(1).max(255),
  port: z.int().min(0).max(65535),
  task: z.string().min(1).max(255),
  /** The port's name in the task's discovery info, when it has one (e.g. "cql"). */
  portName: z.string().min(1).max(255).optional(),
});
export type ServiceEndpoint = z.infer<typeof endpointSchema>;

// A discovery name is any 1-255 characters but '/' (it is a URL path segment) and control characters.
// eslint-disable-next-line no-control-regex
export const SERVICE_NAME = /^[^/\u0000-\u001f\u007f]{1,255}$/;
export const serviceName = z.string().regex(SERVICE_NAME, "a service name is 1-255 characters without '/' or control characters");

export const digestSchema = z.object({
  version: z.literal(DIGEST_VERSION),
  region: regionName,
  /** Grows at every restart of the sender (see incarnation.ts); orders digests across restarts. */
  incarnation: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** Grows at every digest within an incarnation. */
  seq: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** The region's master API, for peers that need to call it. */
  api: z.string().max(2048).optional(),
  capacity: capacitySchema,
  agents: agentCountsSchema,
  health: healthSchema,
  jobs: z.array(federatedJobSummarySchema).max(MAX_JOBS_PER_DIGEST),
  services: z.record(serviceName, z.array(endpointSchema)),
  /** Services whose endpoint list was cut to fit the message. */
  truncatedServices: z.array(serviceName).optional(),
  /** True when the region's services did not fit at all and were left out. */
  servicesOmitted: z.boolean().optional(),
});
export type RegionDigest = z.infer<typeof digestSchema>;

/** Where a digest stands in its sender's history: (incarnation, seq), compared in that order. */
export interface DigestPosition {
  readonly incarnation: number;
  readonly seq: number;
}

/** Negative when a is older than b, zero when equal, positive when newer. */
export function comparePositions(a: DigestPosition, b: DigestPosition): number {
  return a.incarnation !== b.incarnation ? a.incarnation - b.incarnation : a.seq - b.seq;
}

export const isNewer = (a: DigestPosition, b: DigestPosition | undefined): boolean => b === undefined || comparePositions(a, b) > 0;
