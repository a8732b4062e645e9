import { readFileSync } from 'node:fs';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { z } from 'zod';
import { credentialsSchema } from '../../src/http/credentials.js';

// The deployment config (cdk/stratus.config.json by default): the regions, their peers,
// their agent groups and the principals allowed to call each region. Every rule lives
// here, so a bad config fails synth with a message naming the field, before any construct
// is built.

/** Real AWS region codes, from aws-cdk-lib's region table. */
export const KNOWN_REGIONS: ReadonlyMap<string, string> = new Map(RegionInfo.regions.map((r) => [r.name, r.partition ?? 'aws']));

const ACCOUNT = /^\d{12}$/;
const NAME = /^[a-z][a-z0-9-]{0,19}$/;
const GROUP_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** A principal, exactly as the master's credentials file holds it (hashes only, never a secret). */
const principalSchema = credentialsSchema.shape.principals.element;
export type PrincipalConfig = z.output<typeof principalSchema>;

const cidr = z.string().refine((s) => {
  const m = CIDR.exec(s);
  return !!m && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
}, 'must be an IPv4 CIDR block such as 10.0.0.0/16');

const agentGroupSchema = z.strictObject({
  name: z.string().regex(GROUP_NAME, 'must be lower-case letters, digits and dashes, starting with a letter (at most 32)'),
  instanceTypes: z.array(z.string().regex(INSTANCE_TYPE, 'must be an EC2 instance type such as m7g.large')).min(1, 'needs at least one instance type'),
  /** CPU architecture of the instance types (and of the AMI). */
  architecture: z.enum(['x86_64', 'arm64']).default('x86_64'),
  minSize: z.number().int().min(0),
  maxSize: z.number().int().min(1),
  /** Optional: set it and every deploy resets the group to it (the autoscaler owns the size between deploys). */
  desiredCapacity: z.number().int().min(0).optional(),
  zones: z.array(z.string()),
  /** The resources one new host brings (the autoscaler sizes scale-ups with it). */
  shape: z.strictObject({
    cpus: z.number().positive(),
    memMb: z.number().int().positive(),
    diskMb: z.number().int().positive(),
  }),
  rootVolumeGiB: z.number().int().min(8).max(16384).default(30),
  /** CIDR blocks allowed to reach the hosts' task ports (31000-32000) and agent endpoint (5051); none by default. */
  ingressCidrs: z.array(cidr).default([]),
});
export type AgentGroupConfig = z.output<typeof agentGroupSchema>;

