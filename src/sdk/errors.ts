// Errors the driver throws to its caller.

/** The master refused a call: the one API error type (its HTTP status and the field it names). */
export { ApiError as SchedulerCallError } from '../wire/api-error.js';

/** A call made while the driver has no subscription (before the first SUBSCRIBED, or after stop). */
export class NotSubscribedError extends Error {
  constructor(message = 'the scheduler driver is not subscribed') {
    super(message);
    this.name = 'NotSubscribedError';
  }
}
