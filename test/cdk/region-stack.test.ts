import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../cdk/lib/config.js';
import { RegionTable } from '../../cdk/lib/region-table.js';
import { createTableInput, TABLE_DEFINITION } from '../../src/state/table-definition.js';
import { ACCOUNT, allStatements, asArray, OTHER_ACCOUNT, render, synth, testConfig, type PolicyStatementJson, type Synthesized } from './support.js';

// The synthesized RegionStacks of a three-region config, asserted with aws-cdk-lib/assertions.
// One synth for the whole file (with CloudFormation's own template validation on).

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;

let s: Synthesized;
beforeAll(() => {
  s = synth(testConfig(), { validation: true });
});
afterAll(() => s.cleanup());

const resources = (region: string): Resources => s.template(region).toJSON().Resources as Resources;
const ofType = (region: string, type: string): [string, Resources[string]][] => Object.entries(resources(region)).filter(([, r]) => r.Type === type);
const accountOf = (region: string): string => (region === 'ap-southeast-2' ? OTHER_ACCOUNT : ACCOUNT);

function functionNamed(region: string, construct: 'ApiHandler' | 'LeaderTick' | 'GossipReceiver' | 'SchedulerStream'): [string, Resources[string]] {
  const found = ofType(region, 'AWS::Lambda::Function').filter(([id]) => id.startsWith(construct));
  expect(found, `${construct} function in ${region}`).toHaveLength(1);
  return found[0]!;
}

