import { describe, expect, it } from 'vitest';
import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { runThroughput } from '../../../bench/master-throughput.js';

// The master-throughput benchmark's core at a tiny size: every task is launched once, reaches
// RUNNING once as the master sees it, spreads over the zones, ends and is offered again, and
// the request counts it reports are real.

describe('master-throughput benchmark core', () => {
  it('runs 50 tasks on 10 agents: each RUNNING once, zones balanced, all re-offered, requests counted', async () => {
    const r = await runThroughput({ agents: 10, jobs: 1, instancesPerJob: 50, store: new MemoryItemStore(), timeoutMs: 15_000 });
    expect(r.tasks).toBe(50);
    expect(r.runningApplied).toBe(50);
    expect(r.masterRunning).toBe(50);
    expect(r.duplicateLaunches).toBe(0);
    // 10 agents round-robin over 3 zones hold 4/3/3 of them; hard spread keeps zones within one task.
    const zones = Object.values(r.runningByZone);
    expect(zones.reduce((a, b) => a + b, 0)).toBe(50);
    expect(Math.max(...zones) - Math.min(...zones)).toBeLessThanOrEqual(1);
    expect(r.tasksPerSecond).toBeGreaterThan(0);
    expect(r.reofferP50Ms).toBeGreaterThanOrEqual(0);
    expect(r.launch.master.transactions + r.launch.master.writes).toBeGreaterThan(0);
    expect(r.launch.master.gets + r.launch.master.queries).toBeGreaterThan(0);
    expect(r.end.master.transactions + r.end.master.writes).toBeGreaterThan(0);
    expect(r.launch.jobs.gets + r.launch.jobs.queries + r.launch.jobs.writes + r.launch.jobs.transactions).toBeGreaterThan(0);
    expect(r.agentRequests).toBeGreaterThan(0);
  }, 20_000);
});
