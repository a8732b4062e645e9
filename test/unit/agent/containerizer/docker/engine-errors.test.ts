import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { dockerMessage, httpStatus, isEngineUnavailable, socketErrorCode } from '../../../../../src/agent/containerizer/docker/engine-errors.js';

// What docker-modem rejects with: an Error with statusCode/json when the engine answered, Node's
// socket errors (code, errno) when it did not.
const answered = (statusCode: number, message: string): Error => Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), { statusCode, json: { message } });
const socketError = (code: string, errno?: number): Error => Object.assign(new Error(`connect ${code} /var/run/docker.sock`), { code, ...(errno !== undefined && { errno }) });

describe('Docker error classification', () => {
  it('reads the HTTP status of an answered call', () => {
    expect(httpStatus(answered(404, 'No such container: x'))).toBe(404);
    expect(httpStatus(answered(409, 'Conflict. The container name is already in use'))).toBe(409);
    expect(httpStatus(socketError('ECONNREFUSED'))).toBeUndefined();
    expect(httpStatus('not an error')).toBeUndefined();
  });

  it('counts an engine that answered as available, whatever its message says', () => {
    expect(isEngineUnavailable(answered(500, 'connection timed out talking to the registry'))).toBe(false);
    expect(isEngineUnavailable(answered(404, 'No such image: x:latest'))).toBe(false);
  });

  it('counts socket errors by their code, or by their errno when there is no code', () => {
    for (const code of ['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EACCES', 'ABORT_ERR']) expect(isEngineUnavailable(socketError(code)), code).toBe(true);
    expect(isEngineUnavailable(Object.assign(new Error('connect failed'), { errno: -constants.errno.ECONNREFUSED }))).toBe(true);
    expect(socketErrorCode(Object.assign(new Error('x'), { errno: -constants.errno.ENOENT }))).toBe('ENOENT');
    // A code that is not about the connection decides too, even if the text sounds like one.
    expect(isEngineUnavailable(Object.assign(new Error('aborted'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBe(false);
  });

  it('counts aborted and timed-out requests', () => {
    expect(isEngineUnavailable(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe(true);
    expect(isEngineUnavailable(Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }))).toBe(true);
  });

  it('falls back on the text only for an error with no status, code or errno', () => {
    expect(isEngineUnavailable(new Error('socket hang up'))).toBe(true);
    expect(isEngineUnavailable(new Error('invalid JSON in the answer'))).toBe(false);
  });

  it("gives Docker's own message without dockerode's wrapping", () => {
    expect(dockerMessage(answered(404, 'No such container: x'))).toBe('No such container: x');
    expect(dockerMessage(socketError('ENOENT'))).toBe('connect ENOENT /var/run/docker.sock');
  });
});
