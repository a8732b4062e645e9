import { describe, expect, it } from 'vitest';
import { Membership, stateForAge } from '../../../../src/federation/gossip/membership.js';

const cfg = { intervalMs: 100, suspectAfterMissed: 3, deadAfterMissed: 6 };

describe('membership timing', () => {
  it('is alive, then suspect after 3 missed intervals, then dead after 6', () => {
    expect(stateForAge(0, cfg)).toBe('alive');
    expect(stateForAge(299, cfg)).toBe('alive');
    expect(stateForAge(300, cfg)).toBe('suspect');
    expect(stateForAge(599, cfg)).toBe('suspect');
    expect(stateForAge(600, cfg)).toBe('dead');
  });

  it('measures age from the last newer position on its own clock; old or equal positions do not refresh it', () => {
    let now = 1_000;
    const m = new Membership(cfg, () => now);
    m.observe('b', { incarnation: 2, seq: 5 }, 'alive');
    now += 250;
    expect(m.observe('b', { incarnation: 2, seq: 5 }, 'alive')).toBe(false);
    expect(m.observe('b', { incarnation: 1, seq: 99 }, 'alive')).toBe(false);
    expect(m.ageOf('b')).toBe(250);
    now += 100;
    expect(m.stateOf('b')).toBe('suspect');
    expect(m.observe('b', { incarnation: 2, seq: 6 }, 'suspect')).toBe(true);
    expect(m.stateOf('b')).toBe('alive');
    expect(m.observe('b', { incarnation: 3, seq: 1 }, 'alive')).toBe(true);
  });

  it('backdates a first observation to the persisted state (a new leader keeps a dead peer dead)', () => {
    const now = 5_000;
    const m = new Membership(cfg, () => now);
    m.observe('dead-one', { incarnation: 1, seq: 1 }, 'dead');
    m.observe('suspect-one', { incarnation: 1, seq: 1 }, 'suspect');
    expect(m.stateOf('dead-one')).toBe('dead');
    expect(m.stateOf('suspect-one')).toBe('suspect');
    expect(m.stateOf('never')).toBeUndefined();
  });
});
