import { z } from 'zod';

// STRATUS_AGENT_GROUPS, set by the CDK stack on the leader tick: which Auto Scaling group holds
// each agent group. The stack writes a list
//   [{"name":"general","autoScalingGroupName":"stratus-...-Asg...","zones":[...],"minSize":1,"maxSize":10,...}]
// and a plain map {"general":"my-asg"} is accepted too (hand-written configurations).

export interface AgentGroupMapping {
  readonly group: string;
  readonly autoScalingGroupName: string;
  readonly zones?: readonly string[];
  readonly minSize?: number;
  readonly maxSize?: number;
  /** The resources one host brings, as the stack's config gives them. */
  readonly shape?: { readonly cpus: number; readonly memMb: number; readonly diskMb?: number };
}

const listEntry = z
  .object({
    name: z.string().min(1),
    autoScalingGroupName: z.string().min(1),
    zones: z.array(z.string()).optional(),
    minSize: z.number().int().min(0).optional(),
    maxSize: z.number().int().min(0).optional(),
    shape: z.object({ cpus: z.number(), memMb: z.number(), diskMb: z.number().optional() }).optional(),
  })
  .passthrough();
const envSchema = z.union([z.array(listEntry), z.record(z.string().min(1), z.string().min(1))]);

export const AGENT_GROUPS_ENV = 'STRATUS_AGENT_GROUPS';

export function parseAgentGroups(value: string): AgentGroupMapping[] {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch (e) {
    throw new Error(`${AGENT_GROUPS_ENV} is not JSON: ${(e as Error).message}`);
  }
  const r = envSchema.safeParse(raw);
  if (!r.success) throw new Error(`${AGENT_GROUPS_ENV} must be a list of {name, autoScalingGroupName} or a map {group: asgName}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  const out: AgentGroupMapping[] = Array.isArray(r.data)
    ? r.data.map((g) => ({
        group: g.name,
        autoScalingGroupName: g.autoScalingGroupName,
        ...(g.zones ? { zones: g.zones } : {}),
        ...(g.minSize !== undefined ? { minSize: g.minSize } : {}),
        ...(g.maxSize !== undefined ? { maxSize: g.maxSize } : {}),
        ...(g.shape ? { shape: g.shape } : {}),
      }))
    : Object.entries(r.data).map(([group, autoScalingGroupName]) => ({ group, autoScalingGroupName }));
  const names = out.map((g) => g.group);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new Error(`${AGENT_GROUPS_ENV} names group '${twice}' twice`);
  return out;
}

/** The mapping from the environment; empty when the variable is unset. */
export function agentGroupsFromEnv(env: NodeJS.ProcessEnv = process.env): AgentGroupMapping[] {
  const v = env[AGENT_GROUPS_ENV];
  return v === undefined || v.trim() === '' ? [] : parseAgentGroups(v);
}

/**
 * Starting rules from the stack's groups (size bounds and shape from the deployment config),
 * for a region whose operators have not set any: one idle host kept, none beyond it.
 */
export function rulesFromAgentGroups(groups: readonly AgentGroupMapping[]): { groups: Record<string, unknown>[] } {
  return {
    groups: groups
      .filter((g) => g.shape !== undefined && g.minSize !== undefined && g.maxSize !== undefined)
      .map((g) => ({
        group: g.group,
        minSize: g.minSize,
        maxSize: g.maxSize,
        minIdle: 0,
        maxIdle: 1,
        shape: { cpus: g.shape!.cpus, mem: g.shape!.memMb, ...(g.shape!.diskMb !== undefined ? { disk: g.shape!.diskMb } : {}) },
        ...(g.zones ? { zones: [...g.zones] } : {}),
      })),
  };
}
