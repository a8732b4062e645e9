import { z } from 'zod';
import { collections } from '../state/keys.js';
import type { Registry, RegistryTransaction } from '../state/registry.js';
import { ACTIVITY_COLLECTION, activityEntrySchema, toJson, type ActivityEntry } from './activity.js';
import type { ScaleDownCause, ScaleUpCause } from './decide.js';
import { groupRuleSchema, type GroupRuleConfig, type RuleSet } from './rules.js';

// The autoscaler's documents in the region's Registry:
//   autoscaler-config/rules      the rule set (operator API, rules file)
//   autoscaler-groups/<group>    when the group last scaled up and down (cooldowns survive failover)
//   autoscaler-ops/<id>          an operation in progress: a scale-up until its hosts register,
//                                a host's removal through drain → terminate → removed
//   autoscaler-activity/<id>     the activity log
// Operations are written by the leader only, fenced by its epoch, and deleted when they end
// (their outcome stays in the activity log).

export const CONFIG_COLLECTION = 'autoscaler-config';
export const RULES_ID = 'rules';
export const GROUPS_COLLECTION = 'autoscaler-groups';
export const OPS_COLLECTION = 'autoscaler-ops';

export interface Versioned<T> {
  readonly doc: T;
  readonly version: number;
}

export interface GroupDoc {
  readonly lastScaleUpAt?: number;
  readonly lastScaleDownAt?: number;
  /** Since when each idle host of the group has been idle, as the leaders observed it. */
  readonly idle?: Readonly<Record<string, number>>;
  /** When `idle` was last confirmed: an old observation is discarded (hosts may have worked since). */
  readonly observedAt?: number;
}

const retryFields = {
  attempts: z.number().int().min(0),
  retryAt: z.number().optional(),
  lastError: z.string().optional(),
};

const scaleUpSchema = z.object({
  kind: z.literal('scale-up'),
  group: z.string(),
  count: z.number().int().min(1),
  zones: z.array(z.string()),
  cause: z.enum(['shortfall', 'min-idle', 'min-size']),
  reason: z.string(),
  requestedAt: z.number(),
  /** requested: the provider was (maybe) not asked yet; launching: asked, waiting for the hosts to register. */
  phase: z.enum(['requested', 'launching']),
  /** The provider's size before, and the size asked: fixed once, so a retry asks the same. */
  from: z.number().int().min(0).optional(),
  target: z.number().int().min(0).optional(),
  ...retryFields,
});

const scaleDownSchema = z.object({
  kind: z.literal('scale-down'),
  group: z.string(),
  agentId: z.string(),
  hostname: z.string(),
  zone: z.string().optional(),
  instanceId: z.string().optional(),
  /** The host ran tasks when chosen (drainBusy). */
  busy: z.boolean(),
  cause: z.enum(['max-idle', 'max-size']),
  reason: z.string(),
  startedAt: z.number(),
  phase: z.enum(['draining', 'terminating', 'removing']),
  /** DRAIN_AGENT was accepted by the master. */
  drainRequested: z.boolean(),
  drainDeadline: z.number(),
  drainGraceMs: z.number().optional(),
  overdue: z.boolean().optional(),
  ...retryFields,
});

export type ScaleUpOp = z.output<typeof scaleUpSchema> & { readonly cause: ScaleUpCause };
export type ScaleDownOp = z.output<typeof scaleDownSchema> & { readonly cause: ScaleDownCause };
export type Operation = ScaleUpOp | ScaleDownOp;

const operationSchema = z.discriminatedUnion('kind', [scaleUpSchema, scaleDownSchema]);
const groupDocSchema = z.object({
  lastScaleUpAt: z.number().optional(),
  lastScaleDownAt: z.number().optional(),
  idle: z.record(z.string(), z.number()).optional(),
  observedAt: z.number().optional(),
});
const rulesDocSchema = z.object({ groups: z.array(groupRuleSchema.extend({ maxIdle: z.number().int().min(0) })), updatedAt: z.number() });

export function scaleUpOpId(group: string, at: number): string {
  return `up-${String(at).padStart(15, '0')}-${group}`.slice(0, 255);
}

export function scaleDownOpId(agentId: string): string {
  return `down-${agentId}`.slice(0, 255);
}

/** Writes a group's document: `patch` over what was read, expecting the version read (or none). */
export function putGroup(tx: RegistryTransaction, group: string, current: Versioned<GroupDoc> | undefined, patch: GroupDoc): void {
  tx.putDocument(GROUPS_COLLECTION, group, toJson({ ...current?.doc, ...patch }), current ? { version: current.version } : 'absent');
}

/** An operation as read, with its id and the version its next write expects. */
export interface StoredOp {
  readonly id: string;
  readonly doc: Operation;
  readonly version: number;
}

export interface StoredRules {
  readonly rules: RuleSet;
  readonly updatedAt: number;
  readonly version: number;
}

export class AutoscalerStore {
  constructor(
    readonly registry: Registry,
    private readonly onCorrupt: (what: string, error: unknown) => void = () => {},
  ) {}

  async rules(): Promise<StoredRules | undefined> {
    const d = await this.registry.getDocument(CONFIG_COLLECTION, RULES_ID);
    if (!d) return undefined;
    const parsed = rulesDocSchema.safeParse(d.data);
    if (!parsed.success) {
      this.onCorrupt(`${CONFIG_COLLECTION}/${RULES_ID}`, parsed.error);
      return undefined;
    }
    return { rules: { groups: parsed.data.groups as GroupRuleConfig[] }, updatedAt: parsed.data.updatedAt, version: d.version };
  }

  async operations(): Promise<StoredOp[]> {
    const out: StoredOp[] = [];
    for (const d of await this.registry.listDocuments(OPS_COLLECTION)) {
      const parsed = operationSchema.safeParse(d.data);
      if (parsed.success) out.push({ id: d.id, doc: parsed.data as Operation, version: d.version });
      else this.onCorrupt(`${OPS_COLLECTION}/${d.id}`, parsed.error);
    }
    return out;
  }

  async groups(): Promise<Map<string, Versioned<GroupDoc>>> {
    const out = new Map<string, Versioned<GroupDoc>>();
    for (const d of await this.registry.listDocuments(GROUPS_COLLECTION)) {
      const parsed = groupDocSchema.safeParse(d.data);
      if (parsed.success) out.set(d.id, { doc: parsed.data, version: d.version });
      else this.onCorrupt(`${GROUPS_COLLECTION}/${d.id}`, parsed.error);
    }
    return out;
  }

  /** The latest entries, newest first, optionally of one group. */
  async activity(limit: number, group?: string): Promise<ActivityEntry[]> {
    const out: ActivityEntry[] = [];
    let cursor: string | undefined;
    // Bounded: a group filter reads at most 20 pages of the newest entries.
    for (let page = 0; page < 20 && out.length < limit; page++) {
      const res = await this.registry.store.query({ index: 'gsi1', pk: collections.documents(ACTIVITY_COLLECTION), descending: true, limit: Math.max(limit, 100), ...(cursor ? { cursor } : {}) });
      for (const item of res.items) {
        const parsed = activityEntrySchema.safeParse(item.data);
        if (!parsed.success) continue;
        if (group !== undefined && parsed.data.group !== group) continue;
        out.push(parsed.data);
        if (out.length >= limit) break;
      }
      if (!res.next) break;
      cursor = res.next;
    }
    return out;
  }
}