describe('RegionStack per configured region', () => {
  it('synthesizes one stack per region, named after it, in its region and account, and passes CloudFormation validation', () => {
    expect(s.stacks.map((st) => [st.stackName, st.region, st.account])).toEqual([
      ['stratus-us-east-1', 'us-east-1', ACCOUNT],
      ['stratus-eu-west-1', 'eu-west-1', ACCOUNT],
      ['stratus-ap-southeast-2', 'ap-southeast-2', OTHER_ACCOUNT],
    ]);
    const report = JSON.parse(readFileSync(join(s.outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { conclusion: string; violations: unknown[] }[] };
    for (const r of report.pluginReports) expect(r, JSON.stringify(r.violations)).toMatchObject({ conclusion: 'success', violations: [] });
  });

  it.each([
    // region, agent groups, VPCs, subnets, credentials secrets created
    ['us-east-1', 2, 1, 3, 1],
    ['eu-west-1', 1, 0, 0, 1],
    ['ap-southeast-2', 0, 0, 0, 0],
  ])('%s has the expected resource counts', (region, groups, vpcs, subnets, secrets) => {
    const t = s.template(region);
    t.resourceCountIs('AWS::DynamoDB::Table', 1);
    t.resourceCountIs('AWS::SQS::Queue', 2);
    t.resourceCountIs('AWS::SQS::QueuePolicy', 2);
    t.resourceCountIs('AWS::Lambda::Function', 4);
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    t.resourceCountIs('AWS::Events::Rule', 1);
    t.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    t.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    t.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
    t.resourceCountIs('AWS::ApiGatewayV2::Route', 17);
    t.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    t.resourceCountIs('AWS::Logs::LogGroup', 4);
    t.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    t.resourceCountIs('AWS::ApiGateway::Method', 5);
    t.resourceCountIs('AWS::ApiGateway::Stage', 1);
    t.resourceCountIs('AWS::ApiGateway::Account', 0);
    t.resourceCountIs('AWS::SecretsManager::Secret', secrets);
    t.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', groups);
    t.resourceCountIs('AWS::EC2::LaunchTemplate', groups);
    t.resourceCountIs('AWS::EC2::SecurityGroup', groups);
    t.resourceCountIs('AWS::IAM::InstanceProfile', groups > 0 ? 1 : 0);
    t.resourceCountIs('AWS::IAM::Role', groups > 0 ? 5 : 4);
    t.resourceCountIs('AWS::EC2::VPC', vpcs);
    t.resourceCountIs('AWS::EC2::Subnet', subnets);
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    // No custom resources (no helper Lambdas with broad permissions).
    expect(Object.values(resources(region)).filter((r) => r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource')).toEqual([]);
  });

  it('has the API URL, table name and inbox queue URL as outputs', () => {
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2']) {
      const outputs = s.template(region).toJSON().Outputs as Record<string, { Value: unknown }>;
      expect(render(outputs.ApiUrl?.Value, ACCOUNT)).toMatch(/^<ApiHttpApi[0-9A-F]+\.ApiEndpoint>$/);
      expect(render(outputs.TableName?.Value, ACCOUNT)).toMatch(/^<StateTable[0-9A-F]+>$/);
      expect(render(outputs.InboxQueueUrl?.Value, ACCOUNT)).toMatch(/^<GossipInboxQueue[0-9A-F]+>$/);
    }
  });
});

describe('DynamoDB table', () => {
  it("has the Registry's keys, GSIs and TTL attribute (from TABLE_DEFINITION), on demand with PITR", () => {
    const expected = createTableInput('ignored', TABLE_DEFINITION);
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2']) {
      const [[, table]] = ofType(region, 'AWS::DynamoDB::Table') as [[string, Resources[string]]];
      const p = table.Properties;
      expect(p.KeySchema).toEqual(expected.KeySchema);
      const byName = <T extends { AttributeName?: string }>(xs: T[]): T[] => [...xs].sort((a, b) => (a.AttributeName ?? '').localeCompare(b.AttributeName ?? ''));
      expect(byName(p.AttributeDefinitions as { AttributeName: string }[])).toEqual(byName(expected.AttributeDefinitions ?? []));
      const gsis = (p.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown; Projection: unknown }[]).map((g) => ({ IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection }));
      expect(gsis).toEqual(expected.GlobalSecondaryIndexes);
      expect(gsis.map((g) => g.IndexName)).toEqual(TABLE_DEFINITION.globalSecondaryIndexes.map((g) => g.indexName));
      expect(p.TimeToLiveSpecification).toEqual({ AttributeName: TABLE_DEFINITION.ttlAttribute, Enabled: true });
      expect(p.BillingMode).toBe('PAY_PER_REQUEST');
      expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(p.DeletionProtectionEnabled).toBe(true);
      expect(table.DeletionPolicy).toBe('Retain');
    }
  });

  it('without deletion protection, the table goes with its stack', () => {
    const stack = new Stack(new App(), 'Unprotected', { env: { region: 'eu-west-1' } });
    new RegionTable(stack, 'State', { deletionProtection: false });
    Template.fromStack(stack).hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ DeletionProtectionEnabled: false, KeySchema: createTableInput('x').KeySchema }),
      DeletionPolicy: 'Delete',
    });
  });
});

