import { ValidationError } from '../../src/core/errors.js';

/** The field a ValidationError names, or undefined when `fn` accepts its input. */
export function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ValidationError) return e.field;
    throw e;
  }
  return undefined;
}
