import { join } from 'node:path';
import { Aws, CfnOutput, Duration, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AgentBundle } from './agent-bundle.js';
import { AgentGroup, STACK_TAG } from './agent-group.js';
import { AgentNetwork } from './agent-network.js';
import { AgentRole } from './agent-role.js';
import { regionPrincipals, type RegionConfig, type StratusConfig } from './config.js';
import { GossipInbox } from './gossip-inbox.js';
import { GOSSIP_RECEIVER_TIMEOUT, GossipReceiver } from './gossip-receiver.js';
import { LeaderTick } from './leader-tick.js';
import { MasterApi } from './master-api.js';
import { MasterFunction } from './master-function.js';
import { gossipQueuePrefix, inboxDeadLetterQueueName, inboxQueueName, peerEndpoint, stackName, tickRoleName } from './naming.js';
import { API_HANDLER_ENTRY, DEFAULT_GOSSIP_RECEIVER_ENTRY } from './paths.js';
import { CREDENTIALS_SECRET_ENV, RegionCredentials } from './region-credentials.js';
import { RegionTable } from './region-table.js';
import { SchedulerStreamApi } from './scheduler-stream-api.js';
import { buildDashboard } from '../../scripts/build-dashboard.js';

// One region of Stratus: its table, gossip inbox, master functions (API handler, leader
// tick, gossip receiver), HTTP API and agent groups. Peers are named by constructed ARNs and
// URLs (naming.ts), never by cross-stack references, so each region deploys on its own.

/** Environment variables the functions read (the master's and federation's contract with the stack). */
export const ENV = {
  table: 'STRATUS_TABLE',
  region: 'STRATUS_REGION',
  credentialsSecret: CREDENTIALS_SECRET_ENV,
  tickFunction: 'STRATUS_TICK_FUNCTION',
  inboxUrl: 'STRATUS_GOSSIP_INBOX_URL',
  queuePrefix: 'STRATUS_GOSSIP_QUEUE_PREFIX',
  // Read by src/federation/env.ts: peer names, and every inbox URL (peers may be other accounts/regions).
  peers: 'STRATUS_PEERS',
  queues: 'STRATUS_GOSSIP_QUEUES',
  agentGroups: 'STRATUS_AGENT_GROUPS',
} as const;

export interface RegionStackProps extends StackProps {
  readonly config: StratusConfig;
  readonly region: RegionConfig;
  /** The gossip receiver's TypeScript entry; defaults to src/master-lambda/lambda/gossip-receiver.ts. */
  readonly gossipReceiverEntry?: string;
  /** The `stratus` CLI entry bundled for agent hosts; defaults to src/cli/main.ts. */
  readonly agentEntry?: string;
}

export class RegionStack extends Stack {
  readonly table: RegionTable;
  readonly inbox: GossipInbox;
  readonly api: MasterApi;
  readonly apiHandler: MasterFunction;
  readonly tick: LeaderTick;
  readonly receiver: GossipReceiver;
  readonly credentials: RegionCredentials;
  readonly agentGroups: AgentGroup[] = [];
  readonly schedulerStream: SchedulerStreamApi;

