import { isTerminal } from '../../core/task-state.js';
import type { MasterContext } from '../master-context.js';
import { retryOnConflict } from '../retry.js';
import { LivenessWatch } from './liveness-watch.js';
import { markAgentGone, markAgentUnreachable } from './master-task-updates.js';

// Leader duty: agents that miss heartbeats for agent_ping_timeout × max_agent_ping_timeouts
// (socket agents: agentSocketPingTimeoutMs) become UNREACHABLE; those unreachable past agent_reregister_timeout are removed (GONE).
// Draining agents become DRAINED once their tasks are gone (and GONE if mark_gone was asked).

export class AgentHealth {
  private lastRun = -Infinity;
  constructor(readonly watch = new LivenessWatch()) {}

  private watching = false;
  private pendingStates = false;
  private dueLimits: { every: number; ping: number } | undefined;

  readonly duty = Object.assign(async (ctx: MasterContext): Promise<void> => {
    // Looking ten times per timeout is precise enough, and spares the table a read per round.
    const every = checkInterval(Math.min(ctx.config.agentPingTimeoutMs * ctx.config.maxAgentPingTimeouts, ctx.config.agentSocketPingTimeoutMs));
    if (performance.now() - this.lastRun < every) return;
    this.lastRun = performance.now();
    this.dueLimits = { every, ping: ctx.config.agentPingTimeoutMs * ctx.config.maxAgentPingTimeouts };
    const [agents, beats] = await Promise.all([ctx.registry.listAgents(), ctx.registry.listLiveness('agent')]);
    this.watch.observe(beats);
    const pingLimit = ctx.config.agentPingTimeoutMs * ctx.config.maxAgentPingTimeouts;
    for (const a of agents) {
      if (a.reachability === 'GONE') {
        this.watch.forget(a.id);
        continue;
      }
      if (a.reachability === 'REACHABLE') {
        this.watch.leftState(a.id);
        // A socket agent pings rarely (its connection is kept open by API Gateway): its own timeout.
        const limit = a.channel === 'socket' ? ctx.config.agentSocketPingTimeoutMs : pingLimit;
        if (this.watch.quietFor(a.id) >= limit) await markAgentUnreachable(ctx, a.id);
      } else if (this.watch.inStateFor(a.id) >= ctx.config.agentReregisterTimeoutMs) {
        await markAgentGone(ctx, a.id, false);
      }
      if (a.drain?.state === 'DRAINING') await progressDrain(ctx, a.id);
    }
    this.watching = agents.some((a) => a.reachability !== 'GONE');
    this.pendingStates = agents.some((a) => a.reachability === 'UNREACHABLE' || a.drain?.state === 'DRAINING');
  }, { dueIn: () => this.dueIn() });

  /**
   * For an event-driven leader: when the next ping timeout can fall due (the quietest agent's
   * limit, but a look at least every quarter limit, so a silent agent is caught within 1.25
   * limits); nothing while no agent is watched. Unreachable and draining agents are looked at
   * every check interval.
   */
  private dueIn(): number | undefined {
    const l = this.dueLimits;
    if (!l) return 0; // never looked yet
    if (!this.watching) return undefined;
    const sinceLook = performance.now() - this.lastRun;
    const quiet = (this.watch.dueIn(l.ping) ?? Infinity) + sinceLook;
    // Counted from the last look; the duty looks at most once per check interval anyway.
    const next = this.pendingStates ? l.every : Math.max(l.every, Math.min(l.ping / 4, quiet));
    return Math.max(0, next - sinceLook);
  }
}

/** How often a timeout of `timeoutMs` is checked: a tenth of it, between 100 ms and 5 s. */
export function checkInterval(timeoutMs: number): number {
  return Math.min(5_000, Math.max(100, Math.floor(timeoutMs / 10)));
}

async function progressDrain(ctx: MasterContext, agentId: string): Promise<void> {
  const busy = (await ctx.registry.listTasksByAgent(agentId)).some((t) => !isTerminal(t.state));
  if (busy) return;
  const markGone = await retryOnConflict(async () => {
    const a = await ctx.registry.getAgent(agentId);
    if (!a?.drain || a.drain.state !== 'DRAINING') return false;
    await ctx.registry.transaction().putAgent({ ...a, drain: { ...a.drain, state: 'DRAINED' } }, { version: a.version }).commit();
    return a.drain.markGone;
  });
  ctx.log.info('agent drained', { agentId });
  if (markGone) await markAgentGone(ctx, agentId, true);
}
