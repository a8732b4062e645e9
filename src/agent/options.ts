import type { ExecutorManagerTiming } from './executor/executor-manager.js';
import { hostname as osHostname } from 'node:os';
import { z } from 'zod';
import { GROUP_ATTRIBUTE, INSTANCE_ID_ATTRIBUTE, INSTANCE_TYPE_ATTRIBUTE, ZONE_ATTRIBUTE } from '../core/agent.js';
import { MAX_PORT, resources as toResources, SCALAR_LIMITS, type PortRange, type Resources } from '../core/resources.js';
import { attributesSchema } from '../wire/agent-api.js';
import type { Logger } from '../core/logger.js';
import type { ContainerizerMode } from './containerizers.js';
import { readEc2Identity, type Ec2Identity } from './ec2-metadata.js';
import { DEFAULT_PORTS, detectHostResources } from './host-resources.js';

// The agent's settings (createAgent options and `stratus agent` flags), checked with zod, and
// what they resolve to at start: resources and attributes, from flags or detected.

export interface AgentTiming {
  /** Heartbeat period; default the master's heartbeat_interval_seconds. */
  readonly heartbeatIntervalMs?: number;
  /** The work long-poll's wait_seconds. Default 20. */
  readonly longPollSeconds?: number;
  /** Over the master socket: ask for work after this long without a nudge (a safety net). Default 10 min. */
  readonly workSafetyIntervalMs?: number;
  /** Status update resend: first delay after delivery, doubling up to the max. Defaults 1 s, 60 s. */
  readonly statusRetryInitialMs?: number;
  readonly statusRetryMaxMs?: number;
  /** Cap of the backoff between attempts to reach the master. Default 5 s. */
  readonly reconnectMaxMs?: number;
  /** Bound on a request to the master other than the long-poll. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** Docker engine pings while healthy. Default 5 s. */
  readonly engineCheckIntervalMs?: number;
  /** How long a Docker launch waits for an unavailable engine. Default 30 s. */
  readonly engineRetryMs?: number;
  /** How long start() waits for Docker recovery before registering with what the checkpoints say. Default 5 s. */
  readonly recoveryWaitMs?: number;
  /** Ended tasks' sandboxes (logs) are kept this long, and at most maxCompletedTasks of them. Defaults 1 h, 500. */
  readonly completedTaskRetentionMs?: number;
  readonly maxCompletedTasks?: number;
  readonly gcIntervalMs?: number;
}

export interface AgentOptions {
  /** The master's URL, e.g. http://127.0.0.1:5050. */
  readonly master: string;
  /**
   * The master's agent socket (ws://host:5050/api/v1/agents/socket, or a deployed region's
   * WebSocket API URL): the agent then talks to the master over it, and gets its work pushed.
   */
  readonly masterSocket?: string;
  /** Where the agent keeps its id, status journal, checkpoints and sandboxes. */
  readonly workDir: string;
  /** Availability zone attribute; on EC2 read from instance metadata when not given. */
  readonly zone?: string;
  readonly group?: string;
  readonly instanceType?: string;
  readonly instanceId?: string;
  /** More attributes (Mesos's --attributes). */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Ask EC2 instance metadata (IMDSv2). Default: only when no zone is given. */
  readonly ec2Metadata?: boolean;
  readonly metadataEndpoint?: string;
  /** Resources to offer; detected from the host when not given (ports: 31000-32000). */
  readonly cpus?: number;
  readonly mem?: number;
  readonly disk?: number;
  readonly ports?: readonly PortRange[];
  /** Hostname registered with the master. Default os.hostname(). */
  readonly hostname?: string;
  /** Listen address of the agent's HTTP endpoint. Default 127.0.0.1. */
  readonly host?: string;
  /** Port of the agent's HTTP endpoint; 0 picks one. Default 5051. */
  readonly port?: number;
  /** The endpoint URL registered with the master; default http://<host or hostname>:<port>. */
  readonly advertiseUrl?: string;
  /** Default auto. */
  readonly containerizer?: ContainerizerMode;
  /** Default /var/run/docker.sock. */
  readonly dockerSocket?: string;
  /** Image for tasks without one under --containerizer docker. */
  readonly defaultImage?: string;
  /** Per task and stream; default 1 MiB. */
  readonly logCapBytes?: number;
  /** Extra headers on requests to the master (the agent credential). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly log?: Logger;
  readonly timing?: AgentTiming;
  /** Custom executors' timeouts (heartbeat, shutdown grace, (re)registration); Mesos's defaults. */
  readonly executorTiming?: ExecutorManagerTiming;
}

const positiveMs = z.number().int().positive().max(24 * 3600 * 1000);
const attributeValue = z.string().min(1).max(255);
const range = z.object({ begin: z.number().int().min(1).max(MAX_PORT), end: z.number().int().min(1).max(MAX_PORT) }).refine((r) => r.begin <= r.end, 'begin must not exceed end');