  constructor(scope: Construct, id: string, props: RegionStackProps) {
    const { config, region } = props;
    const account = region.account ?? config.account;
    super(scope, id, {
      ...props,
      stackName: props.stackName ?? stackName(config, region.name),
      env: { region: region.name, ...(account ? { account } : {}) },
      description: `Stratus region ${region.name}: master (API Gateway + Lambda), DynamoDB table, gossip inbox, agent groups`,
    });
    Tags.of(this).add(STACK_TAG, this.stackName);
    Tags.of(this).add('stratus:region', region.name);

    const peers = region.peers.map((p) => peerEndpoint(config, p));

    this.table = new RegionTable(this, 'State', { deletionProtection: config.deletionProtection });
    this.inbox = new GossipInbox(this, 'GossipInbox', {
      queueName: inboxQueueName(config, region.name),
      deadLetterQueueName: inboxDeadLetterQueueName(config, region.name),
      receiverTimeout: GOSSIP_RECEIVER_TIMEOUT,
      peers,
    });
    const principals = regionPrincipals(config, region);
    this.credentials = new RegionCredentials(this, 'Credentials', principals ? { principals } : { secretArn: region.credentialsSecretArn! });

    const common = { [ENV.table]: this.table.table.tableName, [ENV.region]: region.name };

    this.tick = new LeaderTick(this, 'Leader', {
      schedule: config.tickSchedule,
      timeout: Duration.seconds(config.tickTimeoutSeconds),
      roleName: tickRoleName(config, region.name),
      environment: {
        ...common,
        [ENV.inboxUrl]: this.inbox.queue.queueUrl,
        [ENV.queuePrefix]: gossipQueuePrefix(config),
        [ENV.peers]: peers.map((p) => p.region).join(','),
        [ENV.queues]: Stack.of(this).toJsonString({ ...Object.fromEntries(peers.map((p) => [p.region, p.inboxUrl])), [region.name]: this.inbox.queue.queueUrl }),
      },
    });
    this.apiHandler = new MasterFunction(this, 'ApiHandler', {
      entry: API_HANDLER_ENTRY,
      description: 'Stratus master API (API Gateway HTTP API, payload 2.0)',
      // API Gateway HTTP APIs wait at most 30 s; event long-polls stay below.
      timeout: Duration.seconds(30),
      memorySize: 1024,
      environment: {
        ...common,
        [ENV.credentialsSecret]: this.credentials.secret.secretArn,
        [ENV.tickFunction]: this.tick.fn.fn.functionName,
      },
      // The dashboard is served by this function from its own bundle (dashboard/ next to
      // index.mjs): one origin with the API, no CORS, nothing to pay while nobody looks.
      alongside: (dir) => {
        buildDashboard(join(dir, 'dashboard'));
      },
    });
    this.receiver = new GossipReceiver(this, 'Gossip', {
      entry: props.gossipReceiverEntry ?? DEFAULT_GOSSIP_RECEIVER_ENTRY,
      queue: this.inbox.queue,
      environment: { ...common, [ENV.inboxUrl]: this.inbox.queue.queueUrl },
    });
    this.api = new MasterApi(this, 'Api', { apiName: this.stackName, handler: this.apiHandler.fn });

    // Data access: the three functions share the region's table.
    for (const f of [this.apiHandler, this.tick.fn, this.receiver.fn]) this.table.grantData(f.fn);
    this.credentials.secret.grantRead(this.apiHandler.fn);
    // The allocation trigger: the API handler starts a tick (asynchronously) when resources free up.
    this.tick.fn.fn.grantInvoke(this.apiHandler.fn);
    // Gossip send: only to the peers' inboxes.
    if (peers.length > 0) {
      this.tick.fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'GossipSend', actions: ['sqs:SendMessage'], resources: peers.map((p) => p.inboxArn) }),
      );
    }

    // Unmodified Mesos frameworks: SUBSCRIBE streams RecordIO through a REST API with response streaming.
    this.schedulerStream = new SchedulerStreamApi(this, 'SchedulerStream', {
      apiName: `${this.stackName}-scheduler-stream`,
      environment: { ...common, [ENV.credentialsSecret]: this.credentials.secret.secretArn, [ENV.tickFunction]: this.tick.fn.fn.functionName },
    });
    this.table.grantData(this.schedulerStream.fn.fn);
    this.credentials.secret.grantRead(this.schedulerStream.fn.fn);
    this.tick.fn.fn.grantInvoke(this.schedulerStream.fn.fn);
    new CfnOutput(this, 'SchedulerStreamUrl', {
      value: this.schedulerStream.url,
      description: 'Mesos frameworks (pymesos, mesos-go...) subscribe at <SchedulerStreamUrl>api/v1/scheduler and get the RecordIO event stream',
    });

    if (region.agentGroups.length > 0) this.addAgents(region, props.agentEntry);

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'The master API: frameworks call <ApiUrl>/api/v1/scheduler' });
    new CfnOutput(this, 'TableName', { value: this.table.table.tableName, description: 'The region table' });
    new CfnOutput(this, 'InboxQueueUrl', { value: this.inbox.queue.queueUrl, description: 'The gossip inbox of this region' });
    new CfnOutput(this, 'CredentialsSecretArn', { value: this.credentials.secret.secretArn, description: 'The principals of this region' });
  }

  private addAgents(region: RegionConfig, agentEntry: string | undefined): void {
    const zones = [...new Set(region.agentGroups.flatMap((g) => g.zones))].sort();
    const network = new AgentNetwork(this, 'AgentNetwork', { vpc: region.vpc, zones });
    const bundle = new AgentBundle(this, 'AgentBundle', agentEntry ? { entry: agentEntry } : {});
    const tokenSecretArn = region.agentTokenSecretArn!;
    const role = new AgentRole(this, 'AgentRole', { agentTokenSecretArn: tokenSecretArn, bundle: bundle.asset });
    for (const g of region.agentGroups) {
      this.agentGroups.push(
        new AgentGroup(this, `Group-${g.name}`, {
          group: g,
          network,
          instanceProfile: role.instanceProfile,
          apiUrl: this.api.url,
          bundleS3Url: bundle.asset.s3ObjectUrl,
          agentTokenSecretArn: tokenSecretArn,
        }),
      );
    }
    // The autoscaler (in the tick) sizes these groups and terminates chosen hosts; describe
    // calls take no resource, the changes are limited to this stack's groups by tag.
    this.tick.fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AutoscalerDescribe',
        // DescribeAutoScalingInstances: before terminating, the autoscaler checks the instance is in the group's ASG.
        actions: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeScalingActivities'],
        resources: ['*'],
      }),
    );
    this.tick.fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AutoscalerScale',
        actions: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
        resources: [`arn:${Aws.PARTITION}:autoscaling:${this.region}:${this.account}:autoScalingGroup:*:autoScalingGroupName/*`],
        conditions: { StringEquals: { [`autoscaling:ResourceTag/${STACK_TAG}`]: this.stackName } },
      }),
    );
    const agentGroups = this.toJsonString(
      region.agentGroups.map((g, i) => ({
        name: g.name,
        autoScalingGroupName: this.agentGroups[i]!.asg.autoScalingGroupName,
        zones: g.zones,
        minSize: g.minSize,
        maxSize: g.maxSize,
        instanceTypes: g.instanceTypes,
        shape: g.shape,
      })),
    );
    // The tick runs the autoscaler; the API handler serves its rules and activity (no AWS calls).
    this.tick.fn.fn.addEnvironment(ENV.agentGroups, agentGroups);
    this.apiHandler.fn.addEnvironment(ENV.agentGroups, agentGroups);
  }
}
