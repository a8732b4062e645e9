import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { Logger } from '../../core/logger.js';
import { awsClientConfig } from '../../state/aws-config.js';
import type { AgentPush, PushResult } from '../agent-socket/agent-push.js';

// AgentPush through API Gateway's Management API: PostToConnection on the WebSocket API's
// callback URL (https://{api-id}.execute-api.{region}.amazonaws.com/{stage}, or the local
// stand-in's). 410 Gone: the connection closed; the caller forgets it.

export class ApiGatewayAgentPush implements AgentPush {
  private readonly client: ApiGatewayManagementApiClient;

  constructor(
    readonly endpoint: string,
    private readonly log: Logger,
    client?: ApiGatewayManagementApiClient,
  ) {
    // The endpoint is the API's own, never AWS_ENDPOINT_URL's (which points DynamoDB at moto in tests).
    this.client = client ?? new ApiGatewayManagementApiClient({ ...awsClientConfig(), endpoint });
  }

  async send(connectionId: string, text: string): Promise<PushResult> {
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(text) }));
      return 'sent';
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (err.name === 'GoneException' || err.$metadata?.httpStatusCode === 410) return 'gone';
      this.log.warn('PostToConnection failed', { connectionId, endpoint: this.endpoint, error: e });
      return 'failed';
    }
  }
}
