import { Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';

// The agent hosts' role, shared by the region's groups. Agents authenticate to the master
// with the agent token (not IAM), so the role needs no execute-api permission at all. It may:
// read the agent token secret, download the agent bundle, and describe instances from an
// instance of this region (DescribeInstances has no resource-level permissions, so the
// conditions pin the caller to an EC2 instance of this account and region instead).

export interface AgentRoleProps {
  readonly agentTokenSecretArn: string;
  readonly bundle: s3assets.Asset;
}

export class AgentRole extends Construct {
  readonly role: iam.Role;
  /** One instance profile for all of the region's launch templates. */
  readonly instanceProfile: iam.InstanceProfile;

  constructor(scope: Construct, id: string, props: AgentRoleProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `Stratus agent hosts (${Stack.of(this).stackName})`,
    });
    this.instanceProfile = new iam.InstanceProfile(this, 'InstanceProfile', { role: this.role });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadAgentToken',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [props.agentTokenSecretArn],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DownloadAgent',
        actions: ['s3:GetObject'],
        resources: [props.bundle.bucket.arnForObjects(props.bundle.s3ObjectKey)],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeOwnInstance',
        actions: ['ec2:DescribeInstances'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:RequestedRegion': region },
          ArnLike: { 'ec2:SourceInstanceARN': `arn:${Aws.PARTITION}:ec2:${region}:${Aws.ACCOUNT_ID}:instance/*` },
        },
      }),
    );
  }
}
