import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { VpcConfig } from './config.js';

// Where the agent hosts live: a small VPC with one public subnet per zone the groups use and
// no NAT gateway (hosts reach the API, the package repositories and image registries through
// the internet gateway; nothing reaches them unless a group opens its task ports), or an
// existing VPC given by id and one public subnet per zone (no lookup: synth needs no account).

export interface AgentNetworkProps {
  readonly vpc: VpcConfig;
  readonly zones: readonly string[];
}

export class AgentNetwork extends Construct {
  readonly vpc: ec2.IVpc;

  constructor(scope: Construct, id: string, props: AgentNetworkProps) {
    super(scope, id);
    const zones = [...props.zones];
    if ('vpcId' in props.vpc) {
      const subnetIds = props.vpc.subnetIds;
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: props.vpc.vpcId,
        availabilityZones: zones,
        publicSubnetIds: zones.map((z) => subnetIds[z] ?? ''),
      });
    } else {
      this.vpc = new ec2.Vpc(this, 'Vpc', {
        ipAddresses: ec2.IpAddresses.cidr(props.vpc.cidr),
        availabilityZones: zones,
        natGateways: 0,
        subnetConfiguration: [{ name: 'agents', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 20 }],
        restrictDefaultSecurityGroup: false,
      });
    }
  }

  subnetsIn(zones: readonly string[]): ec2.SubnetSelection {
    return { subnetType: ec2.SubnetType.PUBLIC, availabilityZones: [...zones] };
  }
}
