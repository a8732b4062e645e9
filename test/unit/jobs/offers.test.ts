import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { HeldOffers } from '../../../src/jobs/offers.js';
import type { Offer, SchedulerDriver } from '../../../src/sdk/index.js';

// The offers the jobs framework holds, what it declines, and the REVIVE / SUPPRESS it sends.

function offer(id: string): Offer {
  return { id, frameworkId: 'f', agentId: `A-${id}`, hostname: `h-${id}`, role: '*', resources: { cpus: 1, mem: 64, disk: 0, network: 0, ports: [] }, attributes: {}, rawResources: [] };
}

function arrange() {
  const calls: string[] = [];
  let failing = false;
  const driver = {
    decline: async (ids: readonly string[], filters: { refuse_seconds: number }) => void calls.push(`decline ${ids.join(',')} ${filters.refuse_seconds}`),
    revive: async () => {
      if (failing) throw new Error('master away');
      calls.push('revive');
    },
    suppress: async () => {
      if (failing) throw new Error('master away');
      calls.push('suppress');
    },
  } as unknown as SchedulerDriver;
  const stats = { declined: 0, revives: 0, suppresses: 0 };
  const offers = new HeldOffers(() => driver, stats, silentLogger);
  return { offers, calls, stats, fail: (f: boolean) => void (failing = f) };
}

describe('HeldOffers', () => {
  it('declines only offers still held, of those named', async () => {
    const { offers, calls, stats } = arrange();
    offers.add([offer('o1'), offer('o2'), offer('o3')]);
    offers.remove(['o2']); // rescinded
    await offers.decline(5, ['o1', 'o2']);
    expect(calls).toEqual(['decline o1 5']);
    expect(offers.list().map((o) => o.id)).toEqual(['o3']);
    await offers.decline(30);
    await offers.decline(30);
    expect(calls).toEqual(['decline o1 5', 'decline o3 30']);
    expect(stats.declined).toBe(2);
  });

  it('revives while slots wait and suppresses when none do, each once; again after a decline with new slots waiting', async () => {
    const { offers, calls, stats } = arrange();
    expect(await offers.adjustInterest(['web/0'])).toBe('revive');
    expect(await offers.adjustInterest(['web/0'])).toBeUndefined();
    offers.add([offer('o1')]);
    await offers.decline(5);
    expect(await offers.adjustInterest(['web/0'])).toBeUndefined();
    expect(await offers.adjustInterest(['web/0', 'web/1'])).toBe('revive');
    expect(await offers.adjustInterest([])).toBe('suppress');
    expect(await offers.adjustInterest([])).toBeUndefined();
    expect(calls).toEqual(['revive', 'decline o1 5', 'revive', 'suppress']);
    expect(stats).toMatchObject({ revives: 2, suppresses: 1 });
  });

  it('asks again after a failed call or a new subscription (the master state is not known then)', async () => {
    const { offers, calls, fail } = arrange();
    fail(true);
    expect(await offers.adjustInterest([])).toBeUndefined();
    fail(false);
    expect(await offers.adjustInterest([])).toBe('suppress');
    offers.add([offer('o1')]);
    offers.reset();
    expect(offers.size).toBe(0);
    expect(await offers.adjustInterest([])).toBe('suppress');
    expect(calls).toEqual(['suppress', 'suppress']);
  });

  it('warns of a failed REVIVE/SUPPRESS only while the driver runs: a stopped driver refusing is no fault', async () => {
    const warnings: string[] = [];
    const log = { ...silentLogger, warn: (m: string) => void warnings.push(m) };
    const state: { stopReason?: string } = {};
    const driver = {
      revive: async () => {
        throw new Error('cannot send REVIVE: not subscribed');
      },
      get stopReason() {
        return state.stopReason;
      },
    } as unknown as SchedulerDriver;
    const offers = new HeldOffers(() => driver, { declined: 0, revives: 0, suppresses: 0 }, log);
    expect(await offers.adjustInterest(['web/0'])).toBeUndefined();
    expect(warnings).toEqual(['revive/suppress failed']);
    state.stopReason = 'stop()';
    expect(await offers.adjustInterest(['web/0'])).toBeUndefined();
    expect(warnings).toEqual(['revive/suppress failed']);
  });
});
