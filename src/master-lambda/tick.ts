import { Master, storeFromEnv } from './master.js';

// The scheduled / triggered Lambda: contends for the leader lease and, while leader, runs
// the leader's duties (allocation rounds, offer and health timeouts) every interval for most
// of the invocation, then releases the lease so the next invocation takes over at once.

export interface TickContext {
  getRemainingTimeInMillis(): number;
}

let master: Master | undefined;

export async function runTick(m: Master, budgetMs: number): Promise<{ rounds: number; leader: boolean }> {
  const deadline = Date.now() + budgetMs;
  const interval = m.ctx.config.allocationIntervalMs;
  let leader = false;
  const roundsBefore = m.leader.stats.rounds;
  while (Date.now() < deadline) {
    if (await m.lease.acquire()) {
      leader = true;
      await m.leader.runOnce();
    }
    await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(0, deadline - Date.now()))));
  }
  await m.lease.release();
  return { rounds: m.leader.stats.rounds - roundsBefore, leader };
}

export async function handler(_event: unknown, context?: TickContext): Promise<{ rounds: number; leader: boolean }> {
  master ??= new Master({ store: storeFromEnv(), canStream: false });
  // Leave time to release the lease before Lambda stops the invocation.
  const budget = Math.max(1000, (context?.getRemainingTimeInMillis() ?? 60_000) - 5_000);
  return runTick(master, budget);
}
