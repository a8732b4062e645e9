import type { Router } from '../http/router.js';
import type { LeaderLease } from '../state/leader-lease.js';
import type { Registry } from '../state/registry.js';
import type { LeaderDuty } from './leader-loop.js';
import type { MasterContext } from './master-context.js';

// The master's extension surface: all that the autoscaler and federation may use of it. They
// import this file and nothing deeper (a lint rule holds them to it), so the master's inside
// can change without them. Subsystems attach to a running master through `ExtensibleMaster`
// (attachAutoscaler, attachFederation); they act as the leader through a `LeaderDuty`.

export type { MasterContext } from './master-context.js';
export type { LeaderDuty } from './leader-loop.js';
export { retryOnConflict } from './retry.js';
export { drainAgent, setAgentActive, type DrainOptions } from './use-cases/operator-actions.js';
export { markAgentGone } from './use-cases/master-task-updates.js';

/** A master as an optional subsystem sees it: its state, lease, router, and a place for leader duties. */
export interface ExtensibleMaster {
  readonly ctx: MasterContext;
  readonly registry: Registry;
  readonly lease: LeaderLease;
  readonly api: Router;
  addDuty(duty: LeaderDuty): unknown;
}
