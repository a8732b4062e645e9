import { AutoScalingClient, CreateAutoScalingGroupCommand, DeleteAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand, type Instance } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DeleteLaunchTemplateCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AutoscalerController } from '../../../src/autoscaler/controller.js';
import { Ec2AutoScalingProvider } from '../../../src/autoscaler/ec2-provider.js';
import { ScalingProviderError } from '../../../src/autoscaler/provider.js';
import type { PendingTask } from '../../../src/jobs/views.js';
import { awsClientConfig } from '../../../src/state/aws-config.js';
import { SimWorld } from '../../support/autoscaler-world.js';
import { describeWith } from '../../support/components.js';

// The EC2 Auto Scaling provider against moto: an ASG created with desired capacity 1 grows to
// the size the controller computes, and shrinks by terminating exactly the instances it chose
// (ShouldDecrementDesiredCapacity: the ASG launches no replacement).

const suffix = `${process.pid}-${Date.now()}`;
const ASG = `stratus-as-test-${suffix}`;
const OTHER = `stratus-as-other-${suffix}`;
const LT = `stratus-as-lt-${suffix}`;

await describeWith(['aws'], 'EC2 Auto Scaling provider (moto)', () => {
  const cfg = awsClientConfig();
  const asg = new AutoScalingClient(cfg);
  const ec2 = new EC2Client(cfg);
  const created: string[] = [];
  let ltCreated = false;

  const group = async (name = ASG) => (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups![0]!;
  const live = (instances: Instance[] | undefined): Instance[] => (instances ?? []).filter((i) => !/^Terminat/.test(i.LifecycleState ?? ''));

  beforeAll(async () => {
    await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: LT, LaunchTemplateData: { ImageId: 'ami-12c6146b', InstanceType: 't3.micro' } }));
    ltCreated = true;
    for (const [name, desired] of [[ASG, 1], [OTHER, 1]] as const) {
      await asg.send(new CreateAutoScalingGroupCommand({ AutoScalingGroupName: name, LaunchTemplate: { LaunchTemplateName: LT }, MinSize: 0, MaxSize: 8, DesiredCapacity: desired, AvailabilityZones: ['us-east-1a', 'us-east-1b'] }));
      created.push(name);
    }
  }, 60_000);

  afterAll(async () => {
    for (const name of created) await asg.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true })).catch(() => undefined);
    if (ltCreated) await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateName: LT })).catch(() => undefined);
    asg.destroy();
    ec2.destroy();
  }, 60_000);

  it('grows a group created with desired 1 to the computed size, then terminates the chosen instances', async () => {
    const provider = new Ec2AutoScalingProvider({ groups: [{ group: 'general', autoScalingGroupName: ASG }] });
    const world = new SimWorld();
    let pending: PendingTask[] = [];
    const autoscaler = new AutoscalerController({ provider, pendingTasks: () => pending, log: world.log, decide: { settleMs: 0 }, idleMemoryMs: 600_000 });
    const epoch = await world.lead();
    await autoscaler.setRules(world.registry, { groups: [{ group: 'general', minSize: 1, maxSize: 6, maxIdle: 1, scaleUpCooldownSeconds: 30, scaleDownCooldownSeconds: 60, shape: { cpus: 4, mem: 8192 } }] });

    // The one instance moto launched becomes a busy agent.
    const [first] = live((await group()).Instances);
    expect(first).toBeDefined();
    const agents = new Map<string, string>(); // instance id -> agent id
    const register = async (i: Instance, busy: boolean): Promise<void> => {
      const a = await world.addAgent({ instanceId: i.InstanceId!, zone: i.AvailabilityZone!, busy });
      agents.set(i.InstanceId!, a.id);
    };
    await register(first!, true);

    // 6 tasks of 1.5 cpus: 2 per 4-cpu host, so 3 more hosts: desired 1 → 4.
    world.advance(5_000);
    pending = Array.from({ length: 6 }, (_, i) => ({ job: 'batch', instance: i, resources: { cpus: 1.5, mem: 1024, disk: 0, ports: 0 }, zoneSpread: 'off' as const, constraints: [], reasons: [], message: 'short', kind: 'resource' as const, at: world.now - 100 }));
    const up = await autoscaler.runOnce(world.master.ctx, epoch);
    expect(up.result?.decisions[0]).toMatchObject({ kind: 'scale-up', count: 3 });
    const grown = await group();
    expect(grown.DesiredCapacity).toBe(4);
    expect(live(grown.Instances)).toHaveLength(4);

    // The new instances' agents register; the tasks run and end: all four hosts idle.
    for (const i of live(grown.Instances)) if (!agents.has(i.InstanceId!)) await register(i, false);
    pending = [];
    world.advance(1_000);
    await autoscaler.runOnce(world.master.ctx, epoch); // closes the scale-up
    await world.setBusy(agents.get(first!.InstanceId!)!, false);
    await autoscaler.runOnce(world.master.ctx, epoch); // idle since now
    world.advance(61_000);
    const down = await autoscaler.runOnce(world.master.ctx, epoch);
    const decision = down.result?.decisions[0];
    expect(decision).toMatchObject({ kind: 'scale-down', cause: 'max-idle' });
    const chosen = decision!.kind === 'scale-down' ? decision!.hosts.map((h) => h.instanceId!) : [];
    expect(chosen).toHaveLength(3); // 4 idle, maxIdle 1
    for (const id of chosen) await world.markDrained(agents.get(id)!);
    world.advance(1_000);
    await autoscaler.runOnce(world.master.ctx, epoch);

    const shrunk = await group();
    // ShouldDecrementDesiredCapacity: 4 - 3, and no replacement launched.
    expect(shrunk.DesiredCapacity).toBe(1);
    const remaining = live(shrunk.Instances).map((i) => i.InstanceId!);
    expect(remaining).toHaveLength(1);
    for (const id of chosen) expect(remaining).not.toContain(id);
    const states = await ec2.send(new DescribeInstancesCommand({ InstanceIds: chosen }));
    for (const r of states.Reservations ?? []) for (const i of r.Instances ?? []) expect(['shutting-down', 'terminated']).toContain(i.State?.Name);
    for (const id of chosen) expect((await world.registry.getAgent(agents.get(id)!))?.reachability).toBe('GONE');
    const steps = (await autoscaler.activity(world.registry, 100)).reverse().map((a) => `${a.action}:${a.outcome}`);
    expect(steps.filter((s) => s.startsWith('terminate'))).toEqual(['terminate:succeeded', 'terminate:succeeded', 'terminate:succeeded']);
  }, 120_000);

  it('answers "gone" for an instance already terminated, and refuses an instance of another group', async () => {
    const provider = new Ec2AutoScalingProvider({ groups: { general: ASG } });
    const [mine] = live((await group()).Instances);
    const [theirs] = live((await group(OTHER)).Instances);
    expect(await provider.terminate({ group: 'general', agentId: 'a1', hostname: 'h1', instanceId: mine!.InstanceId! })).toBe('terminated');
    expect(await provider.terminate({ group: 'general', agentId: 'a1', hostname: 'h1', instanceId: mine!.InstanceId! })).toBe('gone');
    expect(await provider.terminate({ group: 'general', agentId: 'a2', hostname: 'h2', instanceId: 'i-0123456789abcdef0' })).toBe('gone');
    const wrong = await provider.terminate({ group: 'general', agentId: 'a3', hostname: 'h3', instanceId: theirs!.InstanceId! }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ScalingProviderError);
    expect(wrong).toMatchObject({ retryable: false, code: 'WrongGroup' });
    expect(live((await group(OTHER)).Instances)).toHaveLength(1);
    const noId = await provider.terminate({ group: 'general', agentId: 'a4', hostname: 'h4' }).catch((e: unknown) => e);
    expect(noId).toMatchObject({ retryable: false, code: 'NoInstanceId' });
    expect(await provider.desiredSize('general')).toBe(0);
    await provider.growTo('general', 0, []); // at or below the size: nothing asked
    expect(await provider.desiredSize('general')).toBe(0);
  }, 60_000);
});
