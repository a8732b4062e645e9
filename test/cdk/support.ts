import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type StratusConfig, type StratusConfigInput } from '../../cdk/lib/config.js';
import type { RegionStack } from '../../cdk/lib/region-stack.js';
import { addRegionStacks } from '../../cdk/lib/stratus-app.js';
import { hashSecret, hashToken } from '../../src/http/credentials.js';

// Synthesizes a config once (per test file) into a temporary cloud assembly, with Docker
// made unusable so that any attempt to bundle in a container fails the synth.

export const ACCOUNT = '123456789012';
export const OTHER_ACCOUNT = '210987654321';

export const FRAMEWORK_SECRET = 'framework-secret-for-tests';
export const FRAMEWORK_HASH = hashSecret(FRAMEWORK_SECRET);
const OPERATOR_HASH = hashSecret('operator-secret-for-tests');
export const AGENT_TOKEN_HASH = hashToken('agent-token-for-tests');

export const secretArn = (region: string, account: string, name: string): string => `arn:aws:secretsmanager:${region}:${account}:secret:${name}-Ab12Cd`;

/**
 * Three regions: us-east-1 with two agent groups in a VPC it creates, eu-west-1 with one
 * group in an existing VPC, ap-southeast-2 (another account) with no agents and credentials
 * referenced from an existing secret. us-east-1 peers with both others.
 */
export function testConfig(): StratusConfigInput {
  return {
    name: 'stratus',
    account: ACCOUNT,
    deletionProtection: true,
    principals: [
      { name: 'marathon', kind: 'framework', roles: ['web', 'batch'], secret_hash: FRAMEWORK_HASH },
      { name: 'ops', kind: 'operator', secret_hash: OPERATOR_HASH },
      { name: 'agents', kind: 'agent', token_hash: AGENT_TOKEN_HASH },
    ],
    regions: [
      {
        name: 'us-east-1',
        peers: ['eu-west-1', 'ap-southeast-2'],
        agentTokenSecretArn: secretArn('us-east-1', ACCOUNT, 'stratus/agent-token'),
        vpc: { cidr: '10.40.0.0/16' },
        agentGroups: [
          {
            name: 'general',
            instanceTypes: ['m7g.large', 'm6g.large'],
            architecture: 'arm64',
            minSize: 1,
            maxSize: 8,
            desiredCapacity: 2,
            zones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
            shape: { cpus: 2, memMb: 7168, diskMb: 20480 },
          },
          {
            name: 'gpu',
            instanceTypes: ['g5.xlarge'],
            architecture: 'x86_64',
            minSize: 0,
            maxSize: 2,
            zones: ['us-east-1a'],
            shape: { cpus: 4, memMb: 15360, diskMb: 90000 },
            rootVolumeGiB: 100,
            ingressCidrs: ['10.0.0.0/8'],
          },
        ],
      },
      {
        name: 'eu-west-1',
        peers: ['us-east-1'],
        agentTokenSecretArn: secretArn('eu-west-1', ACCOUNT, 'stratus/agent-token'),
        vpc: { vpcId: 'vpc-0a1b2c3d4e5f60718', subnetIds: { 'eu-west-1a': 'subnet-0aaaaaaaaaaaaaaa1', 'eu-west-1b': 'subnet-0bbbbbbbbbbbbbbb2' } },
        agentGroups: [
          {
            name: 'general',
            instanceTypes: ['c7i.xlarge'],
            minSize: 0,
            maxSize: 6,
            desiredCapacity: 3,
            zones: ['eu-west-1a', 'eu-west-1b'],
            shape: { cpus: 4, memMb: 7168, diskMb: 20480 },
          },
        ],
      },
      {
        name: 'ap-southeast-2',
        account: OTHER_ACCOUNT,
        peers: ['us-east-1'],
        credentialsSecretArn: secretArn('ap-southeast-2', OTHER_ACCOUNT, 'stratus/credentials'),
      },
    ],
  };
}

export interface Synthesized {
  readonly config: StratusConfig;
  readonly stacks: readonly RegionStack[];
  readonly outdir: string;
  template(region: string): Template;
  /** The directory of a synthesized asset, from the S3 key CloudFormation names. */
  assetDir(s3Key: string): string;
  /** Removes the cloud assembly. */
  cleanup(): void;
}

export function synth(raw: StratusConfigInput, options: { validation?: boolean } = {}): Synthesized {
  // Any Docker bundling would run this and fail: synth must bundle locally.
  process.env.CDK_DOCKER = '/nonexistent/docker-must-not-be-used';
  const config = parseConfig(raw, 'test config');
  const outdir = mkdtempSync(join(tmpdir(), 'stratus-cdk-'));
  const app = new App({ outdir, builtinCloudFormationValidation: options.validation ?? false });
  const stacks = addRegionStacks(app, config);
  const assembly = app.synth();
  const templates = new Map(stacks.map((s) => [s.region, Template.fromJSON(assembly.getStackByName(s.stackName).template as Record<string, unknown>)]));
  return {
    config,
    stacks,
    outdir,
    template(region) {
      const t = templates.get(region);
      if (!t) throw new Error(`no stack for region ${region}`);
      return t;
    },
    assetDir(s3Key) {
      return join(outdir, `asset.${s3Key.replace(/\.zip$/, '')}`);
    },
    cleanup() {
      rmSync(outdir, { recursive: true, force: true });
    },
  };
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * A CloudFormation value rendered as a string: pseudo parameters substituted, Fn::Join and
 * Fn::Sub evaluated, references to resources shown as <LogicalId> or <LogicalId.Attribute>.
 */
export function render(v: unknown, account: string): string {
  const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::AccountId': account, 'AWS::URLSuffix': 'amazonaws.com' };
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('Ref' in o) return pseudo[o.Ref as string] ?? `<${String(o.Ref)}>`;
    if ('Fn::GetAtt' in o) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => render(p, account)).join(sep);
    }
    if ('Fn::Sub' in o) return (o['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, (_m, name: string) => pseudo[name] ?? `<${name}>`);
  }
  return JSON.stringify(v);
}

export function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export interface PolicyStatementJson {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Every policy statement of a template: IAM policies, roles' inline policies, resource policies. */
export function allStatements(template: Template): { resource: string; statement: PolicyStatementJson }[] {
  const out: { resource: string; statement: PolicyStatementJson }[] = [];
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  for (const [id, r] of Object.entries(resources)) {
    const p = r.Properties ?? {};
    const docs: unknown[] = [];
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::SQS::QueuePolicy') docs.push(p.PolicyDocument);
    if (r.Type === 'AWS::IAM::Role') {
      docs.push(p.AssumeRolePolicyDocument);
      for (const inline of asArray(p.Policies as { PolicyDocument: unknown }[] | undefined)) docs.push(inline.PolicyDocument);
    }
    for (const doc of docs) {
      for (const statement of asArray((doc as { Statement?: PolicyStatementJson[] } | undefined)?.Statement)) out.push({ resource: id, statement });
    }
  }
  return out;
}
