// The ScalingProvider port: what the autoscaler asks of the place hosts come from (an EC2
// Auto Scaling group, local agent daemons). Adapters translate; every choice (how many, which
// host, when) is made by the decision function (decide.ts), so an adapter only grows a group to a size it is told and
// removes the host it is told.

/** A host chosen for removal, as the master registered it. */
export interface HostRef {
  readonly group: string;
  readonly agentId: string;
  readonly hostname: string;
  /** The `instance_id` attribute (EC2 instance id, or the local provider's id). */
  readonly instanceId?: string;
  readonly zone?: string;
}

/** `gone`: the host was already removed (by someone else, or by an earlier attempt). */
export type TerminateOutcome = 'terminated' | 'gone';

export interface ScalingProvider {
  /** Short name for logs and the status route, e.g. `ec2-autoscaling`, `local`. */
  readonly kind: string;
  /** The agent groups this provider can size; rules for any other group are refused. */
  groups(): readonly string[];
  /** How many hosts the group has or is launching now (an ASG's desired capacity). */
  desiredSize(group: string): Promise<number>;
  /**
   * Makes the group `size` hosts by adding hosts; a size at or below the current one changes
   * nothing, so a repeated call (a retry, a new leader) is harmless. `zones` says where the new
   * hosts should go, for providers that place them (an ASG balances its zones itself).
   */
  growTo(group: string, size: number, zones: readonly string[]): Promise<void>;
  /** Removes exactly this host and shrinks the group's desired size by one. */
  terminate(host: HostRef): Promise<TerminateOutcome>;
}

/**
 * A provider failure. `retryable` (throttling, a timeout, a 5xx) is tried again with backoff;
 * otherwise the operation is given up and reported.
 */
export class ScalingProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ScalingProviderError';
  }
}

/** Unknown errors (a socket reset, a bug in an adapter) are treated as transient. */
export function isRetryable(e: unknown): boolean {
  return e instanceof ScalingProviderError ? e.retryable : true;
}

/** How the autoscaler retries a provider call that failed transiently (throttling, a timeout). */
export interface RetryPolicy {
  /** Delay after the first failure. */
  readonly initialMs: number;
  /** The delay doubles up to this. */
  readonly maxMs: number;
  /** After this many failed attempts the operation is given up and reported. */
  readonly maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 1_000, maxMs: 60_000, maxAttempts: 20 };