describe('HTTP API', () => {
  const expectedRoutes = [
    'POST /api/v1/scheduler',
    'GET /api/v1/scheduler/events',
    'POST /api/v1/agents/register',
    'POST /api/v1/agents/{agent}/heartbeat',
    'POST /api/v1/agents/{agent}/work',
    'POST /api/v1/agents/{agent}/status',
    'POST /api/v1/agents/{agent}/authorize',
    'POST /api/v1',
    'GET /master/state',
    'GET /health',
    'GET /api/v1/tasks/{framework}/{task}/logs',
    'GET /',
    'GET /dashboard/{file}',
    'ANY /api/v1/jobs',
    'ANY /api/v1/jobs/{proxy+}',
    'GET /api/v1/federation/services/{name}',
    'ANY /{proxy+}',
  ];

  it('routes the scheduler, events, agent, operator, jobs and federation paths to the API handler, with no authorizer', () => {
    for (const region of ['us-east-1', 'ap-southeast-2']) {
      const routes = ofType(region, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
      expect(routes.map((r) => r.RouteKey).sort()).toEqual([...expectedRoutes].sort());
      const [[integrationId, integration]] = ofType(region, 'AWS::ApiGatewayV2::Integration') as [[string, Resources[string]]];
      for (const r of routes) {
        expect(r.AuthorizationType ?? 'NONE').toBe('NONE');
        expect(render(r.Target, ACCOUNT)).toBe(`integrations/<${integrationId}>`);
      }
      const [apiHandlerId] = functionNamed(region, 'ApiHandler');
      expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
      expect(render(integration.Properties.IntegrationUri, ACCOUNT)).toBe(`<${apiHandlerId}.Arn>`);
      const [[, api]] = ofType(region, 'AWS::ApiGatewayV2::Api') as [[string, Resources[string]]];
      expect(api.Properties).toMatchObject({ ProtocolType: 'HTTP', Name: `stratus-${region}` });
    }
  });
});

describe('REST API for Mesos scheduler streams', () => {
  it('routes the scheduler API and the calls Mesos clients make before subscribing to the streaming function, STREAM transfer mode, REGIONAL, no authorizer', () => {
    for (const region of ['us-east-1', 'ap-southeast-2']) {
      const t = s.template(region);
      const [fnId] = functionNamed(region, 'SchedulerStream');
      const [[, api]] = ofType(region, 'AWS::ApiGateway::RestApi') as [[string, Resources[string]]];
      expect(api.Properties).toMatchObject({ Name: `stratus-${region}-scheduler-stream`, EndpointConfiguration: { Types: ['REGIONAL'] } });
      const resources = Object.fromEntries(ofType(region, 'AWS::ApiGateway::Resource').map(([id, r]) => [id, r.Properties]));
      const pathOf = (ref: unknown): string => {
        const id = (ref as { Ref?: string }).Ref;
        if (!id || !resources[id]) return '';
        return `${pathOf(resources[id].ParentId)}/${String(resources[id].PathPart)}`;
      };
      const methods = ofType(region, 'AWS::ApiGateway::Method').map(([, m]) => m.Properties);
      expect(methods.map((m) => `${String(m.HttpMethod)} ${pathOf(m.ResourceId)}`).sort()).toEqual(
        ['POST /api/v1/scheduler', 'GET /version', 'GET /master/version', 'GET /redirect', 'GET /master/redirect'].sort(),
      );
      for (const m of methods) {
        expect(m.AuthorizationType).toBe('NONE');
        const integration = m.Integration as { Type: string; IntegrationHttpMethod: string; ResponseTransferMode: string; Uri: unknown };
        expect(integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST', ResponseTransferMode: 'STREAM' });
        // InvokeWithResponseStream, not Invoke.
        expect(render(integration.Uri, ACCOUNT)).toMatch(new RegExp(`:lambda:path/2021-11-15/functions/<${fnId}.Arn>/response-streaming-invocations$`));
      }
      t.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'mesos' });
      // One invoke permission, for this API only.
      const perms = ofType(region, 'AWS::Lambda::Permission').filter(([, p]) => render(p.Properties.FunctionName, ACCOUNT) === `<${fnId}.Arn>`);
      expect(perms).toHaveLength(1);
      expect(perms[0]![1].Properties.Principal).toBe('apigateway.amazonaws.com');
      expect(render(perms[0]![1].Properties.SourceArn, ACCOUNT)).toMatch(/:execute-api:.*<SchedulerStreamRestApi[0-9A-F]+>\/\*\/\*\/\*$/);
    }
  });

  it('the streaming function: 128 MB, 15-minute timeout, the stream ending before it, the table, secret and tick of the region', () => {
    const [, fn] = functionNamed('us-east-1', 'SchedulerStream');
    const [tickId] = functionNamed('us-east-1', 'LeaderTick');
    expect(fn.Properties).toMatchObject({ MemorySize: 128, Timeout: 900 });
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Number(env.STRATUS_STREAM_MAX_SECONDS)).toBeLessThan(900);
    expect(Number(env.STRATUS_STREAM_MAX_SECONDS)).toBeGreaterThanOrEqual(600);
    expect(env.STRATUS_STREAM_POLL_MS).toBe('1000');
    expect(render(env.STRATUS_TABLE, ACCOUNT)).toMatch(/^<StateTable/);
    expect(render(env.STRATUS_CREDENTIALS_SECRET_ARN, ACCOUNT)).toMatch(/^<CredentialsSecret/);
    expect(render(env.STRATUS_TICK_FUNCTION, ACCOUNT)).toBe(`<${tickId}>`);
    const policy = allStatements(s.template('us-east-1')).filter(({ resource }) => resource.startsWith('SchedulerStreamFunctionRoleDefaultPolicy'));
    const actions = new Set(policy.flatMap(({ statement }) => asArray(statement.Action)));
    expect(actions).toContain('secretsmanager:GetSecretValue');
    expect(actions).toContain('dynamodb:GetItem');
    expect(actions).toContain('lambda:InvokeFunction');
  });

  it('outputs the streaming scheduler URL (the REST API stage)', () => {
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2']) {
      const outputs = s.template(region).toJSON().Outputs as Record<string, { Value: unknown }>;
      expect(render(outputs.SchedulerStreamUrl?.Value, ACCOUNT)).toMatch(new RegExp(`^https://<SchedulerStreamRestApi[0-9A-F]+>\\.execute-api\\.${region}\\.amazonaws\\.com/<SchedulerStreamRestApiDeploymentStagemesos[0-9A-F]+>/$`));
    }
  });
});

