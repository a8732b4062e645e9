import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../src/core/errors.js';
import { decodeExecutorCall } from '../../../../src/agent/executor/executor-call.js';

// The executor API's Call as the agent reads it: Mesos's shape, JSON null as unset, and every
// refusal naming its field.

const ids = { framework_id: { value: 'F1' }, executor_id: { value: 'E1' } };
const uuid = Buffer.alloc(16, 1).toString('base64');
const update = (status: Record<string, unknown>) => ({ ...ids, type: 'UPDATE', update: { status: { task_id: { value: 't1' }, state: 'TASK_RUNNING', uuid, ...status } } });

function fieldOf(body: unknown): string | undefined {
  try {
    decodeExecutorCall(body);
  } catch (e) {
    if (e instanceof ValidationError) return e.field;
    throw e;
  }
  return undefined;
}

describe('decodeExecutorCall', () => {
  it('reads SUBSCRIBE, UPDATE and MESSAGE; null means unset', () => {
    expect(decodeExecutorCall({ ...ids, type: 'SUBSCRIBE', subscribe: { unacknowledged_tasks: null, unacknowledged_updates: [] } }).subscribe).toEqual({ unacknowledged_updates: [] });
    expect(decodeExecutorCall({ ...ids, type: 'SUBSCRIBE', subscribe: null }).subscribe).toBeUndefined();
    expect(decodeExecutorCall(update({ message: null, reason: 'REASON_COMMAND_EXECUTOR_FAILED', source: 'SOURCE_EXECUTOR' })).update?.status).toMatchObject({ state: 'TASK_RUNNING', uuid });
    expect(decodeExecutorCall({ ...ids, type: 'MESSAGE', message: { data: 'aGk=' } }).message).toEqual({ data: 'aGk=' });
  });

  it('refuses malformed calls, naming the field', () => {
    expect(fieldOf('nope')).toBe('body');
    expect(fieldOf({ ...ids, type: 'LAUNCH' })).toBe('type');
    expect(fieldOf({ type: 'SUBSCRIBE', executor_id: { value: 'E1' } })).toBe('framework_id');
    expect(fieldOf({ ...ids, executor_id: { value: 'a/b' }, type: 'SUBSCRIBE' })).toBe('executor_id.value');
    expect(fieldOf({ ...ids, type: 'UPDATE' })).toBe('update');
    expect(fieldOf({ ...ids, type: 'UPDATE', update: null })).toBe('update');
    expect(fieldOf(update({ uuid: 'abc' }))).toBe('update.status.uuid');
    expect(fieldOf(update({ uuid: Buffer.alloc(8).toString('base64') }))).toBe('update.status.uuid');
    expect(fieldOf(update({ state: 'TASK_STAGING' }))).toBe('update.status.state');
    expect(fieldOf(update({ state: 'RUNNING' }))).toBe('update.status.state');
    expect(fieldOf(update({ source: 'SOURCE_MASTER' }))).toBe('update.status.source');
    expect(fieldOf(update({ reason: 'because' }))).toBe('update.status.reason');
    expect(fieldOf(update({ executor_id: { value: 'E2' } }))).toBe('update.status.executor_id.value');
    expect(fieldOf(update({ task_id: { value: '../x' } }))).toBe('update.status.task_id.value');
    expect(fieldOf({ ...ids, type: 'MESSAGE', message: { data: 'not base64!' } })).toBe('message.data');
    expect(fieldOf({ ...ids, type: 'MESSAGE' })).toBe('message');
    const resent = { ...ids, type: 'SUBSCRIBE', subscribe: { unacknowledged_updates: [{ framework_id: { value: 'F2' }, status: update({}).update.status }] } };
    expect(fieldOf(resent)).toBe('subscribe.unacknowledged_updates[0].framework_id.value');
  });
});
