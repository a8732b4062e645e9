import type { Registry } from '../state/registry.js';
import type { MasterConfig } from './config.js';
import type { Logger } from '../core/logger.js';
import type { Notifier } from './notifier.js';
import type { MasterMetrics } from './metrics.js';

/** What every master use case works with. Built once per process (or Lambda container). */
export interface MasterContext {
  readonly registry: Registry;
  readonly config: MasterConfig;
  readonly notifier: Notifier;
  readonly log: Logger;
  /** This master's counters and gauges (GET /metrics); use cases count after they commit. */
  readonly metrics: MasterMetrics;
  /** Wall-clock milliseconds (offer expiry, status timestamps); tests inject a fake. */
  now(): number;
}