describe('Lambda functions', () => {
  it('run on Node.js 22 or later with index.handler from a local esbuild bundle (ESM + source map)', () => {
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2']) {
      for (const [id, fn] of ofType(region, 'AWS::Lambda::Function')) {
        const runtime = String(fn.Properties.Runtime);
        expect(runtime, id).toMatch(/^nodejs\d+\.x$/);
        expect(Number(/\d+/.exec(runtime)![0]), id).toBeGreaterThanOrEqual(22);
        expect(fn.Properties.Handler, id).toBe('index.handler');
        expect(fn.Properties.Architectures).toEqual(['arm64']);
        const dir = s.assetDir(String((fn.Properties.Code as { S3Key: string }).S3Key));
        expect(existsSync(join(dir, 'index.mjs')), `${id} bundle in ${dir}`).toBe(true);
        expect(existsSync(join(dir, 'index.mjs.map')), id).toBe(true);
      }
    }
  });

  it('the API handler knows the table, the credentials secret and the tick it may trigger', () => {
    const [, api] = functionNamed('us-east-1', 'ApiHandler');
    const [tickId] = functionNamed('us-east-1', 'LeaderTick');
    const env = (api.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(render(env.STRATUS_TABLE, ACCOUNT)).toMatch(/^<StateTable/);
    expect(render(env.STRATUS_CREDENTIALS_SECRET_ARN, ACCOUNT)).toMatch(/^<CredentialsSecret/);
    expect(render(env.STRATUS_TICK_FUNCTION, ACCOUNT)).toBe(`<${tickId}>`);
    expect(env.STRATUS_REGION).toBe('us-east-1');
    expect(api.Properties.Timeout).toBe(30);
    // A referenced credentials secret is passed as is.
    const [, apSe] = functionNamed('ap-southeast-2', 'ApiHandler');
    expect((apSe.Properties.Environment as { Variables: Record<string, unknown> }).Variables.STRATUS_CREDENTIALS_SECRET_ARN).toBe(
      `arn:aws:secretsmanager:ap-southeast-2:${OTHER_ACCOUNT}:secret:stratus/credentials-Ab12Cd`,
    );
  });

  it('the tick is a single runner on a schedule, triggerable by the API handler only', () => {
    const [tickId, tick] = functionNamed('us-east-1', 'LeaderTick');
    expect(tick.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(tick.Properties.Timeout).toBe(60);
    const [[, rule]] = ofType('us-east-1', 'AWS::Events::Rule') as [[string, Resources[string]]];
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect((rule.Properties.Targets as { Arn: unknown }[]).map((t) => render(t.Arn, ACCOUNT))).toEqual([`<${tickId}.Arn>`]);
    const invokers = allStatements(s.template('us-east-1')).filter(({ statement }) => asArray(statement.Action).includes('lambda:InvokeFunction'));
    expect(invokers.map((i) => i.resource).sort()).toEqual([expect.stringMatching(/^ApiHandlerRoleDefaultPolicy/), expect.stringMatching(/^SchedulerStreamFunctionRoleDefaultPolicy/)]);
    for (const i of invokers) expect(asArray(i.statement.Resource).map((r) => render(r, ACCOUNT))).toContain(`<${tickId}.Arn>`);
    // Lambda retries an invocation throttled by the single runner within maxEventAge, never a failed one.
    s.template('us-east-1').hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: tickId },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 120,
    });
    const [roleId] = ofType('us-east-1', 'AWS::IAM::Role').find(([, r]) => r.Properties.RoleName === 'stratus-us-east-1-tick')!;
    expect(render(tick.Properties.Role, ACCOUNT)).toBe(`<${roleId}.Arn>`);
    const env = (tick.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(render(env.STRATUS_PEERS, ACCOUNT)).toBe('eu-west-1,ap-southeast-2');
    expect(JSON.parse(render(env.STRATUS_GOSSIP_QUEUES, ACCOUNT))).toEqual({
      'eu-west-1': `https://sqs.eu-west-1.amazonaws.com/${ACCOUNT}/stratus-gossip-eu-west-1`,
      'ap-southeast-2': `https://sqs.ap-southeast-2.amazonaws.com/${OTHER_ACCOUNT}/stratus-gossip-ap-southeast-2`,
      'us-east-1': expect.stringMatching(/^<GossipInbox/),
    });
    const groups = JSON.parse(render(env.STRATUS_AGENT_GROUPS, ACCOUNT)) as { name: string; autoScalingGroupName: string; zones: string[] }[];
    expect(groups.map((g) => [g.name, g.zones])).toEqual([
      ['general', ['us-east-1a', 'us-east-1b', 'us-east-1c']],
      ['gpu', ['us-east-1a']],
    ]);
    expect(groups[0]!.autoScalingGroupName).toMatch(/^<GroupgeneralAsg/);
  });

  it('the gossip receiver is fed by the inbox queue and reports failed records one by one', () => {
    const [receiverId] = functionNamed('eu-west-1', 'GossipReceiver');
    s.template('eu-west-1').hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: receiverId },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GossipInboxQueue'), 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});

describe('gossip inbox', () => {
  it('is named for federation, dead-letters after 5 receives, and admits exactly the peers’ tick roles', () => {
    const expectations: Record<string, string[]> = { 'us-east-1': ['eu-west-1', 'ap-southeast-2'], 'eu-west-1': ['us-east-1'], 'ap-southeast-2': ['us-east-1'] };
    for (const [region, peers] of Object.entries(expectations)) {
      const t = s.template(region);
      t.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `stratus-gossip-${region}`,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GossipInboxDeadLetters'), 'Arn'] }, maxReceiveCount: 5 },
        SqsManagedSseEnabled: true,
      });
      t.hasResourceProperties('AWS::SQS::Queue', { QueueName: `stratus-gossip-${region}-dlq` });
      const allows = allStatements(t).filter(({ resource, statement }) => resource.startsWith('GossipInboxQueuePolicy') && statement.Effect === 'Allow');
      const got = allows.map(({ statement }) => ({
        principal: render((statement.Principal as { AWS: unknown }).AWS, accountOf(region)),
        sender: render(statement.Condition?.ArnEquals?.['aws:PrincipalArn'], accountOf(region)),
        actions: asArray(statement.Action),
      }));
      expect(got).toEqual(
        peers.map((p) => ({
          principal: `arn:aws:iam::${accountOf(p)}:root`,
          sender: `arn:aws:iam::${accountOf(p)}:role/stratus-${p}-tick`,
          actions: ['sqs:SendMessage'],
        })),
      );
    }
  });

  it('the tick sends only to the peers’ inboxes', () => {
    const sends = allStatements(s.template('us-east-1')).filter(({ statement }) => asArray(statement.Action).includes('sqs:SendMessage') && statement.Effect === 'Allow' && !statement.Principal);
    expect(sends.map(({ resource }) => resource)).toEqual([expect.stringMatching(/^LeaderTickRoleDefaultPolicy/)]);
    expect(asArray(sends[0]!.statement.Resource).map((r) => render(r, ACCOUNT))).toEqual([
      `arn:aws:sqs:eu-west-1:${ACCOUNT}:stratus-gossip-eu-west-1`,
      `arn:aws:sqs:ap-southeast-2:${OTHER_ACCOUNT}:stratus-gossip-ap-southeast-2`,
    ]);
  });
});

