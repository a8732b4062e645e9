import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../../src/core/errors.js';
import { canTransition, isTerminal, TASK_STATES, TERMINAL_STATES, transition, TRANSITIONS } from '../../../src/core/task-state.js';

describe('task state machine', () => {
  it('has every Mesos task state', () => {
    expect(TASK_STATES).toEqual([
      'STAGING', 'STARTING', 'RUNNING', 'KILLING', 'FINISHED', 'FAILED', 'KILLED', 'ERROR', 'LOST', 'DROPPED',
      'UNREACHABLE', 'GONE', 'GONE_BY_OPERATOR', 'UNKNOWN',
    ]);
  });

  it('allows the normal lifecycle', () => {
    expect(transition('STAGING', 'STARTING')).toBe('STARTING');
    expect(transition('STARTING', 'RUNNING')).toBe('RUNNING');
    expect(transition('RUNNING', 'RUNNING')).toBe('RUNNING'); // health changes
    expect(transition('RUNNING', 'KILLING')).toBe('KILLING');
    expect(transition('KILLING', 'KILLED')).toBe('KILLED');
    expect(transition('RUNNING', 'FINISHED')).toBe('FINISHED');
    expect(transition('STAGING', 'DROPPED')).toBe('DROPPED');
  });

  it('lets an unreachable task come back or end', () => {
    expect(canTransition('RUNNING', 'UNREACHABLE')).toBe(true);
    expect(canTransition('UNREACHABLE', 'RUNNING')).toBe(true);
    expect(canTransition('UNREACHABLE', 'GONE')).toBe(true);
    expect(isTerminal('UNREACHABLE')).toBe(false);
  });

  it('never leaves a terminal state', () => {
    for (const s of TERMINAL_STATES) {
      expect(TRANSITIONS[s]).toEqual([]);
      for (const t of TASK_STATES) expect(() => transition(s, t)).toThrow(IllegalTransitionError);
    }
  });

  it('rejects illegal moves with a message naming both states', () => {
    expect(() => transition('RUNNING', 'STAGING')).toThrow('task cannot move from TASK_RUNNING to TASK_STAGING');
    expect(() => transition('STARTING', 'DROPPED')).toThrow(IllegalTransitionError);
    expect(() => transition('KILLING', 'RUNNING')).toThrow(IllegalTransitionError);
  });

  it('never moves into UNKNOWN, which only answers reconciliation', () => {
    for (const s of TASK_STATES) expect(canTransition(s, 'UNKNOWN')).toBe(false);
  });
});
