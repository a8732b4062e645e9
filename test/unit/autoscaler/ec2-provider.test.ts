import { describe, expect, it } from 'vitest';
import { DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, SetDesiredCapacityCommand, TerminateInstanceInAutoScalingGroupCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { AutoscalerController } from '../../../src/autoscaler/controller.js';
import { Ec2AutoScalingProvider } from '../../../src/autoscaler/ec2-provider.js';
import { AutoscalerStore } from '../../../src/autoscaler/store.js';
import { SimWorld } from '../../support/autoscaler-world.js';

// The EC2 adapter's error handling with a scripted client (moto cannot throttle): throttling is
// retried by the controller with backoff until the call goes through; "instance not found"
// counts as already terminated.

type Command = DescribeAutoScalingGroupsCommand | DescribeAutoScalingInstancesCommand | SetDesiredCapacityCommand | TerminateInstanceInAutoScalingGroupCommand;

function awsError(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, $fault: status >= 500 ? 'server' : 'client' });
}

class ScriptedClient {
  readonly sent: string[] = [];
  desired = 1;
  readonly instances = new Map<string, string>([['i-0aaaaaaaaaaaaaaa1', 'asg-general']]);
  throttleTerminate = 0;
  goneOnTerminate = false;

  async send(command: Command): Promise<unknown> {
    this.sent.push(command.constructor.name);
    if (command instanceof DescribeAutoScalingGroupsCommand) return { AutoScalingGroups: [{ AutoScalingGroupName: 'asg-general', DesiredCapacity: this.desired }] };
    if (command instanceof SetDesiredCapacityCommand) {
      this.desired = command.input.DesiredCapacity!;
      return {};
    }
    if (command instanceof DescribeAutoScalingInstancesCommand) {
      const id = command.input.InstanceIds![0]!;
      const asg = this.instances.get(id);
      return { AutoScalingInstances: asg ? [{ InstanceId: id, AutoScalingGroupName: asg, LifecycleState: 'InService' }] : [] };
    }
    if (this.throttleTerminate > 0) {
      this.throttleTerminate--;
      throw awsError('Throttling', 'Rate exceeded', 400);
    }
    if (this.goneOnTerminate) throw awsError('ValidationError', 'Instance Id not found - No managed instance found for instance ID: i-0aaaaaaaaaaaaaaa1', 400);
    this.instances.delete(command.input.InstanceId!);
    this.desired--;
    return {};
  }
}

describe('EC2 Auto Scaling adapter errors', () => {
  it('retries a throttled termination with backoff, then removes the host', async () => {
    const client = new ScriptedClient();
    client.throttleTerminate = 2;
    const provider = new Ec2AutoScalingProvider({ groups: { general: 'asg-general' }, client: client as unknown as AutoScalingClient });
    const world = new SimWorld();
    const autoscaler = new AutoscalerController({ provider, log: world.log, retry: { initialMs: 500, maxMs: 4_000 }, idleMemoryMs: 600_000 });
    const epoch = await world.lead();
    await autoscaler.setRules(world.registry, { groups: [{ group: 'general', minSize: 0, maxSize: 3, maxIdle: 0, scaleDownCooldownSeconds: 10, shape: { cpus: 4, mem: 8192 } }] });
    const agent = await world.addAgent({ instanceId: 'i-0aaaaaaaaaaaaaaa1' });
    await autoscaler.runOnce(world.master.ctx, epoch);
    world.advance(11_000);
    await autoscaler.runOnce(world.master.ctx, epoch);
    await world.markDrained(agent.id);
    for (let i = 0; i < 10 && (await new AutoscalerStore(world.registry).operations()).length > 0; i++) {
      world.advance(1_000);
      const r = await autoscaler.runOnce(world.master.ctx, epoch);
      expect(r.ran).toBe(true);
    }
    expect(client.sent.filter((c) => c === 'TerminateInstanceInAutoScalingGroupCommand')).toHaveLength(3);
    expect(client.desired).toBe(0);
    expect((await world.registry.getAgent(agent.id))?.reachability).toBe('GONE');
    const retries = world.log.records.filter((r) => /retrying with backoff/.test(r.message));
    expect(retries.map((r) => r.context.error)).toEqual([expect.stringMatching(/Throttling: Rate exceeded/), expect.stringMatching(/Throttling/)]);
  });

  it('counts "instance not found" on termination as already gone, and grows by setting the desired capacity', async () => {
    const client = new ScriptedClient();
    client.goneOnTerminate = true;
    const provider = new Ec2AutoScalingProvider({ groups: [{ group: 'general', autoScalingGroupName: 'asg-general' }], client: client as unknown as AutoScalingClient });
    expect(await provider.terminate({ group: 'general', agentId: 'a', hostname: 'h', instanceId: 'i-0aaaaaaaaaaaaaaa1' })).toBe('gone');
    await provider.growTo('general', 4, []);
    expect(client.desired).toBe(4);
    await provider.growTo('general', 3, []);
    expect(client.desired).toBe(4);
    await expect(provider.desiredSize('gpu')).rejects.toMatchObject({ retryable: false, code: 'UnknownGroup' });
  });
});
