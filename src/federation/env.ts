import { z } from 'zod';
import type { ExtensibleMaster } from '../master-lambda/extension.js';
import { attachFederation, type AttachedFederation, type AttachFederationOptions } from './attach.js';
import type { GossipConfig } from './gossip/config.js';
import { regionName } from './gossip/digest.js';
import { peerHeaders } from './jobs/peer-auth.js';
import { DEFAULT_QUEUE_PREFIX, QueueDirectory, sqsClientFromEnv } from './gossip/sqs-queues.js';
import { SqsGossipTransport } from './gossip/sqs-transport.js';

// Federation settings of a deployed region, from its environment (the CDK stack sets them):
//   STRATUS_REGION               this region's name
//   STRATUS_PEERS                the peer regions, comma-separated
//   STRATUS_GOSSIP_QUEUES        optional JSON {"region": "queue URL"}; others are looked up by name
//   STRATUS_GOSSIP_QUEUE_PREFIX  queue name prefix (default stratus-gossip)
//   STRATUS_GOSSIP_INTERVAL_MS   gossip interval (default 5000)

export interface FederationSettings {
  readonly region: string;
  readonly peers: readonly string[];
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly queuePrefix: string;
  readonly config: Partial<GossipConfig>;
}

const settingsSchema = z.object({
  STRATUS_REGION: regionName,
  STRATUS_PEERS: z
    .string()
    .optional()
    .transform((s) => (s ?? '').split(',').map((p) => p.trim()).filter(Boolean))
    .pipe(z.array(regionName)),
  STRATUS_GOSSIP_QUEUES: z
    .string()
    .optional()
    .transform((s, ctx) => {
      try {
        return s ? (JSON.parse(s) as unknown) : {};
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object of region -> queue URL' });
        return z.NEVER;
      }
    })
    .pipe(z.record(regionName, z.url())),
  STRATUS_GOSSIP_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/).optional(),
  STRATUS_GOSSIP_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).optional(),
});

/** Reads and validates the settings; the error names the variable at fault. */
export function federationSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): FederationSettings {
  const r = settingsSchema.safeParse(env);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`federation settings: ${String(i?.path[0] ?? 'environment')}: ${i?.message ?? 'invalid'}`);
  }
  const e = r.data;
  return {
    region: e.STRATUS_REGION,
    peers: e.STRATUS_PEERS.filter((p) => p !== e.STRATUS_REGION),
    queueUrls: e.STRATUS_GOSSIP_QUEUES,
    queuePrefix: e.STRATUS_GOSSIP_QUEUE_PREFIX ?? DEFAULT_QUEUE_PREFIX,
    config: e.STRATUS_GOSSIP_INTERVAL_MS ? { intervalMs: e.STRATUS_GOSSIP_INTERVAL_MS } : {},
  };
}

/** The SQS gossip transport of a deployed region, from its settings. */
export function sqsTransportFromEnv(settings: FederationSettings, env: NodeJS.ProcessEnv = process.env): SqsGossipTransport {
  const client = sqsClientFromEnv(env);
  return new SqsGossipTransport({ region: settings.region, client, directory: new QueueDirectory(client, settings.queueUrls, settings.queuePrefix) });
}

/**
 * A deployed region's federation on SQS, attached to its master, when the environment asks for
 * one (STRATUS_REGION with STRATUS_PEERS); undefined otherwise. Federated jobs read the
 * region's jobs from its table; peers' jobs APIs are called with STRATUS_PEER_AUTHORIZATION.
 */
export function attachFederationFromEnv(
  master: ExtensibleMaster,
  options: Pick<AttachFederationOptions, 'run' | 'api' | 'jobs'>,
  env: NodeJS.ProcessEnv = process.env,
): AttachedFederation | undefined {
  if (env.STRATUS_PEERS === undefined || !env.STRATUS_REGION) return undefined;
  const s = federationSettingsFromEnv(env);
  return attachFederation(master, { ...options, region: s.region, peers: s.peers, transport: sqsTransportFromEnv(s, env), config: s.config, ...peerHeaders(env) });
}
