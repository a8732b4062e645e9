import { describe, expect, it } from 'vitest';
import { numberFlag, UsageError } from '../../../src/cli/command.js';

describe('numberFlag', () => {
  it('reads a number, or undefined when the flag is absent', () => {
    expect(numberFlag('cpus', '0.5')).toBe(0.5);
    expect(numberFlag('cpus', undefined)).toBeUndefined();
  });

  it('refuses what is not a number in range, naming the flag (or the positional in capitals)', () => {
    expect(() => numberFlag('cpus', 'many')).toThrow(new UsageError("--cpus must be a number (got 'many')"));
    expect(() => numberFlag('cpus', ' ')).toThrow(UsageError);
    expect(() => numberFlag('port', '1.5', { integer: true })).toThrow("--port must be a whole number (got '1.5')");
    expect(() => numberFlag('limit', '0', { integer: true, min: 1, max: 1000 })).toThrow("--limit must be a whole number from 1 to 1000 (got '0')");
    expect(() => numberFlag('tail', '-1', { integer: true, min: 0 })).toThrow("--tail must be a whole number of at least 0 (got '-1')");
    expect(() => numberFlag('N', 'x', { integer: true, min: 0 })).toThrow("N must be a whole number of at least 0 (got 'x')");
  });
});
