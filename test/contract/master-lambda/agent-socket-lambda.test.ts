import { silentLogger } from '../../../src/core/logger.js';
import { serve } from '../../../src/http/node-server.js';
import type { Router } from '../../../src/http/router.js';
import { AgentSocketHandlers } from '../../../src/master-lambda/agent-socket/socket-handlers.js';
import { AgentPushNotifier } from '../../../src/master-lambda/lambda/agent-push-notifier.js';
import { agentSocketHandler } from '../../../src/master-lambda/lambda/agent-socket-handler.js';
import { ApiGatewayAgentPush } from '../../../src/master-lambda/lambda/api-gateway-push.js';
import { Master } from '../../../src/master-lambda/master.js';
import { InProcessNotifier } from '../../../src/master-lambda/notifier.js';
import { WebSocketApiStandIn } from '../../support/api-gateway/websocket-api.js';
import { describeWith } from '../../support/components.js';
import { freshDynamoStore } from '../../support/dynamodb.js';
import { agentSocketContract, CONTRACT_MASTER, contractAuthenticator } from './agent-socket.contract.js';

// The agent socket the cloud way: the WebSocket Lambda handler behind the local API Gateway
// stand-in, replies and nudges through the real Management API client, state in DynamoDB (moto).
// The socket Lambda and the API Lambda (where the framework's ACCEPT lands) are two masters on
// one table, as two Lambda containers are: the nudge crosses from one to the other only
// through the table and PostToConnection, sent when the API invocation ends.

await describeWith(['aws'], 'agent socket on the API Gateway WebSocket Lambda (moto)', () => {
  agentSocketContract('API Gateway WebSocket Lambda', async () => {
    const store = await freshDynamoStore('socket');
    const auth = contractAuthenticator();
    const lambda: { handler?: ReturnType<typeof agentSocketHandler> } = {};
    const api = await WebSocketApiStandIn.start({ handler: (event) => lambda.handler!(event) });
    const push = new ApiGatewayAgentPush(api.managementEndpoint, silentLogger);

    const socketMaster = new Master({ store, log: silentLogger, authenticator: auth, canStream: false, config: CONTRACT_MASTER });
    lambda.handler = agentSocketHandler({ master: socketMaster, push: () => push });

    // The API Lambda: scheduler calls; each call's agent nudges go out when it ends.
    const notifier = new AgentPushNotifier(new InProcessNotifier(), silentLogger);
    const apiMaster = new Master({ store, log: silentLogger, authenticator: auth, notifier, config: CONTRACT_MASTER });
    const nudges = new AgentSocketHandlers({ ctx: apiMaster.ctx, auth, push });
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
      socketUrl: api.url,
      schedulerUrl: scheduler.url,
      registry: socketMaster.registry,
      close: async () => {
        await apiMaster.stop();
        await scheduler.close();
        await api.close();
      },
    };
  });
});