export const agentOptionsSchema = z.object({
  master: z.string().url(),
  masterSocket: z
    .string()
    .url()
    .refine((u) => /^wss?:\/\//.test(u), 'must be a ws:// or wss:// URL')
    .optional(),
  workDir: z.string().min(1),
  zone: attributeValue.optional(),
  group: attributeValue.optional(),
  instanceType: attributeValue.optional(),
  instanceId: attributeValue.optional(),
  attributes: attributesSchema.optional(),
  ec2Metadata: z.boolean().optional(),
  metadataEndpoint: z.string().url().optional(),
  cpus: z.number().positive().max(SCALAR_LIMITS.cpus).optional(),
  mem: z.number().positive().max(SCALAR_LIMITS.mem).optional(),
  disk: z.number().min(0).max(SCALAR_LIMITS.disk).optional(),
  ports: z.array(range).max(1024).optional(),
  hostname: z.string().min(1).max(255).optional(),
  host: z.string().min(1).optional(),
  port: z.number().int().min(0).max(MAX_PORT).optional(),
  advertiseUrl: z.string().url().optional(),
  containerizer: z.enum(['docker', 'process', 'auto']).optional(),
  dockerSocket: z.string().min(1).optional(),
  defaultImage: z.string().min(1).optional(),
  logCapBytes: z.number().int().min(1024).optional(),
  timing: z
    .object({
      heartbeatIntervalMs: positiveMs.optional(),
      longPollSeconds: z.number().min(0).max(60).optional(),
      workSafetyIntervalMs: positiveMs.optional(),
      statusRetryInitialMs: positiveMs.optional(),
      statusRetryMaxMs: positiveMs.optional(),
      reconnectMaxMs: positiveMs.optional(),
      requestTimeoutMs: positiveMs.optional(),
      engineCheckIntervalMs: positiveMs.optional(),
      engineRetryMs: positiveMs.optional(),
      recoveryWaitMs: z.number().int().min(0).optional(),
      completedTaskRetentionMs: z.number().int().min(0).optional(),
      maxCompletedTasks: z.number().int().min(0).optional(),
      gcIntervalMs: positiveMs.optional(),
    })
    .optional(),
  executorTiming: z
    .object({
      heartbeatMs: positiveMs.optional(),
      shutdownGraceMs: z.number().int().min(0).optional(),
      registrationTimeoutMs: positiveMs.optional(),
      reregistrationTimeoutMs: positiveMs.optional(),
    })
    .optional(),
});

/** Checks options (they may come from flags); throws an Error naming the option. */
export function checkAgentOptions(options: AgentOptions): void {
  const { log: _log, headers: _headers, ...checked } = options;
  const r = agentOptionsSchema.safeParse(checked);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`invalid agent option ${issue?.path.join('.') || ''}: ${issue?.message ?? 'invalid'}`);
  }
}

export interface ResolvedAgent {
  readonly hostname: string;
  readonly resources: Resources;
  readonly attributes: Readonly<Record<string, string>>;
  readonly ec2: Ec2Identity | undefined;
}

/** Resources and attributes from the options, the host, and (when asked) EC2 instance metadata. */
export async function resolveAgent(options: AgentOptions, log: Logger): Promise<ResolvedAgent> {
  const askEc2 = options.ec2Metadata ?? options.zone === undefined;
  const ec2 = askEc2 ? await readEc2Identity({ ...(options.metadataEndpoint !== undefined && { endpoint: options.metadataEndpoint }) }) : undefined;
  if (askEc2 && ec2 === undefined) log.info('no EC2 instance metadata answered: not on EC2, attributes come from flags only');
  const zone = options.zone ?? ec2?.zone;
  if (zone === undefined) log.warn('this agent has no zone attribute: pass --zone (or run it on EC2)');
  const instanceType = options.instanceType ?? ec2?.instanceType;
  const instanceId = options.instanceId ?? ec2?.instanceId;
  const attributes: Record<string, string> = {
    ...options.attributes,
    ...(zone !== undefined && { [ZONE_ATTRIBUTE]: zone }),
    ...(options.group !== undefined && { [GROUP_ATTRIBUTE]: options.group }),
    ...(instanceType !== undefined && { [INSTANCE_TYPE_ATTRIBUTE]: instanceType }),
    ...(instanceId !== undefined && { [INSTANCE_ID_ATTRIBUTE]: instanceId }),
  };
  const detected = options.cpus !== undefined && options.mem !== undefined && options.disk !== undefined ? undefined : detectHostResources(options.workDir);
  const res = toResources({
    cpus: options.cpus ?? detected?.cpus,
    mem: options.mem ?? detected?.mem,
    disk: options.disk ?? detected?.disk,
    ports: options.ports ?? DEFAULT_PORTS,
  });
  return { hostname: options.hostname ?? osHostname(), resources: res, attributes, ec2 };
}
