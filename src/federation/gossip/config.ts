// Gossip settings. Liveness is counted in missed gossip intervals, so one knob (the
// interval) scales detection times, as in SWIM-style failure detectors.

export interface GossipConfig {
  /** A digest is sent to every peer this often (issue 8: 5 s). */
  readonly intervalMs: number;
  /** A peer with no newer digest for this many intervals is suspect... */
  readonly suspectAfterMissed: number;
  /** ...and dead after this many. */
  readonly deadAfterMissed: number;
  /** The longest one receive long-poll waits (SQS allows 20 s). */
  readonly receiveWaitMs: number;
  /** Messages per receive call (SQS allows 10). */
  readonly receiveBatch: number;
  /** Largest encoded digest accepted or sent: SQS's 256 KiB limit minus room for attributes. */
  readonly maxDigestBytes: number;
  /** Digests whose JSON is larger than this are sent gzip + base64. */
  readonly compressAboveBytes: number;
  /** Zones and groups past this many are folded into one bucket, so size stays bounded. */
  readonly maxBuckets: number;
  /** Endpoints kept per service name before the digest marks it truncated. */
  readonly maxEndpointsPerService: number;
  readonly maxServices: number;
}

export const DEFAULT_GOSSIP_CONFIG: GossipConfig = {
  intervalMs: 5_000,
  suspectAfterMissed: 3,
  deadAfterMissed: 6,
  receiveWaitMs: 20_000,
  receiveBatch: 10,
  maxDigestBytes: 250_000,
  compressAboveBytes: 64 * 1024,
  maxBuckets: 64,
  maxEndpointsPerService: 2_000,
  maxServices: 1_000,
};

export function gossipConfig(overrides: Partial<GossipConfig> = {}): GossipConfig {
  const c = { ...DEFAULT_GOSSIP_CONFIG, ...overrides };
  const positive = (name: keyof GossipConfig): void => {
    if (!Number.isFinite(c[name]) || c[name] <= 0) throw new Error(`federation config: ${name} must be a positive number (got ${c[name]})`);
  };
  for (const k of Object.keys(c) as (keyof GossipConfig)[]) positive(k);
  if (c.deadAfterMissed <= c.suspectAfterMissed) {
    throw new Error(`federation config: deadAfterMissed (${c.deadAfterMissed}) must exceed suspectAfterMissed (${c.suspectAfterMissed})`);
  }
  if (c.receiveBatch > 10) throw new Error('federation config: receiveBatch must be at most 10 (the SQS limit)');
  if (c.maxDigestBytes > 256 * 1024) throw new Error('federation config: maxDigestBytes must fit an SQS message (256 KiB)');
  return c;
}
