// Federated jobs' timing, in gossip intervals (like failure detection), so one knob scales all.

export interface FederatedJobsConfig {
  /** A region that was dead gets its share back once alive and healthy for this many intervals. */
  readonly handBackAfterIntervals: number;
  /**
   * After starting (or winning the lease) a controller listens this many intervals before it
   * decides: long enough to hear the current owners and for stale liveness to age out.
   * Default: the suspect bound plus one.
   */
  readonly warmupIntervals?: number;
  /** A change sent to a region is not sent again for this many intervals while its digest catches up. */
  readonly resendAfterIntervals: number;
  /** A region that could not place instances (or refused a change) is asked for no more for this long. */
  readonly holdIntervals: number;
  /** A pending instance counts as unplaceable once Fenzo has said "no room" for this many intervals. */
  readonly unplaceableAfterIntervals: number;
  /** A replica or child of a job its live owner no longer lists is removed after this many intervals. */
  readonly orphanAfterIntervals: number;
  /** Bytes of definitions per digest; past that they take turns over the next rounds. */
  readonly definitionBytesPerDigest: number;
}

export const DEFAULT_FEDERATED_JOBS_CONFIG: FederatedJobsConfig = {
  handBackAfterIntervals: 6,
  resendAfterIntervals: 3,
  holdIntervals: 20,
  unplaceableAfterIntervals: 2,
  orphanAfterIntervals: 6,
  definitionBytesPerDigest: 96 * 1024,
};

export function federatedJobsConfig(overrides: Partial<FederatedJobsConfig> = {}): FederatedJobsConfig {
  const c = { ...DEFAULT_FEDERATED_JOBS_CONFIG, ...overrides };
  for (const [k, v] of Object.entries(c)) {
    if (v !== undefined && (!Number.isFinite(v) || v < 0)) throw new Error(`federated jobs config: ${k} must be a non-negative number (got ${v})`);
  }
  return c;
}
