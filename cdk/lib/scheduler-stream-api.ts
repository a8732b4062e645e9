import { Duration } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';
import { MasterFunction } from './master-function.js';
import { SCHEDULER_STREAM_ENTRY } from './paths.js';

// The region's API for unmodified Mesos frameworks: an API Gateway REST API (REGIONAL: the
// edge-optimized idle timeout is 30 s) whose scheduler routes go to the streaming function with
// response transfer mode STREAM, so SUBSCRIBE answers with the chunked RecordIO stream as a
// Mesos master does. API Gateway streams at most 15 minutes and drops a stream idle for 5; the
// function sends HEARTBEAT events every 15 s and ends the stream cleanly after
// STREAM_MAX_SECONDS, and the client resubscribes with its framework id. Everything else (agents,
// operators, the SDK's long-poll, the dashboard) stays on the HTTP API, the cheaper fit for
// short calls. As on the HTTP API, no authorizer: the master authenticates every call.

/** 128 MB keeps a streaming framework near $5.40/month of Lambda time (README, "Mesos frameworks in a deployed region"). */
export const SCHEDULER_STREAM_MEMORY_MB = 128;
/** Lambda's and API Gateway's limit. */
export const SCHEDULER_STREAM_TIMEOUT = Duration.minutes(15);
/** The stream ends a minute before the limit. */
export const STREAM_MAX_SECONDS = 840;
/** How often an open stream re-reads its framework's log head (no cross-Lambda notifier). */
export const STREAM_POLL_MS = 1_000;
export const SCHEDULER_STREAM_STAGE = 'mesos';

/** What Mesos scheduler clients call: the scheduler API and, before subscribing, the master's version and leader. */
export const SCHEDULER_STREAM_ROUTES: readonly { readonly method: 'GET' | 'POST'; readonly path: string }[] = [
  { method: 'POST', path: '/api/v1/scheduler' },
  { method: 'GET', path: '/version' }, // pymesos reads it to decide what to send
  { method: 'GET', path: '/master/version' },
  { method: 'GET', path: '/redirect' }, // Mesos's leader discovery (a 307 to the leading master)
  { method: 'GET', path: '/master/redirect' },
];

export interface SchedulerStreamApiProps {
  readonly apiName: string;
  readonly environment: Record<string, string>;
}

export class SchedulerStreamApi extends Construct {
  readonly fn: MasterFunction;
  readonly api: apigateway.RestApi;

  constructor(scope: Construct, id: string, props: SchedulerStreamApiProps) {
    super(scope, id);
    this.fn = new MasterFunction(this, 'Function', {
      entry: SCHEDULER_STREAM_ENTRY,
      description: 'Stratus Mesos scheduler API with RecordIO event streams (API Gateway REST API, response streaming)',
      timeout: SCHEDULER_STREAM_TIMEOUT,
      memorySize: SCHEDULER_STREAM_MEMORY_MB,
      environment: { ...props.environment, STRATUS_STREAM_MAX_SECONDS: String(STREAM_MAX_SECONDS), STRATUS_STREAM_POLL_MS: String(STREAM_POLL_MS) },
    });
    this.api = new apigateway.RestApi(this, 'RestApi', {
      restApiName: props.apiName,
      description: 'Stratus master: Mesos v1 scheduler API with SUBSCRIBE streams, for unmodified Mesos frameworks',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      deployOptions: { stageName: SCHEDULER_STREAM_STAGE },
      // No account-wide CloudWatch role (it carries a managed policy); the function logs itself.
      cloudWatchRole: false,
    });
    const integration = new apigateway.LambdaIntegration(this.fn.fn, {
      proxy: true,
      responseTransferMode: apigateway.ResponseTransferMode.STREAM,
      // One invoke permission for the API, not two per method.
      scopePermissionToMethod: false,
    });
    for (const route of SCHEDULER_STREAM_ROUTES) this.api.root.resourceForPath(route.path).addMethod(route.method, integration);
  }

  /** The base URL frameworks are given: <url>api/v1/scheduler (ends with a slash). */
  get url(): string {
    return this.api.url;
  }
}
