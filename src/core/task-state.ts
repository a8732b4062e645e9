import { IllegalTransitionError } from './errors.js';

// Mesos's task states (mesos.v1.TaskState without the TASK_ prefix).
export const TASK_STATES = [
  'STAGING',
  'STARTING',
  'RUNNING',
  'KILLING',
  'FINISHED',
  'FAILED',
  'KILLED',
  'ERROR',
  'LOST',
  'DROPPED',
  'UNREACHABLE',
  'GONE',
  'GONE_BY_OPERATOR',
  'UNKNOWN',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  'FINISHED',
  'FAILED',
  'KILLED',
  'ERROR',
  'LOST',
  'DROPPED',
  'GONE',
  'GONE_BY_OPERATOR',
]);

export function isTerminal(state: TaskState): boolean {
  return TERMINAL_STATES.has(state);
}

export function isTaskState(value: unknown): value is TaskState {
  return typeof value === 'string' && (TASK_STATES as readonly string[]).includes(value);
}

/** A state as the wire names it (`TASK_RUNNING`), or undefined for a name that is not one. */
export function parseTaskStateName(name: string): TaskState | undefined {
  const s = name.startsWith('TASK_') ? name.slice(5) : undefined;
  return isTaskState(s) ? s : undefined;
}

/** The wire name of a state (`TASK_RUNNING`). */
export function taskStateName(state: TaskState): `TASK_${TaskState}` {
  return `TASK_${state}`;
}

// States a task can end in once it has reached an agent.
const ENDINGS_ON_AGENT: readonly TaskState[] = ['FINISHED', 'FAILED', 'KILLED', 'LOST', 'GONE', 'GONE_BY_OPERATOR'];

/**
 * Legal transitions. RUNNING → RUNNING carries health changes. UNREACHABLE is not terminal
 * (partition-aware Mesos): an agent that comes back reports what its tasks really are.
 * UNKNOWN is only ever an answer to reconciliation, never a stored state.
 */
export const TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  STAGING: ['STARTING', 'RUNNING', 'KILLING', 'ERROR', 'DROPPED', 'UNREACHABLE', ...ENDINGS_ON_AGENT],
  STARTING: ['RUNNING', 'KILLING', 'UNREACHABLE', ...ENDINGS_ON_AGENT],
  RUNNING: ['RUNNING', 'KILLING', 'UNREACHABLE', ...ENDINGS_ON_AGENT],
  KILLING: ['UNREACHABLE', ...ENDINGS_ON_AGENT],
  UNREACHABLE: ['STARTING', 'RUNNING', 'KILLING', ...ENDINGS_ON_AGENT],
  FINISHED: [],
  FAILED: [],
  KILLED: [],
  ERROR: [],
  LOST: [],
  DROPPED: [],
  GONE: [],
  GONE_BY_OPERATOR: [],
  UNKNOWN: [],
};

export function canTransition(from: TaskState, to: TaskState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Returns `to` when the move is legal; throws IllegalTransitionError otherwise. */
export function transition(from: TaskState, to: TaskState, field = 'state'): TaskState {
  if (!canTransition(from, to)) {
    throw new IllegalTransitionError(`task cannot move from TASK_${from} to TASK_${to}`, field);
  }
  return to;
}
