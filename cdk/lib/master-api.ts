import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

// The region's API Gateway HTTP API: every route goes to the master's API handler (payload
// format 2.0). No API Gateway authorizer: the Authorization header (HTTP Basic, Bearer, the
// agent token) passes through and the master authenticates every call against the region's
// credentials, exactly as the local server does. The explicit routes document the API and
// carry per-route metrics; the catch-all forwards routes that land later without a redeploy.

export interface ApiRoute {
  readonly method: apigw.HttpMethod;
  readonly path: string;
}

const { GET, POST, ANY } = apigw.HttpMethod;

export const MASTER_ROUTES: readonly ApiRoute[] = [
  // Mesos v1 scheduler API and long-poll event delivery.
  { method: POST, path: '/api/v1/scheduler' },
  { method: GET, path: '/api/v1/scheduler/events' },
  // Agent API.
  { method: POST, path: '/api/v1/agents/register' },
  { method: POST, path: '/api/v1/agents/{agent}/heartbeat' },
  { method: POST, path: '/api/v1/agents/{agent}/work' },
  { method: POST, path: '/api/v1/agents/{agent}/status' },
  { method: POST, path: '/api/v1/agents/{agent}/authorize' },
  // Operator API and views.
  { method: POST, path: '/api/v1' },
  { method: GET, path: '/master/state' },
  { method: GET, path: '/health' },
  // A task's log read through the master (the dashboard's path to agents' logs).
  { method: GET, path: '/api/v1/tasks/{framework}/{task}/logs' },
  // The dashboard: its shell at / (which /{proxy+} does not match) and its hashed assets.
  { method: GET, path: '/' },
  { method: GET, path: '/dashboard/{file}' },
  // Jobs framework.
  { method: ANY, path: '/api/v1/jobs' },
  { method: ANY, path: '/api/v1/jobs/{proxy+}' },
  // Federation.
  { method: GET, path: '/api/v1/federation/services/{name}' },
  // Everything else the master serves (or answers 404/405 for).
  { method: ANY, path: '/{proxy+}' },
];

export interface MasterApiProps {
  readonly apiName: string;
  readonly handler: lambda.IFunction;
}

export class MasterApi extends Construct {
  readonly api: apigw.HttpApi;

  constructor(scope: Construct, id: string, props: MasterApiProps) {
    super(scope, id);
    this.api = new apigw.HttpApi(this, 'HttpApi', {
      apiName: props.apiName,
      description: 'Stratus master: Mesos v1 scheduler, agent and operator APIs',
      createDefaultStage: true,
    });
    const integration = new HttpLambdaIntegration('Master', props.handler, { payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0 });
    for (const route of MASTER_ROUTES) {
      this.api.addRoutes({ path: route.path, methods: [route.method], integration });
    }
  }

  /** The API's base URL (no trailing slash). */
  get url(): string {
    return this.api.apiEndpoint;
  }
}