const vpcSchema = z.union([
  z.strictObject({ cidr: cidr.default('10.0.0.0/16') }),
  z.strictObject({
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id such as vpc-0123abcd'),
    /** One public subnet (with a route to an internet gateway) per zone the groups use. */
    subnetIds: z.record(z.string(), z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id such as subnet-0123abcd')),
  }),
]);
export type VpcConfig = z.output<typeof vpcSchema>;

const regionSchema = z.strictObject({
  name: z.string(),
  /** The account this region deploys to; defaults to the top-level account, else the deploying credentials' account. */
  account: z.string().regex(ACCOUNT, 'must be a 12-digit AWS account id').optional(),
  peers: z.array(z.string()).default([]),
  /** Principals of this region only, added to the top-level ones. */
  principals: z.array(principalSchema).default([]),
  /**
   * Instead of inline principals: the complete ARN of an existing Secrets Manager secret
   * whose SecretString is the credentials document ({"principals": [...]}).
   */
  credentialsSecretArn: z.string().regex(SECRET_ARN, 'must be the complete ARN of a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX)').optional(),
  /** Complete ARN of a Secrets Manager secret holding the agent token (plain text); the hosts read it at boot. */
  agentTokenSecretArn: z.string().regex(SECRET_ARN, 'must be the complete ARN of a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX)').optional(),
  vpc: vpcSchema.default({ cidr: '10.0.0.0/16' }),
  agentGroups: z.array(agentGroupSchema).default([]),
});
export type RegionConfig = z.output<typeof regionSchema>;

const configSchema = z
  .strictObject({
    /** Prefix of stack, queue and role names. */
    name: z.string().regex(NAME, 'must be lower-case letters, digits and dashes, starting with a letter (at most 20)').default('stratus'),
    /** The account every region deploys to unless a region says otherwise; absent: the deploying credentials' account. */
    account: z.string().regex(ACCOUNT, 'must be a 12-digit AWS account id').optional(),
    /** DynamoDB deletion protection (and RETAIN on stack deletion) for every region's table. */
    deletionProtection: z.boolean().default(true),
    /** Gone: the leader runs on the table's changes and its timers, not on a schedule. Named so an old config gets a clear error. */
    tickSchedule: z.never({ error: 'is gone: the leader runs when the table changes and on its own timers, never on a schedule; remove it' }).optional(),
    /** The timeout of one leader invocation (seconds): one pass, normally well under a second. */
    tickTimeoutSeconds: z.number().int().min(10).max(900).default(60),
    /** Principals of every region (frameworks, operators, agents), hashed. */
    principals: z.array(principalSchema).default([]),
    regions: z.array(regionSchema).min(1, 'needs at least one region'),
  })
  .superRefine((c, ctx) => {
    const issue = (path: (string | number)[], message: string): void => ctx.addIssue({ code: 'custom', path, message });
    const names = c.regions.map((r) => r.name);
    c.regions.forEach((r, i) => {
      const at = ['regions', i];
      const partition = KNOWN_REGIONS.get(r.name);
      if (partition === undefined) {
        issue([...at, 'name'], `'${r.name}' is not an AWS region code (for example us-east-1, eu-west-1)`);
      }
      if (names.indexOf(r.name) !== i) issue([...at, 'name'], `region '${r.name}' is configured twice`);

      r.peers.forEach((p, j) => {
        const peerAt = [...at, 'peers', j];
        const peer = c.regions.find((x) => x.name === p);
        if (p === r.name) issue(peerAt, `a region cannot be its own peer ('${p}')`);
        else if (!peer) issue(peerAt, `peer '${p}' is not a configured region (configured: ${names.join(', ')})`);
        else if (KNOWN_REGIONS.get(p) !== partition) issue(peerAt, `peer '${p}' is in another AWS partition than '${r.name}'`);
        else if (!peer.peers.includes(r.name)) issue(peerAt, `peer '${p}' does not list '${r.name}' among its peers: peering must be symmetric`);
        if (r.peers.indexOf(p) !== j) issue(peerAt, `peer '${p}' is listed twice`);
      });

      if (r.credentialsSecretArn !== undefined && r.principals.length > 0) {
        issue([...at, 'principals'], 'cannot be combined with credentialsSecretArn: the referenced secret holds all of the region\'s principals');
      }
      const principals = r.credentialsSecretArn === undefined ? [...c.principals, ...r.principals] : undefined;
      if (principals !== undefined) {
        if (principals.length === 0) {
          issue([...at, 'principals'], 'a deployed region always authenticates: give principals (here or at the top level) or credentialsSecretArn');
        }
        const seen = new Set<string>();
        for (const p of principals) {
          const key = `${p.kind}:${p.name}`;
          if (seen.has(key)) issue([...at, 'principals'], `principal '${p.name}' (${p.kind}) is configured twice for region '${r.name}'`);
          seen.add(key);
        }
        if (r.agentGroups.length > 0 && !principals.some((p) => p.kind === 'agent')) {
          issue([...at, 'principals'], `region '${r.name}' has agent groups but no principal of kind "agent" (with the token_hash of the agent token)`);
        }
      }
      if (r.agentGroups.length > 0 && r.agentTokenSecretArn === undefined) {
        issue([...at, 'agentTokenSecretArn'], `region '${r.name}' has agent groups: give the Secrets Manager secret holding the agent token`);
      }

      const groupNames = r.agentGroups.map((g) => g.name);
      r.agentGroups.forEach((g, k) => {
        const gAt = [...at, 'agentGroups', k];
        if (groupNames.indexOf(g.name) !== k) issue([...gAt, 'name'], `agent group '${g.name}' is configured twice in region '${r.name}'`);
        if (g.minSize > g.maxSize) issue([...gAt, 'minSize'], `minSize ${g.minSize} is greater than maxSize ${g.maxSize}`);
        if (g.desiredCapacity !== undefined && (g.desiredCapacity < g.minSize || g.desiredCapacity > g.maxSize)) {
          issue([...gAt, 'desiredCapacity'], `desiredCapacity ${g.desiredCapacity} is outside minSize..maxSize (${g.minSize}..${g.maxSize})`);
        }
        if (g.zones.length === 0) issue([...gAt, 'zones'], `agent group '${g.name}' needs at least one availability zone of ${r.name}`);
        g.zones.forEach((z, m) => {
          if (!(z.length === r.name.length + 1 && z.startsWith(r.name) && /[a-z]$/.test(z))) issue([...gAt, 'zones', m], `'${z}' is not an availability zone of ${r.name} (such as ${r.name}a)`);
          else if (g.zones.indexOf(z) !== m) issue([...gAt, 'zones', m], `zone '${z}' is listed twice`);
          else if ('subnetIds' in r.vpc && r.vpc.subnetIds[z] === undefined) {
            issue([...gAt, 'zones', m], `zone '${z}' has no subnet in regions[${i}].vpc.subnetIds`);
          }
        });
        g.instanceTypes.forEach((t, m) => {
          if (INSTANCE_TYPE.test(t) && instanceArchitecture(t) !== g.architecture) {
            issue([...gAt, 'instanceTypes', m], `${t} is ${instanceArchitecture(t)} but the group's architecture is ${g.architecture}`);
          }
          if (g.instanceTypes.indexOf(t) !== m) issue([...gAt, 'instanceTypes', m], `${t} is listed twice`);
        });
        if (g.shape.diskMb > g.rootVolumeGiB * 1024) {
          issue([...gAt, 'shape', 'diskMb'], `${g.shape.diskMb} MB does not fit the ${g.rootVolumeGiB} GiB root volume`);
        }
      });
    });
  });

export type StratusConfig = z.output<typeof configSchema>;
export type StratusConfigInput = z.input<typeof configSchema>;

/** Graviton instance types carry a `g` among the attribute letters after the generation digit (m7g, c7gn, t4g, g5g). */
export function instanceArchitecture(instanceType: string): 'arm64' | 'x86_64' {
  const family = instanceType.split('.')[0] ?? '';
  return /^[a-z]+\d+[a-z-]*g/.test(family) ? 'arm64' : 'x86_64';
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly { readonly field: string; readonly message: string }[],
  ) {
    super(`${source}: invalid Stratus config\n${problems.map((p) => `  ${p.field}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** `regions[0].agentGroups[1].zones` */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(root)';
}

/** Validates a parsed config; throws ConfigError naming each bad field. */
export function parseConfig(raw: unknown, source = 'config'): StratusConfig {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(
    source,
    result.error.issues.map((i) => ({ field: fieldPath(i.path), message: i.message })),
  );
}

export function loadConfig(file: string): StratusConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [{ field: '(file)', message: `cannot read: ${(e as Error).message}` }]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, [{ field: '(file)', message: `malformed JSON: ${(e as Error).message}` }]);
  }
  return parseConfig(raw, file);
}

/** The principals a region's credentials secret holds, or undefined when it references an existing secret. */
export function regionPrincipals(config: StratusConfig, region: RegionConfig): PrincipalConfig[] | undefined {
  return region.credentialsSecretArn === undefined ? [...config.principals, ...region.principals] : undefined;
}

/** The account a region deploys to, when the config fixes one. */
export function regionAccount(config: StratusConfig, region: string): string | undefined {
  return config.regions.find((r) => r.name === region)?.account ?? config.account;
}
