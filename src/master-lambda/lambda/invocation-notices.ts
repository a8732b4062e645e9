import type { Logger } from '../../core/logger.js';
import { AgentSocketHandlers } from '../agent-socket/socket-handlers.js';
import type { Master } from '../master.js';
import { InProcessNotifier, type Notifier } from '../notifier.js';
import { AgentPushNotifier } from './agent-push-notifier.js';
import { ApiGatewayAgentPush } from './api-gateway-push.js';
import { TickTriggerNotifier } from './tick-trigger.js';

// What a Lambda invocation's changes set off once it has committed them: an allocation round
// (STRATUS_TICK_FUNCTION: the leader is invoked) and work nudges to the agents whose work
// changed (STRATUS_AGENT_SOCKET_ENDPOINT: PostToConnection on their WebSocket). No notice
// crosses Lambda containers, so every entry point that can change an agent's work (an ACCEPT
// or KILL through any API) wires both, or a socket agent would learn of it only at its safety poll.

export interface InvocationNotices {
  /** The master's notifier (undefined: the plain in-process one). */
  readonly notifier: Notifier | undefined;
  readonly trigger: TickTriggerNotifier | undefined;
  readonly push: AgentPushNotifier | undefined;
  /** Connects the nudges to the master's agent connections, once it is built. */
  attach(master: Master): void;
  /** Sends what the invocation set off; call it when the invocation's work is done. */
  flush(): Promise<void>;
}

export function invocationNotices(env: NodeJS.ProcessEnv, log: Logger): InvocationNotices {
  const tickFn = env.STRATUS_TICK_FUNCTION;
  const trigger = tickFn ? new TickTriggerNotifier(new InProcessNotifier(), tickFn, log) : undefined;
  const endpoint = env.STRATUS_AGENT_SOCKET_ENDPOINT;
  const push = endpoint ? new AgentPushNotifier(trigger ?? new InProcessNotifier(), log) : undefined;
  return {
    notifier: push ?? trigger,
    trigger,
    push,
    attach(master) {
      if (push === undefined || endpoint === undefined) return;
      const handlers = new AgentSocketHandlers({ ctx: master.ctx, auth: master.api.auth, push: new ApiGatewayAgentPush(endpoint, log) });
      push.attach((agentId) => handlers.nudge(agentId));
    },
    async flush() {
      await trigger?.flush();
      await push?.flush();
    },
  };
}
