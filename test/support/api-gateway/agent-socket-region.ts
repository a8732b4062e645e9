import { silentLogger } from '../../../src/core/logger.js';
import type { Authenticator } from '../../../src/http/auth.js';
import { serve, type RunningServer } from '../../../src/http/node-server.js';
import type { Router } from '../../../src/http/router.js';
import { AgentSocketHandlers } from '../../../src/master-lambda/agent-socket/socket-handlers.js';
import type { MasterConfig } from '../../../src/master-lambda/config.js';
import { AgentPushNotifier } from '../../../src/master-lambda/lambda/agent-push-notifier.js';
import { agentSocketHandler } from '../../../src/master-lambda/lambda/agent-socket-handler.js';
import { ApiGatewayAgentPush } from '../../../src/master-lambda/lambda/api-gateway-push.js';
import { Master } from '../../../src/master-lambda/master.js';
import { InProcessNotifier } from '../../../src/master-lambda/notifier.js';
import type { ItemStore } from '../../../src/state/item-store.js';
import { WebSocketApiStandIn } from './websocket-api.js';

// A region's agent channel the cloud way, in one process: the WebSocket Lambda handler behind
// the API Gateway WebSocket stand-in (replies and nudges through the real Management API
// client), and an "API Lambda" master where frameworks' scheduler calls land, whose agent
// nudges go out when each call ends (as the API handler does). Two masters on one table, as
// two Lambda containers are: a nudge crosses only through the table and PostToConnection.
// The scheduler API is served by a local node server (the HTTP API stand-in is another's).

export interface SocketRegion {
  readonly api: WebSocketApiStandIn;
  readonly socketMaster: Master;
  readonly apiMaster: Master;
  readonly scheduler: RunningServer;
  close(): Promise<void>;
}

export async function startSocketRegion(o: { store: ItemStore; authenticator: Authenticator; config?: Partial<MasterConfig> }): Promise<SocketRegion> {
  const lambda: { handler?: ReturnType<typeof agentSocketHandler> } = {};
  const api = await WebSocketApiStandIn.start({ handler: (event) => lambda.handler!(event) });
  const push = new ApiGatewayAgentPush(api.managementEndpoint, silentLogger);
  const socketMaster = new Master({ store: o.store, log: silentLogger, authenticator: o.authenticator, canStream: false, ...(o.config && { config: o.config }) });
  lambda.handler = agentSocketHandler({ master: socketMaster, push: () => push });

  const notifier = new AgentPushNotifier(new InProcessNotifier(), silentLogger);
  const apiMaster = new Master({ store: o.store, log: silentLogger, authenticator: o.authenticator, notifier, ...(o.config && { config: o.config }) });
  const nudges = new AgentSocketHandlers({ ctx: apiMaster.ctx, auth: o.authenticator, push });
  notifier.attach((agentId) => nudges.nudge(agentId));
  const invocation = Object.create(apiMaster.api) as Router;
  invocation.handle = async (req) => {
    try {
      return await apiMaster.api.handle(req);
    } finally {
      await notifier.flush();
    }
  };
  const scheduler = await serve(invocation, { port: 0 });
  apiMaster.start();
  return {
    api,
    socketMaster,
    apiMaster,
    scheduler,
    close: async () => {
      await apiMaster.stop();
      await scheduler.close();
      await api.close();
    },
  };
}
