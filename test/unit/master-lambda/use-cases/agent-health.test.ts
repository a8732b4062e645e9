import { expect, it } from 'vitest';
import { silentLogger } from '../../../../src/core/logger.js';
import { Master } from '../../../../src/master-lambda/master.js';
import { registerAgent } from '../../../../src/master-lambda/use-cases/agent-register.js';
import { AgentHealth } from '../../../../src/master-lambda/use-cases/agent-health.js';
import { LivenessWatch } from '../../../../src/master-lambda/use-cases/liveness-watch.js';
import { MemoryItemStore } from '../../../../src/state/memory-item-store.js';

// Agent health by channel: an HTTP agent is UNREACHABLE after agentPingTimeoutMs ×
// maxAgentPingTimeouts without a heartbeat (Mesos's 75 s), a socket agent, which pings every
// few minutes, only after agentSocketPingTimeoutMs.

const resources = [
  { name: 'cpus', type: 'SCALAR' as const, scalar: { value: 1 } },
  { name: 'mem', type: 'SCALAR' as const, scalar: { value: 256 } },
];

it('judges a socket agent by the socket ping timeout and an HTTP agent by Mesos’s', async () => {
  const master = new Master({ store: new MemoryItemStore(), log: silentLogger });
  const http = await registerAgent(master.ctx, { hostname: 'h', resources });
  const socket = await registerAgent(master.ctx, { hostname: 's', resources }, 'socket');
  expect(http.heartbeat_interval_seconds).toBe(15);
  expect(socket.heartbeat_interval_seconds).toBe(master.ctx.config.agentSocketPingIntervalMs / 1000);
  let t = 0;
  const watch = new LivenessWatch(() => t);
  // A fresh duty each look: each runs at once (its own pacing is on the real clock).
  const look = async (at: number): Promise<Record<string, string | undefined>> => {
    t = at;
    await new AgentHealth(watch).duty(master.ctx);
    return {
      http: (await master.registry.getAgent(http.agent_id))?.reachability,
      socket: (await master.registry.getAgent(socket.agent_id))?.reachability,
    };
  };
  const cfg = master.ctx.config;
  expect(await look(0)).toEqual({ http: 'REACHABLE', socket: 'REACHABLE' });
  expect(await look(cfg.agentPingTimeoutMs * cfg.maxAgentPingTimeouts)).toEqual({ http: 'UNREACHABLE', socket: 'REACHABLE' });
  expect(await look(cfg.agentSocketPingTimeoutMs - 1)).toEqual({ http: 'UNREACHABLE', socket: 'REACHABLE' });
  expect(await look(cfg.agentSocketPingTimeoutMs)).toEqual({ http: 'UNREACHABLE', socket: 'UNREACHABLE' });
});
