// In-memory counters of one autoscaler (the leader's process), shown by the status route.

export interface AutoscalerMetrics {
  /** Controller passes run. */
  evaluations: number;
  scaleUps: number;
  hostsRequested: number;
  scaleDowns: number;
  hostsRemoved: number;
  drainsStarted: number;
  drainsOverdue: number;
  drainsCancelled: number;
  launchesTimedOut: number;
  providerErrors: number;
  providerRetries: number;
  /** Operations given up after a permanent provider error. */
  operationsFailed: number;
  /** Pending tasks ignored in the latest pass, by why. */
  pendingStale: number;
  pendingConstraint: number;
  /** Passes that ended in an error other than lost leadership. */
  errors: number;
  lastEvaluationAt?: number;
  lastEvaluationMs?: number;
}

export function newMetrics(): AutoscalerMetrics {
  return {
    evaluations: 0,
    scaleUps: 0,
    hostsRequested: 0,
    scaleDowns: 0,
    hostsRemoved: 0,
    drainsStarted: 0,
    drainsOverdue: 0,
    drainsCancelled: 0,
    launchesTimedOut: 0,
    providerErrors: 0,
    providerRetries: 0,
    operationsFailed: 0,
    pendingStale: 0,
    pendingConstraint: 0,
    errors: 0,
  };
}
