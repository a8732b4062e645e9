import { DEFAULT_INSTANCE_BACKOFF, type InstanceBackoff } from './lifecycle.js';

// The jobs framework's clocks: how often it steps and re-reads, how long it waits before
// replacing or asking again, and what its declines and accepts leave of the offers.

export interface JobsTiming {
  /** How often a step runs without any event (backoffs expiring, kill retries). */
  readonly tickMs: number;
  /** Job intents are re-read from the Registry this often (changes made by other processes). */
  readonly refreshMs: number;
  readonly agentRefreshMs: number;
  /** A step follows an event or API change after this quiet time. */
  readonly debounceMs: number;
  readonly backoff: InstanceBackoff;
  /** A task not RUNNING this long after launch is killed and replaced (Marathon's task_launch_timeout). */
  readonly launchTimeoutMs: number;
  /** A KILL with no answer is sent again after this. */
  readonly killRetryMs: number;
  /** Offers left unused while instances wait (they may fit after the next change). */
  readonly declineRefuseSeconds: number;
  /** Offers declined with nothing to launch (the framework also suppresses). */
  readonly idleRefuseSeconds: number;
  /** What an ACCEPT leaves of its offers. */
  readonly acceptRefuseSeconds: number;
  /** With no offers, a pass still runs this often to keep pending reasons current. */
  readonly reasonsRefreshMs: number;
}

export const DEFAULT_JOBS_TIMING: JobsTiming = {
  tickMs: 1_000,
  refreshMs: 2_000,
  agentRefreshMs: 5_000,
  debounceMs: 20,
  backoff: DEFAULT_INSTANCE_BACKOFF,
  launchTimeoutMs: 300_000,
  killRetryMs: 10_000,
  declineRefuseSeconds: 5,
  idleRefuseSeconds: 30,
  acceptRefuseSeconds: 1,
  reasonsRefreshMs: 5_000,
};

/** The defaults with `partial` over them (the backoff merged field by field). */
export function jobsTiming(partial: Partial<JobsTiming> | undefined): JobsTiming {
  return { ...DEFAULT_JOBS_TIMING, ...partial, backoff: { ...DEFAULT_JOBS_TIMING.backoff, ...partial?.backoff } };
}
