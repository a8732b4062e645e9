import { startSocketRegion } from '../../support/api-gateway/agent-socket-region.js';
import { describeWith } from '../../support/components.js';
import { freshDynamoStore } from '../../support/dynamodb.js';
import { agentSocketContract, CONTRACT_MASTER, contractAuthenticator } from './agent-socket.contract.js';

// The agent socket the cloud way: the WebSocket Lambda handler behind the local API Gateway
// stand-in, replies and nudges through the real Management API client, state in DynamoDB (moto).
// The framework's ACCEPT lands on another master (the API Lambda) of the same table.

await describeWith(['aws'], 'agent socket on the API Gateway WebSocket Lambda (moto)', () => {
  agentSocketContract('API Gateway WebSocket Lambda', async () => {
    const region = await startSocketRegion({ store: await freshDynamoStore('socket'), authenticator: contractAuthenticator(), config: CONTRACT_MASTER });
    return { socketUrl: region.api.url, schedulerUrl: region.scheduler.url, registry: region.socketMaster.registry, close: () => region.close() };
  });
});
