import type { Registry } from '../state/registry.js';
import type { MasterConfig } from './config.js';
import type { Logger } from '../core/logger.js';
import type { Notifier } from './notifier.js';

/** What every master use case works with. Built once per process (or Lambda container). */
export interface MasterContext {
  readonly registry: Registry;
  readonly config: MasterConfig;
  readonly notifier: Notifier;
  readonly log: Logger;
  /** Wall-clock milliseconds (offer expiry, status timestamps); tests inject a fake. */
  now(): number;
}
