import { getSystemErrorName } from 'node:util';
import { UnavailableError } from '../../../core/errors.js';

// What a failed Docker call means, from what dockerode (docker-modem) attaches to its errors:
// the engine's HTTP status when it answered, the socket's error code (or errno) when it did not.

/** The fields docker-modem and Node's sockets put on their errors. */
interface DockerError {
  /** The engine's HTTP status: it answered, with an error about the request. */
  readonly statusCode?: number;
  /** A system error's name (ECONNREFUSED, ...), or Node's own (ABORT_ERR, ...). */
  readonly code?: string | number;
  /** A system error's (negative) number. */
  readonly errno?: number;
  readonly name?: string;
  readonly message?: string;
  readonly json?: { readonly message?: string };
}

/** The engine answered 304: the container is already started (or stopped). */
export const NOT_MODIFIED = 304;
/** The engine answered 404: no such container, or no such image. */
export const NOT_FOUND = 404;
/** The engine answered 409: a name in use, or a container not running (kill). */
export const CONFLICT = 409;

/** Socket errors that mean the engine is not there (or stopped answering), not that a request was wrong. */
const ENGINE_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EACCES',
  'ENOTSOCK',
  'ABORT_ERR',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

const errInfo = (e: unknown): DockerError => (typeof e === 'object' && e !== null ? (e as DockerError) : { message: String(e) });

/** The engine's HTTP status for a call it answered with an error; undefined if it did not answer. */
export function httpStatus(e: unknown): number | undefined {
  const status = errInfo(e).statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The socket error's name: its code, or the name of its errno. */
export function socketErrorCode(e: unknown): string | undefined {
  const err = errInfo(e);
  if (typeof err.code === 'string') return err.code;
  if (typeof err.errno === 'number' && err.errno < 0) return getSystemErrorName(err.errno);
  return undefined;
}

/** The engine did not answer at all (as opposed to answering with an error about the task). */
export function isEngineUnavailable(e: unknown): boolean {
  const err = errInfo(e);
  if (httpStatus(e) !== undefined) return false;
  const code = socketErrorCode(e);
  if (code !== undefined && ENGINE_DOWN_CODES.has(code)) return true;
  // An AbortSignal.timeout that fired before the request was sent is a DOMException (numeric code).
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return true;
  if (code !== undefined) return false;
  // Last resort, for an error that carries no status, no code and no errno (a plain Error from a
  // stream or callback inside docker-modem): its text is all there is to tell a dropped
  // connection from a bad request.
  return /socket hang up|timed? ?out|aborted|ECONNREFUSED|ENOENT/i.test(err.message ?? '');
}

/** Docker's own message for an API error, without dockerode's "(HTTP code ...)" wrapping. */
export function dockerMessage(e: unknown): string {
  const err = errInfo(e);
  return (err.json?.message ?? err.message ?? String(e)).trim();
}

/** An engine call gave up: the engine did not answer within the retry deadline. */
export class EngineUnavailableError extends UnavailableError {}

/** The task's image is not on this agent and cannot be pulled (the message says why). */
export class ImageUnavailableError extends Error {}
