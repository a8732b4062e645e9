import { StratusError, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { ApiError } from '../wire/api-error.js';
import type { JsonResponse } from './types.js';

// Errors become JSON bodies naming the field: domain errors by their code, ApiErrors by their
// status; anything else is a 500 that says nothing about internals (the log has the details).

const STATUS: Record<ErrorCode, number> = {
  VALIDATION: 400,
  INSUFFICIENT_RESOURCES: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ILLEGAL_TRANSITION: 409,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  FENCED: 503,
  UNAVAILABLE: 503,
};

export function errorResponse(e: unknown, log: Logger): JsonResponse {
  if (e instanceof ApiError) return { status: e.status, body: { error: e.message, ...(e.field ? { field: e.field } : {}) } };
  if (e instanceof StratusError) {
    const status = STATUS[e.code];
    // 503s are transient (no leader yet, a busy item): say when to come back, as Mesos clients expect.
    const headers: Record<string, string> = status === 401 ? { 'WWW-Authenticate': 'Basic realm="stratus", Bearer' } : status === 503 ? { 'Retry-After': '1' } : {};
    return { status, headers, body: { error: e.message, ...(e.field ? { field: e.field } : {}), code: e.code } };
  }
  log.error('internal error', { error: e });
  return { status: 500, body: { error: 'internal error; see the log' } };
}
