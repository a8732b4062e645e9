// Typed domain errors. Adapters map `code` to a transport status (HTTP 4xx, ...);
// the core never knows about HTTP.

export type ErrorCode =
  | 'VALIDATION'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'FENCED'
  | 'ILLEGAL_TRANSITION'
  | 'INSUFFICIENT_RESOURCES'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'UNAVAILABLE';

export class StratusError extends Error {
  readonly code: ErrorCode;
  /** The input field the error is about, when there is one (dotted path). */
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.field = field;
  }
}

/** Input that breaks a rule: a malformed id, a negative resource, a missing field. */
export class ValidationError extends StratusError {
  constructor(message: string, field?: string) {
    super('VALIDATION', message, field);
  }
}

export class NotFoundError extends StratusError {
  constructor(message: string, field?: string) {
    super('NOT_FOUND', message, field);
  }
}

/** A conditional write lost a race (the item changed, or already exists). Retry after re-reading. */
export class ConflictError extends StratusError {
  constructor(message: string, field?: string) {
    super('CONFLICT', message, field);
  }
}

/** A leader-only write carried an epoch that is no longer the lease's. */
export class FencedError extends StratusError {
  readonly epoch: number;
  constructor(epoch: number, message = `leader epoch ${epoch} is no longer current`) {
    super('FENCED', message);
    this.epoch = epoch;
  }
}

export class IllegalTransitionError extends StratusError {
  constructor(message: string, field?: string) {
    super('ILLEGAL_TRANSITION', message, field);
  }
}

export class InsufficientResourcesError extends StratusError {
  constructor(message: string, field?: string) {
    super('INSUFFICIENT_RESOURCES', message, field);
  }
}

export class UnauthenticatedError extends StratusError {
  constructor(message = 'authentication required') {
    super('UNAUTHENTICATED', message);
  }
}

export class ForbiddenError extends StratusError {
  constructor(message = 'not allowed', field?: string) {
    super('FORBIDDEN', message, field);
  }
}

/** A dependency (the table, the engine) did not answer; the call may be retried. */
export class UnavailableError extends StratusError {
  constructor(message: string) {
    super('UNAVAILABLE', message);
  }
}

export function isStratusError(e: unknown): e is StratusError {
  return e instanceof StratusError;
}
