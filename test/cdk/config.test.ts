import { describe, expect, it } from 'vitest';
import { ConfigError, instanceArchitecture, parseConfig, type StratusConfigInput } from '../../cdk/lib/config.js';
import { secretArn, testConfig, ACCOUNT } from './support.js';

// The deployment config's rules: a bad config fails before any construct exists, with a
// message naming the field.

type Mutable = { -readonly [K in keyof StratusConfigInput]: StratusConfigInput[K] };

function problemsOf(mutate: (c: Mutable) => void): { field: string; message: string }[] {
  const c = structuredClone(testConfig()) as Mutable;
  mutate(c);
  try {
    parseConfig(c, 'stratus.config.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  throw new Error('the config was accepted');
}

const region = (c: Mutable, i: number) => c.regions[i]!;
const group = (c: Mutable, r: number, g: number) => region(c, r).agentGroups![g]!;

describe('config: bad input fails synth naming the field', () => {
  it('an unknown region', () => {
    expect(problemsOf((c) => (region(c, 2).name = 'eu-middle-7'))).toContainEqual({
      field: 'regions[2].name',
      message: "'eu-middle-7' is not an AWS region code (for example us-east-1, eu-west-1)",
    });
  });

  it('a peer that is not a configured region', () => {
    const problems = problemsOf((c) => (region(c, 0).peers = ['eu-west-1', 'ap-southeast-2', 'us-west-2']));
    expect(problems).toContainEqual({ field: 'regions[0].peers[2]', message: "peer 'us-west-2' is not a configured region (configured: us-east-1, eu-west-1, ap-southeast-2)" });
  });

  it('min > max', () => {
    const problems = problemsOf((c) => {
      group(c, 1, 0).minSize = 7;
      group(c, 1, 0).desiredCapacity = undefined;
    });
    expect(problems).toEqual([{ field: 'regions[1].agentGroups[0].minSize', message: 'minSize 7 is greater than maxSize 6' }]);
  });

  it('an empty zone list', () => {
    expect(problemsOf((c) => (group(c, 0, 1).zones = []))).toEqual([
      { field: 'regions[0].agentGroups[1].zones', message: "agent group 'gpu' needs at least one availability zone of us-east-1" },
    ]);
  });

  it.each<[string, (c: Mutable) => void, string, RegExp]>([
    ['a zone of another region', (c) => (group(c, 0, 0).zones = ['us-east-1a', 'us-west-2b']), 'regions[0].agentGroups[0].zones[1]', /not an availability zone of us-east-1/],
    ['a zone without a subnet in an existing VPC', (c) => (group(c, 1, 0).zones = ['eu-west-1a', 'eu-west-1c']), 'regions[1].agentGroups[0].zones[1]', /no subnet in regions\[1\]\.vpc\.subnetIds/],
    ['a region configured twice', (c) => (region(c, 1).name = 'us-east-1'), 'regions[1].name', /configured twice/],
    ['a region peering with itself', (c) => (region(c, 1).peers = ['eu-west-1']), 'regions[1].peers[0]', /its own peer/],
    ['one-sided peering', (c) => (region(c, 2).peers = []), 'regions[0].peers[1]', /does not list 'us-east-1'/],
    ['a peer in another partition', (c) => {
      region(c, 2).name = 'cn-north-1';
      region(c, 0).peers = ['eu-west-1', 'cn-north-1'];
      region(c, 2).credentialsSecretArn = 'arn:aws-cn:secretsmanager:cn-north-1:210987654321:secret:stratus/credentials-Ab12Cd';
    }, 'regions[0].peers[1]', /another AWS partition/],
    ['desired outside min..max', (c) => (group(c, 0, 0).desiredCapacity = 9), 'regions[0].agentGroups[0].desiredCapacity', /outside minSize\.\.maxSize \(1\.\.8\)/],
    ['a negative size', (c) => (group(c, 0, 0).minSize = -1), 'regions[0].agentGroups[0].minSize', /./],
    ['an instance type of the wrong architecture', (c) => (group(c, 0, 0).instanceTypes = ['m7g.large', 'm7i.large']), 'regions[0].agentGroups[0].instanceTypes[1]', /m7i\.large is x86_64 but the group's architecture is arm64/],
    ['a malformed instance type', (c) => (group(c, 0, 0).instanceTypes = ['large']), 'regions[0].agentGroups[0].instanceTypes[0]', /EC2 instance type/],
    ['no instance type', (c) => (group(c, 0, 0).instanceTypes = []), 'regions[0].agentGroups[0].instanceTypes', /at least one instance type/],
    ['a group configured twice', (c) => (group(c, 0, 1).name = 'general'), 'regions[0].agentGroups[1].name', /configured twice/],
    ['a shape bigger than the disk', (c) => (group(c, 0, 0).shape = { cpus: 2, memMb: 1024, diskMb: 40_000 }), 'regions[0].agentGroups[0].shape.diskMb', /does not fit the 30 GiB root volume/],
    ['agent groups without an agent token secret', (c) => delete region(c, 1).agentTokenSecretArn, 'regions[1].agentTokenSecretArn', /has agent groups/],
    ['agent groups without an agent principal', (c) => (c.principals = c.principals!.filter((p) => p.kind !== 'agent')), 'regions[0].principals', /no principal of kind "agent"/],
    ['a region without any principal', (c) => (c.principals = []), 'regions[0].principals', /always authenticates/],
    ['a plain-text secret instead of its hash', (c) => (c.principals = [{ name: 'marathon', kind: 'framework', secret_hash: 'hunter2' }, ...c.principals!.slice(1)]), 'principals[0].secret_hash', /scrypt/],
    ['inline principals next to a credentials secret', (c) => (region(c, 2).principals = [{ name: 'x', kind: 'operator', secret_hash: c.principals![1]!.secret_hash! }]), 'regions[2].principals', /cannot be combined with credentialsSecretArn/],
    ['a partial secret ARN', (c) => (region(c, 0).agentTokenSecretArn = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:agent`), 'regions[0].agentTokenSecretArn', /complete ARN/],
    ['a malformed account', (c) => (c.account = '1234'), 'account', /12-digit/],
    ['a leader schedule (there is none any more)', (c) => ((c as Record<string, unknown>).tickSchedule = 'rate(1 minute)'), 'tickSchedule', /never on a schedule/],
    ['a bad CIDR', (c) => (group(c, 0, 1).ingressCidrs = ['10.0.0.0/33']), 'regions[0].agentGroups[1].ingressCidrs[0]', /CIDR/],
    ['an unknown field', (c) => ((region(c, 0) as Record<string, unknown>).zones = ['us-east-1a']), 'regions[0]', /zones/],
    ['no region', (c) => (c.regions = []), 'regions', /at least one region/],
  ])('%s', (_name, mutate, field, message) => {
    const problems = problemsOf(mutate);
    expect(problems.find((p) => p.field === field), JSON.stringify(problems)).toMatchObject({ message: expect.stringMatching(message) });
  });

  it('the error lists every problem, each with its field, under the file name', () => {
    const c = structuredClone(testConfig()) as Mutable;
    region(c, 0).name = 'mars-1';
    group(c, 1, 0).zones = [];
    let error: unknown;
    try {
      parseConfig(c, 'cdk/stratus.config.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as Error).message;
    expect(text).toMatch(/^cdk\/stratus\.config\.json: invalid Stratus config\n/);
    expect(text).toContain("  regions[0].name: 'mars-1' is not an AWS region code");
    expect(text).toContain('  regions[1].agentGroups[0].zones: agent group');
  });
});

describe('config: defaults and accepted input', () => {
  it('a minimal config gets the defaults', () => {
    const c = parseConfig({
      principals: [{ name: 'fw', kind: 'framework', secret_hash: testConfig().principals![0]!.secret_hash }],
      regions: [{ name: 'eu-central-1' }],
    });
    expect(c).toMatchObject({ name: 'stratus', deletionProtection: true, tickTimeoutSeconds: 60 });
    expect(c).not.toHaveProperty('tickSchedule');
    expect(c.regions[0]).toMatchObject({ name: 'eu-central-1', peers: [], agentGroups: [], vpc: { cidr: '10.0.0.0/16' } });
  });

  it('tells Graviton instance types from x86 ones', () => {
    for (const t of ['m7g.large', 'c7gn.xlarge', 't4g.micro', 'r6gd.2xlarge', 'g5g.xlarge', 'im4gn.large']) expect(instanceArchitecture(t), t).toBe('arm64');
    for (const t of ['m7i.large', 'c5n.xlarge', 'g5.xlarge', 'g4dn.xlarge', 'p4d.24xlarge', 'm7i-flex.large', 't3.micro']) expect(instanceArchitecture(t), t).toBe('x86_64');
  });

  it('a credentials secret in another account is referenced as given', () => {
    const c = parseConfig(testConfig());
    expect(c.regions[2]!.credentialsSecretArn).toBe(secretArn('ap-southeast-2', '210987654321', 'stratus/credentials'));
  });
});
