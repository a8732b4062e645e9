import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { JsonObject } from '../state/item-store.js';
import type { RegistryTransaction } from '../state/registry.js';

// The activity log: every decision and every step of carrying it out (why, how many, which
// hosts, outcome), one Registry document each. Ids start with the time in milliseconds, so the
// collection reads in time order; entries expire after a retention period.

export const ACTIVITY_COLLECTION = 'autoscaler-activity';
/** How long entries are kept by default: a week. */
export const DEFAULT_ACTIVITY_RETENTION_SECONDS = 7 * 24 * 3600;

export const ACTIVITY_ACTIONS = ['scale-up', 'scale-down', 'launch', 'drain', 'terminate', 'remove', 'rules'] as const;
export type ActivityAction = (typeof ACTIVITY_ACTIONS)[number];
export const ACTIVITY_OUTCOMES = ['decided', 'started', 'succeeded', 'failed', 'retrying', 'overdue', 'timed-out', 'cancelled'] as const;
export type ActivityOutcome = (typeof ACTIVITY_OUTCOMES)[number];

export interface ActivityHost {
  readonly agentId: string;
  readonly hostname: string;
  readonly zone?: string;
  readonly instanceId?: string;
}

export interface ActivityEntry {
  readonly at: number;
  readonly group: string;
  readonly action: ActivityAction;
  readonly outcome: ActivityOutcome;
  /** Why, in words. */
  readonly reason: string;
  /** Hosts the step is about (added or removed). */
  readonly count?: number;
  readonly hosts?: readonly ActivityHost[];
  readonly error?: string;
  /** The operation the step belongs to (its Registry document). */
  readonly operation?: string;
  readonly attempt?: number;
  /** The leader epoch that wrote it. */
  readonly epoch?: number;
}

const hostSchema = z.object({ agentId: z.string(), hostname: z.string(), zone: z.string().optional(), instanceId: z.string().optional() });
export const activityEntrySchema = z.object({
  at: z.number(),
  group: z.string(),
  action: z.enum(ACTIVITY_ACTIONS),
  outcome: z.enum(ACTIVITY_OUTCOMES),
  reason: z.string(),
  count: z.number().optional(),
  hosts: z.array(hostSchema).optional(),
  error: z.string().optional(),
  operation: z.string().optional(),
  attempt: z.number().optional(),
  epoch: z.number().optional(),
});

let sequence = 0;

/** A unique id that sorts by time: `<ms, 15 digits>-<sequence>-<random>`. */
export function activityId(at: number): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${String(Math.max(0, Math.floor(at))).padStart(15, '0')}-${String(sequence).padStart(6, '0')}-${randomBytes(3).toString('hex')}`;
}

/** Plain JSON without undefined fields. */
export function toJson(o: object): JsonObject {
  return JSON.parse(JSON.stringify(o)) as JsonObject;
}

export function hostOf(h: { agentId: string; hostname: string; zone?: string | undefined; instanceId?: string | undefined }): ActivityHost {
  return { agentId: h.agentId, hostname: h.hostname, ...(h.zone !== undefined ? { zone: h.zone } : {}), ...(h.instanceId !== undefined ? { instanceId: h.instanceId } : {}) };
}

/** Adds an entry to `tx`, to expire `retentionSeconds` after `now`. */
export function putActivity(tx: RegistryTransaction, now: number, entry: Omit<ActivityEntry, 'at'>, retentionSeconds: number): void {
  tx.putDocument(ACTIVITY_COLLECTION, activityId(now), toJson({ at: now, ...entry }), 'absent', Math.floor(now / 1000) + retentionSeconds);
}