describe('agent groups', () => {
  function subnetZones(region: string, identifiers: unknown[]): string[] {
    const all = resources(region);
    return identifiers.map((ref) => {
      const id = (ref as { Ref: string }).Ref;
      return String(all[id]!.Properties.AvailabilityZone);
    });
  }

  it('one Auto Scaling group per group, with the configured sizes, instance types and zones', () => {
    const t = s.template('us-east-1');
    const asgs = ofType('us-east-1', 'AWS::AutoScaling::AutoScalingGroup');
    const general = asgs.find(([id]) => id.startsWith('Groupgeneral'))![1].Properties;
    expect([general.MinSize, general.MaxSize, general.DesiredCapacity]).toEqual(['1', '8', '2']);
    expect(subnetZones('us-east-1', general.VPCZoneIdentifier as unknown[]).sort()).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    const policy = general.MixedInstancesPolicy as { LaunchTemplate: { Overrides: { InstanceType: string }[] } };
    expect(policy.LaunchTemplate.Overrides.map((o) => o.InstanceType)).toEqual(['m7g.large', 'm6g.large']);
    const gpu = asgs.find(([id]) => id.startsWith('Groupgpu'))![1].Properties;
    expect([gpu.MinSize, gpu.MaxSize, gpu.DesiredCapacity]).toEqual(['0', '2', undefined]);
    expect(subnetZones('us-east-1', gpu.VPCZoneIdentifier as unknown[])).toEqual(['us-east-1a']);
    // The VPC has one public subnet per zone the groups use, and no NAT gateway.
    expect(ofType('us-east-1', 'AWS::EC2::Subnet').map(([, r]) => [r.Properties.AvailabilityZone, r.Properties.MapPublicIpOnLaunch])).toEqual([
      ['us-east-1a', true],
      ['us-east-1b', true],
      ['us-east-1c', true],
    ]);
    t.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    // Only the gpu group opens the task ports and the agent endpoint, to the configured block.
    const ingress = ofType('us-east-1', 'AWS::EC2::SecurityGroup').flatMap(([, r]) => asArray(r.Properties.SecurityGroupIngress as object[] | undefined));
    expect(ingress).toEqual([
      expect.objectContaining({ CidrIp: '10.0.0.0/8', FromPort: 31000, ToPort: 32000, IpProtocol: 'tcp' }),
      expect.objectContaining({ CidrIp: '10.0.0.0/8', FromPort: 5051, ToPort: 5051, IpProtocol: 'tcp' }),
    ]);
  });

  it('an existing VPC is used by subnet id per zone', () => {
    const [[, asg]] = ofType('eu-west-1', 'AWS::AutoScaling::AutoScalingGroup') as [[string, Resources[string]]];
    expect([asg.Properties.MinSize, asg.Properties.MaxSize, asg.Properties.DesiredCapacity]).toEqual(['0', '6', '3']);
    expect(asg.Properties.VPCZoneIdentifier).toEqual(['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2']);
    s.template('eu-west-1').hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: 'vpc-0a1b2c3d4e5f60718' });
  });

  it('launch templates: AL2023 of the group architecture, IMDSv2, encrypted root volume, and user data that starts the agent with the API URL', () => {
    const templates = ofType('us-east-1', 'AWS::EC2::LaunchTemplate');
    const params = Object.keys((s.template('us-east-1').toJSON().Parameters ?? {}) as object);
    for (const [id, lt] of templates) {
      const data = lt.Properties.LaunchTemplateData as Record<string, unknown>;
      const arch = id.startsWith('Groupgeneral') ? 'arm64' : 'x86_64';
      const image = render(data.ImageId, ACCOUNT);
      expect(image).toMatch(new RegExp(`^<SsmParameterValueawsserviceamiamazonlinuxlatestal2023ami.*${arch.replace('_', '')}`));
      expect(params).toContain(image.slice(1, -1));
      expect(data.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
      const volume = (data.BlockDeviceMappings as { Ebs: Record<string, unknown> }[])[0]!.Ebs;
      expect(volume).toMatchObject({ Encrypted: true, VolumeType: 'gp3', VolumeSize: arch === 'arm64' ? 30 : 100 });
      const userData = render((data.UserData as { 'Fn::Base64': unknown })['Fn::Base64'], ACCOUNT);
      const group = arch === 'arm64' ? 'general' : 'gpu';
      expect(userData).toContain('dnf install -y docker');
      expect(userData).toMatch(/dnf install -y nodejs22/);
      expect(userData).toContain('systemctl enable --now docker');
      expect(userData).toContain(`/opt/stratus/stratus.mjs agent --master <ApiHttpApi`);
      expect(userData).toMatch(new RegExp(`agent --master <ApiHttpApi[0-9A-F]+\\.ApiEndpoint> --zone \\$ZONE --group ${group} --ec2-metadata --work-dir /var/lib/stratus/agent --port 5051\\n`));
      expect(userData).toContain("printf 'STRATUS_AGENT_AUTHORIZATION=Bearer %s\\n' \"$AGENT_TOKEN\" >/etc/stratus/agent.env");
      expect(userData).toContain('EnvironmentFile=/etc/stratus/agent.env');
      expect(userData).toContain('latest/meta-data/placement/availability-zone');
      expect(userData).toContain(`s3://cdk-hnb659fds-assets-${ACCOUNT}-us-east-1/`);
      expect(userData).toContain(`--secret-id 'arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:stratus/agent-token-Ab12Cd'`);
      expect(userData).toContain('systemctl enable --now stratus-agent.service');
    }
  });

  it('the agent role may read its token, download the agent and describe instances from an instance, nothing else', () => {
    const agent = allStatements(s.template('us-east-1')).filter(({ resource }) => resource.startsWith('AgentRole'));
    const allows = agent.filter(({ statement }) => statement.Effect === 'Allow' && !statement.Principal);
    expect(allows.map(({ statement }) => [statement.Sid, asArray(statement.Action)])).toEqual([
      ['ReadAgentToken', ['secretsmanager:GetSecretValue']],
      ['DownloadAgent', ['s3:GetObject']],
      ['DescribeOwnInstance', ['ec2:DescribeInstances']],
    ]);
    const [token, bundle, describeOwn] = allows.map(({ statement }) => statement) as [PolicyStatementJson, PolicyStatementJson, PolicyStatementJson];
    expect(token.Resource).toBe(`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:stratus/agent-token-Ab12Cd`);
    expect(render(bundle.Resource, ACCOUNT)).toMatch(new RegExp(`^arn:aws:s3:::cdk-hnb659fds-assets-${ACCOUNT}-us-east-1/[0-9a-f]{64}\\.mjs$`));
    expect(describeOwn.Condition).toMatchObject({ StringEquals: { 'aws:RequestedRegion': 'us-east-1' } });
    expect(render(describeOwn.Condition?.ArnLike?.['ec2:SourceInstanceARN'], ACCOUNT)).toBe(`arn:aws:ec2:us-east-1:${ACCOUNT}:instance/*`);
    // The bundle the hosts download is the `stratus` command.
    const key = render(bundle.Resource, ACCOUNT).split('/').pop()!;
    const file = join(s.outdir, `asset.${key}`);
    expect(readFileSync(file, 'utf8')).toContain('usage: stratus COMMAND');
  });

  it('the autoscaler in the tick may change only this stack’s groups', () => {
    const scale = allStatements(s.template('us-east-1')).find(({ statement }) => statement.Sid === 'AutoscalerScale')!.statement;
    expect(asArray(scale.Action)).toEqual(['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup']);
    expect(scale.Condition).toEqual({ StringEquals: { 'autoscaling:ResourceTag/stratus:stack': 'stratus-us-east-1' } });
    const asg = ofType('us-east-1', 'AWS::AutoScaling::AutoScalingGroup')[0]![1].Properties;
    expect(asg.Tags).toContainEqual({ Key: 'stratus:stack', Value: 'stratus-us-east-1', PropagateAtLaunch: true });
    expect(asg.Tags).toContainEqual({ Key: 'stratus:group', Value: 'general', PropagateAtLaunch: true });
    // A region without agent groups gets no autoscaling permission.
    expect(allStatements(s.template('ap-southeast-2')).filter(({ statement }) => asArray(statement.Action).some((a) => a.startsWith('autoscaling:')))).toEqual([]);
  });
});

