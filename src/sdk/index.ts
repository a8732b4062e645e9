// Stratus's TypeScript scheduler SDK: a Mesos v1 HTTP scheduler driver.
export { SchedulerDriver, SCHEDULER_PATH, EVENTS_PATH, type SchedulerDriverOptions, type DriverLogger } from './driver.js';
export { SchedulerCallError, NotSubscribedError } from './errors.js';
export { backoffDelay, sleep, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { readRecordIO, RecordIOError } from './recordio.js';
export { mesosResources, portNumbers, type ResourceRequest } from './resources.js';
export { authHeaders, type FetchFn } from './http-client.js';
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
