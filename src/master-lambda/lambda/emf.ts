import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MasterMetrics } from '../metrics.js';

// In a deployed region nothing scrapes a Lambda: each entry point writes its metrics to stdout
// in CloudWatch's Embedded Metric Format (one JSON line per invocation, through Powertools),
// and CloudWatch Logs turns them into metrics. Per invocation: Invocations and Duration; and
// the master's domain counters (offers, task states, API and store requests) as what they grew
// by since this container's last invocation, so CloudWatch's sums are the region's totals.

export const EMF_NAMESPACE = 'Stratus';

export type EntryPoint = 'api' | 'tick' | 'gossip-receiver' | 'agent-socket';

/** The master's counters CloudWatch gets, as totals since this container started. */
export async function domainTotals(m: MasterMetrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const bump = (name: string, v: number): void => void (out[name] = (out[name] ?? 0) + v);
  for (const e of ['sent', 'accepted', 'declined', 'rescinded']) out[`Offers${e[0]!.toUpperCase()}${e.slice(1)}`] = 0;
  for (const v of (await m.offers.get()).values) bump(`Offers${String(v.labels.event)[0]!.toUpperCase()}${String(v.labels.event).slice(1)}`, v.value);
  for (const v of (await m.taskTransitions.get()).values) {
    const state = String(v.labels.state).replace(/^TASK_/, '');
    bump(`Tasks${state.split('_').map((w) => w[0] + w.slice(1).toLowerCase()).join('')}`, v.value);
  }
  out.ApiRequests = 0;
  out.ApiServerErrors = 0;
  for (const v of (await m.apiRequests.get()).values) {
    bump('ApiRequests', v.value);
    if (String(v.labels.code).startsWith('5')) bump('ApiServerErrors', v.value);
  }
  out.StoreRequests = 0;
  out.StoreConflicts = 0;
  for (const v of (await m.storeRequests.get()).values) {
    bump('StoreRequests', v.value);
    if (v.labels.outcome === 'conflict') bump('StoreConflicts', v.value);
  }
  out.AllocationRounds = m.rounds.count;
  return out;
}

export class LambdaMetrics {
  private readonly emf: Metrics;
  private readonly published = new Map<string, number>();

  constructor(
    readonly entryPoint: EntryPoint,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.emf = new Metrics({
      namespace: env.STRATUS_METRICS_NAMESPACE ?? EMF_NAMESPACE,
      serviceName: 'stratus',
      defaultDimensions: { region: env.STRATUS_REGION ?? env.AWS_REGION ?? 'local', entrypoint: entryPoint },
    });
  }

  /** Writes this invocation's EMF line: Invocations, Duration, and how much each total grew. */
  publish(durationMs: number, totals: Record<string, number> = {}): void {
    this.emf.addMetric('Invocations', MetricUnit.Count, 1);
    this.emf.addMetric('Duration', MetricUnit.Milliseconds, durationMs);
    for (const [name, total] of Object.entries(totals)) {
      const grew = total - (this.published.get(name) ?? 0);
      this.published.set(name, total);
      if (grew > 0) this.emf.addMetric(name, MetricUnit.Count, grew);
    }
    this.emf.publishStoredMetrics();
  }
}

/** Runs one invocation and publishes its metrics, also when it throws. */
export async function withMetrics<T>(lm: LambdaMetrics, run: () => Promise<T>, totals: () => Promise<Record<string, number>> | Record<string, number>): Promise<T> {
  const start = performance.now();
  try {
    return await run();
  } finally {
    lm.publish(performance.now() - start, await totals());
  }
}