describe('least privilege', () => {
  const wildcardAction = (a: string): boolean => a === '*' || /^[A-Za-z0-9-]+:\*$/.test(a);

  it('no IAM statement allows * actions (or service:*) on * resources, in any policy of any region', () => {
    let walked = 0;
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2']) {
      for (const { resource, statement } of allStatements(s.template(region))) {
        walked++;
        if (statement.Effect !== 'Allow') continue;
        expect(statement.NotAction, `${region} ${resource}`).toBeUndefined();
        expect(statement.NotResource, `${region} ${resource}`).toBeUndefined();
        const actions = asArray(statement.Action);
        const onAll = asArray(statement.Resource as unknown).some((r) => r === '*');
        expect(onAll && actions.some(wildcardAction), `${region} ${resource}: ${JSON.stringify(statement)}`).toBe(false);
        expect(actions.filter(wildcardAction), `${region} ${resource}`).toEqual([]);
      }
    }
    expect(walked).toBeGreaterThan(20);
  });

  it('no role carries a managed policy; statements on * name specific describe actions only', () => {
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2']) {
      for (const [id, role] of ofType(region, 'AWS::IAM::Role')) expect(role.Properties.ManagedPolicyArns, `${region} ${id}`).toBeUndefined();
      const onStar = allStatements(s.template(region)).filter(({ statement }) => statement.Effect === 'Allow' && !statement.Principal && asArray(statement.Resource as unknown).includes('*'));
      for (const { statement } of onStar) for (const a of asArray(statement.Action)) expect(a).toMatch(/^(ec2|autoscaling):Describe[A-Za-z]+$/);
    }
  });

  it('functions reach the table with item and query actions only (no Scan, no table management)', () => {
    const dynamo = allStatements(s.template('us-east-1')).flatMap(({ statement }) => asArray(statement.Action).filter((a) => a.startsWith('dynamodb:')));
    expect(new Set(dynamo)).toEqual(
      new Set(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem']),
    );
  });
});

describe('example config', () => {
  it('cdk/stratus.config.json is a valid config', () => {
    const file = join(import.meta.dirname, '../../cdk/stratus.config.json');
    expect(() => parseConfig(JSON.parse(readFileSync(file, 'utf8')), file)).not.toThrow();
  });
});
