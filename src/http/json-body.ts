import { ValidationError } from '../core/errors.js';
import { ApiError } from '../wire/api-error.js';
import type { HttpRequest } from './types.js';

// Every JSON route reads its body the same way: 415 unless it is JSON, 400 naming 'body' when
// it is empty or malformed.

export function parseJsonBody(req: HttpRequest): unknown {
  const type = req.headers['content-type'] ?? 'application/json';
  if (!/application\/json/i.test(type)) {
    throw new ApiError(415, `Content-Type ${type} is not supported: Stratus speaks the Mesos v1 API in JSON (application/json)`, 'Content-Type');
  }
  if (req.body.trim() === '') throw new ValidationError('the request body is empty', 'body');
  try {
    return JSON.parse(req.body) as unknown;
  } catch (e) {
    throw new ValidationError(`malformed JSON: ${(e as Error).message}`, 'body');
  }
}
