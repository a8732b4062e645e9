import { Duration, Stack, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { AgentGroupConfig } from './config.js';
import type { AgentNetwork } from './agent-network.js';
import { AGENT_PORT, agentUserDataLines } from './agent-user-data.js';

// One agent group: a launch template (Amazon Linux 2023 of the group's architecture, IMDSv2
// only, encrypted gp3 root volume, the agent boot script) and an Auto Scaling group over the
// group's instance types and zones. The autoscaler in the tick changes its desired capacity
// within min..max and terminates chosen hosts; the tags let the tick's role do only that.

/** Mesos's default port range, offered to tasks. */
export const TASK_PORTS = { from: 31000, to: 32000 };
export const GROUP_TAG = 'stratus:group';
export const STACK_TAG = 'stratus:stack';

export interface AgentGroupProps {
  readonly group: AgentGroupConfig;
  readonly network: AgentNetwork;
  readonly instanceProfile: iam.IInstanceProfile;
  readonly apiUrl: string;
  readonly socketUrl?: string;
  readonly bundleS3Url: string;
  readonly agentTokenSecretArn: string;
}

export class AgentGroup extends Construct {
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly asg: autoscaling.AutoScalingGroup;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: AgentGroupProps) {
    super(scope, id);
    const g = props.group;
    this.securityGroup = new ec2.SecurityGroup(this, 'Hosts', {
      vpc: props.network.vpc,
      description: `Stratus agent group ${g.name}`,
      allowAllOutbound: true,
    });
    for (const cidr of g.ingressCidrs) {
      this.securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcpRange(TASK_PORTS.from, TASK_PORTS.to), 'task ports');
      this.securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(AGENT_PORT), 'agent endpoint (task logs, state)');
    }
    const userData = ec2.UserData.forLinux();
    userData.addCommands(
      ...agentUserDataLines({
        apiUrl: props.apiUrl,
        ...(props.socketUrl !== undefined ? { socketUrl: props.socketUrl } : {}),
        region: Stack.of(this).region,
        group: g.name,
        bundleS3Url: props.bundleS3Url,
        agentTokenSecretArn: props.agentTokenSecretArn,
      }),
    );
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.latestAmazonLinux2023({
        cpuType: g.architecture === 'arm64' ? ec2.AmazonLinuxCpuType.ARM_64 : ec2.AmazonLinuxCpuType.X86_64,
      }),
      instanceProfile: props.instanceProfile,
      securityGroup: this.securityGroup,
      userData,
      requireImdsv2: true,
      // Bridge-networked containers (one hop further) cannot reach the host's credentials.
      httpPutResponseHopLimit: 1,
      associatePublicIpAddress: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(g.rootVolumeGiB, { volumeType: ec2.EbsDeviceVolumeType.GP3, encrypted: true, deleteOnTermination: true }),
        },
      ],
    });
    this.asg = new autoscaling.AutoScalingGroup(this, 'Asg', {
      vpc: props.network.vpc,
      vpcSubnets: props.network.subnetsIn(g.zones),
      mixedInstancesPolicy: {
        launchTemplate: this.launchTemplate,
        launchTemplateOverrides: g.instanceTypes.map((t) => ({ instanceType: new ec2.InstanceType(t) })),
        instancesDistribution: {
          onDemandBaseCapacity: 0,
          onDemandPercentageAboveBaseCapacity: 100,
          onDemandAllocationStrategy: autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
        },
      },
      minCapacity: g.minSize,
      maxCapacity: g.maxSize,
      ...(g.desiredCapacity !== undefined ? { desiredCapacity: g.desiredCapacity } : {}),
      healthChecks: autoscaling.HealthChecks.ec2({ gracePeriod: Duration.minutes(5) }),
      capacityRebalance: false,
    });
    Tags.of(this.asg).add(GROUP_TAG, g.name, { applyToLaunchedInstances: true });
  }
}
