// Errors the driver throws to its caller.

/** The master refused a call: its HTTP status and, for 4xx, the message and the field it names. */
export class SchedulerCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'SchedulerCallError';
  }
}

/** A call made while the driver has no subscription (before the first SUBSCRIBED, or after stop). */
export class NotSubscribedError extends Error {
  constructor(message = 'the scheduler driver is not subscribed') {
    super(message);
    this.name = 'NotSubscribedError';
  }
}
