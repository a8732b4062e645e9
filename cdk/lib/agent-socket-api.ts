import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

// The agents' channel in a deployed region: an API Gateway WebSocket API whose $connect,
// $disconnect and $default routes all go to the agent socket function. No API Gateway
// authorizer: $connect carries the agent's Authorization header and the function refuses the
// connection unless the region's credentials accept it, as the local server does at upgrade.
// The master pushes work nudges back with the Management API (PostToConnection), allowed only
// on this API's connections.

export const AGENT_SOCKET_STAGE = 'agents';

export interface AgentSocketApiProps {
  readonly apiName: string;
  readonly handler: lambda.IFunction;
  /** Functions that push to agents (PostToConnection / DeleteConnection on this API only). */
  readonly pushers: readonly iam.IGrantable[];
}

export class AgentSocketApi extends Construct {
  readonly api: apigw.WebSocketApi;
  readonly stage: apigw.WebSocketStage;

  constructor(scope: Construct, id: string, props: AgentSocketApiProps) {
    super(scope, id);
    const integration = new WebSocketLambdaIntegration('AgentSocket', props.handler);
    this.api = new apigw.WebSocketApi(this, 'WebSocketApi', {
      apiName: `${props.apiName}-agents`,
      description: 'Stratus agents: register, heartbeat, status updates; work pushed by the master',
      connectRouteOptions: { integration },
      disconnectRouteOptions: { integration },
      defaultRouteOptions: { integration },
    });
    this.stage = new apigw.WebSocketStage(this, 'Stage', { webSocketApi: this.api, stageName: AGENT_SOCKET_STAGE, autoDeploy: true });
    for (const p of props.pushers) this.api.grantManageConnections(p);
  }

  /** wss://… where agents connect. */
  get url(): string {
    return this.stage.url;
  }

  /** https://… the Management API endpoint for PostToConnection. */
  get callbackUrl(): string {
    return this.stage.callbackUrl;
  }
}
