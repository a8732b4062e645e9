import { Aws } from 'aws-cdk-lib';
import { deadLetterQueueName, inboxQueueName as federationInboxName } from '../../src/federation/gossip/sqs-queues.js';
import { regionAccount, type StratusConfig } from './config.js';

// Names that other regions' stacks must be able to construct without a cross-stack (and
// cross-region) reference: the gossip inbox of every region and the role that sends gossip.

export function stackName(config: StratusConfig, region: string): string {
  return `${config.name}-${region}`;
}

/** The gossip queues' name prefix: federation's SQS adapter names (and looks up) `<prefix>-<region>`. */
export function gossipQueuePrefix(config: StratusConfig): string {
  return `${config.name}-gossip`;
}

export function inboxQueueName(config: StratusConfig, region: string): string {
  return federationInboxName(region, gossipQueuePrefix(config));
}

export function inboxDeadLetterQueueName(config: StratusConfig, region: string): string {
  return deadLetterQueueName(region, gossipQueuePrefix(config));
}

/** IAM role names are global to an account: the region is part of the name. */
export function tickRoleName(config: StratusConfig, region: string): string {
  return `${config.name}-${region}-tick`;
}

/** The account of a region as seen from a stack: the configured one, else the stack's own account. */
function accountOf(config: StratusConfig, region: string): string {
  return regionAccount(config, region) ?? Aws.ACCOUNT_ID;
}

export interface PeerEndpoint {
  readonly region: string;
  readonly account: string;
  readonly inboxArn: string;
  readonly inboxUrl: string;
  /** The role whose identity sends gossip from that region (its tick). */
  readonly senderRoleArn: string;
}

/** Peers share the stack's partition (the config checks it), so the stack's partition and URL suffix apply. */
export function peerEndpoint(config: StratusConfig, region: string): PeerEndpoint {
  const account = accountOf(config, region);
  const queue = inboxQueueName(config, region);
  return {
    region,
    account,
    inboxArn: `arn:${Aws.PARTITION}:sqs:${region}:${account}:${queue}`,
    inboxUrl: `https://sqs.${region}.${Aws.URL_SUFFIX}/${account}/${queue}`,
    senderRoleArn: `arn:${Aws.PARTITION}:iam::${account}:role/${tickRoleName(config, region)}`,
  };
}
