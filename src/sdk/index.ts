// Stratus's TypeScript scheduler SDK: a Mesos v1 HTTP scheduler driver.
export { SchedulerDriver, SCHEDULER_PATH, EVENTS_PATH, type SchedulerDriverOptions, type DriverLogger } from './driver.js';
export { SchedulerCallError, NotSubscribedError } from './errors.js';
export { ApiError } from '../wire/api-error.js';
// The SDK's retry pacing is the core's (one backoff for the whole code base).
export { Backoff, backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from '../core/backoff.js';
export { sleep } from '../core/sleep.js';
export { readRecordIO, RecordIOError } from '../wire/recordio.js';
export { mesosResources, portNumbers, type ResourceRequest } from './resources.js';
export {  type FetchFn } from './http-client.js';
export { authHeaders } from '../http/json-client.js';
export type { ReconcileOptions } from './reconciler.js';
export type {
  CommandInfo,
  Credentials,
  DriverEventMap,
  DriverEventName,
  DriverListener,
  FailureInfo,
  Filters,
  FrameworkOptions,
  HealthCheckInfo,
  MesosResource,
  MessageInfo,
  Offer,
  OfferedResources,
  PortRange,
  ReconcileResult,
  SubscribedInfo,
  TaskInfo,
  TaskRef,
  TaskStateName,
  TaskStatus,
} from './types.js';
