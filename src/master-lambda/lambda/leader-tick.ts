// Specific modules, not the autoscaler's index: the Lambda bundle must not pull in the local provider (agents, Docker).
import { attachAutoscaler } from '../../autoscaler/attach.js';
import { ec2ProviderFromEnv } from '../../autoscaler/ec2-provider.js';
import { registryPendingTasks } from '../../autoscaler/pending-source.js';
import { sleep } from '../../core/sleep.js';
import { attachFederationFromEnv } from '../../federation/env.js';
import { storeFromEnv } from '../../state/store-from-env.js';
import { createLogger } from '../../core/logger.js';
import { Master } from '../master.js';
import { invocationNotices, type InvocationNotices } from './invocation-notices.js';
import { regionApiUrl } from './region-api-url.js';
import { domainTotals, LambdaMetrics, withMetrics } from './emf.js';

// The scheduled / triggered Lambda: contends for the leader lease and, while leader, runs
// the leader's duties (allocation rounds, offer and health timeouts) every interval for most
// of the invocation, then releases the lease so the next invocation takes over at once, in
// the same term (epoch).

export interface TickContext {
  getRemainingTimeInMillis(): number;
}

let master: Promise<LeaderMaster> | undefined;

/** The leader's master and what its invocations set off (agents' work nudges: a failover teardown or a drain kills tasks). */
export interface LeaderMaster {
  readonly master: Master;
  readonly notices: InvocationNotices;
}

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
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
  // Every leader write of this invocation has returned before the release, so the next
  // invocation takes the lease in the same epoch: offers and agent sessions outlive the tick.
  await m.leader.settle();
  await m.lease.release();
  return { rounds: m.leader.stats.rounds - roundsBefore, leader };
}

/**
 * The tick's master. With STRATUS_PEERS set it also sends this region's gossip (the tick's
 * role is the one peers admit) and decides the federated jobs this region owns; it advertises
 * the API URL the API handler recorded in the region's table.
 */
export async function tickMaster(env: NodeJS.ProcessEnv = process.env): Promise<LeaderMaster> {
  const notices = invocationNotices(env, createLogger('stratus-leader'));
  const m = new Master({ store: storeFromEnv(env), canStream: false, ...(notices.notifier ? { notifier: notices.notifier } : {}) });
  notices.attach(m);
  if (env.STRATUS_PEERS !== undefined && env.STRATUS_REGION) {
    const api = await regionApiUrl(m.registry);
    attachFederationFromEnv(m, { run: 'leader-duties', ...(api ? { api } : {}) }, env);
  }
  // The tick waits for each autoscaler pass: the invocation must not end with one half done.
  if (env.STRATUS_AGENT_GROUPS) {
    await attachAutoscaler(m, { provider: ec2ProviderFromEnv(env), pendingTasks: registryPendingTasks(m.registry), wait: true, routes: false });
  }
  return { master: m, notices };
}

let emf: LambdaMetrics | undefined;

export async function handler(_event: unknown, context?: TickContext): Promise<{ rounds: number; leader: boolean }> {
  master ??= tickMaster();
  const { master: m, notices } = await master;
  emf ??= new LambdaMetrics('tick');
  // Leave time to release the lease before Lambda stops the invocation.
  const budget = Math.max(1000, (context?.getRemainingTimeInMillis() ?? 60_000) - 5_000);
  return withMetrics(
    emf,
    async () => {
      try {
        return await runTick(m, budget);
      } finally {
        await notices.flush();
      }
    },
    () => domainTotals(m.ctx.metrics),
  );
}
