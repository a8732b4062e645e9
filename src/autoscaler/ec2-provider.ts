import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { awsClientConfig } from '../state/aws-config.js';
import { agentGroupsFromEnv, type AgentGroupMapping } from './agent-groups-env.js';
import { ScalingProviderError, type HostRef, type ScalingProvider, type TerminateOutcome } from './provider.js';

// The EC2 Auto Scaling adapter: one ASG per agent group. Growth sets the desired capacity;
// a removal terminates the chosen instance (the agent's `instance_id` attribute) with
// ShouldDecrementDesiredCapacity, so the ASG does not launch a replacement. Before terminating
// it checks that the instance belongs to the group's ASG: an instance already gone (or leaving)
// counts as done, an instance of another ASG is refused (never the wrong host).

export interface Ec2ProviderOptions {
  /** Agent group → Auto Scaling group name. */
  readonly groups: readonly Pick<AgentGroupMapping, 'group' | 'autoScalingGroupName'>[] | Readonly<Record<string, string>>;
  readonly client?: AutoScalingClient;
  /** SDK attempts per call (throttling is retried inside the SDK too). Default 3. */
  readonly maxAttempts?: number;
  /** Where the SDK settings come from (AWS_ENDPOINT_URL, AWS_REGION...). Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

// Errors that say "try again later"; the SDK marks most of them $retryable as well.
const TRANSIENT = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
  'ScalingActivityInProgress',
  'ScalingActivityInProgressFault',
  'ResourceContention',
  'ResourceContentionFault',
  'ServiceUnavailable',
  'InternalFailure',
  'RequestTimeout',
  'TimeoutError',
]);
const GONE = /not found|no managed instance|does not exist|InvalidInstanceID/i;

interface AwsErrorLike {
  readonly name?: string;
  readonly message?: string;
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** Maps an SDK error to a ScalingProviderError (transient: throttling, 5xx, network). */
export function providerError(action: string, e: unknown): ScalingProviderError {
  const err = (typeof e === 'object' && e !== null ? e : {}) as AwsErrorLike;
  const name = err.name ?? 'Error';
  const status = err.$metadata?.httpStatusCode;
  const retryable = TRANSIENT.has(name) || err.$retryable !== undefined || (status !== undefined && status >= 500) || status === undefined;
  return new ScalingProviderError(`${action}: ${name}: ${err.message ?? String(e)}`, retryable, name);
}

function isGone(e: unknown): boolean {
  const err = (typeof e === 'object' && e !== null ? e : {}) as AwsErrorLike;
  return (err.name === 'ValidationError' || err.name === 'InvalidInstanceID.NotFound') && GONE.test(err.message ?? '');
}

export class Ec2AutoScalingProvider implements ScalingProvider {
  readonly kind = 'ec2-autoscaling';
  readonly client: AutoScalingClient;
  private readonly asgs: ReadonlyMap<string, string>;

  constructor(options: Ec2ProviderOptions) {
    this.asgs = new Map(Array.isArray(options.groups) ? options.groups.map((g) => [g.group, g.autoScalingGroupName] as const) : Object.entries(options.groups));
    this.client = options.client ?? new AutoScalingClient({ ...awsClientConfig(options.env), maxAttempts: options.maxAttempts ?? 3 });
  }

  groups(): readonly string[] {
    return [...this.asgs.keys()];
  }

  private asg(group: string): string {
    const name = this.asgs.get(group);
    if (name === undefined) throw new ScalingProviderError(`agent group '${group}' has no Auto Scaling group`, false, 'UnknownGroup');
    return name;
  }

  private async send<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      throw providerError(action, e);
    }
  }

  async desiredSize(group: string): Promise<number> {
    const name = this.asg(group);
    const out = await this.send(`DescribeAutoScalingGroups ${name}`, () => this.client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })));
    const asg = out.AutoScalingGroups?.[0];
    if (!asg) throw new ScalingProviderError(`Auto Scaling group ${name} (agent group '${group}') does not exist`, false, 'NoSuchGroup');
    return asg.DesiredCapacity ?? 0;
  }

  async growTo(group: string, size: number, _zones: readonly string[] = []): Promise<void> {
    const name = this.asg(group);
    if (size <= (await this.desiredSize(group))) return;
    // HonorCooldown false: the autoscaler keeps its own cooldowns.
    await this.send(`SetDesiredCapacity ${name} ${size}`, () => this.client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: name, DesiredCapacity: size, HonorCooldown: false })));
  }

  async terminate(host: HostRef): Promise<TerminateOutcome> {
    const name = this.asg(host.group);
    const id = host.instanceId;
    if (id === undefined || !/^i-[0-9a-f]{8,17}$/.test(id)) {
      throw new ScalingProviderError(`agent ${host.agentId} (${host.hostname}) has no EC2 instance id attribute: cannot tell which instance to terminate`, false, 'NoInstanceId');
    }
    const described = await this.send(`DescribeAutoScalingInstances ${id}`, () => this.client.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [id] })));
    const instance = described.AutoScalingInstances?.[0];
    if (!instance || /^Terminat/.test(instance.LifecycleState ?? '')) return 'gone';
    if (instance.AutoScalingGroupName !== name) {
      throw new ScalingProviderError(`instance ${id} belongs to Auto Scaling group ${instance.AutoScalingGroupName ?? '?'}, not ${name} (agent group '${host.group}'): not terminated`, false, 'WrongGroup');
    }
    try {
      await this.client.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: id, ShouldDecrementDesiredCapacity: true }));
    } catch (e) {
      if (isGone(e)) return 'gone';
      throw providerError(`TerminateInstanceInAutoScalingGroup ${id}`, e);
    }
    return 'terminated';
  }
}

/** The provider the leader tick uses: groups from STRATUS_AGENT_GROUPS, endpoint from AWS_ENDPOINT_URL. */
export function ec2ProviderFromEnv(env: NodeJS.ProcessEnv = process.env): Ec2AutoScalingProvider {
  return new Ec2AutoScalingProvider({ groups: agentGroupsFromEnv(env), env });
}
