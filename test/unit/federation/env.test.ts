import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { attachFederationFromEnv, federationSettingsFromEnv } from '../../../src/federation/env.js';
import { Master } from '../../../src/master-lambda/master.js';

describe('federation settings from the environment', () => {
  it('reads region, peers, queue URLs, prefix and interval', () => {
    expect(
      federationSettingsFromEnv({
        STRATUS_REGION: 'eu-west-1',
        STRATUS_PEERS: 'us-east-1, eu-west-1,ap-south-1',
        STRATUS_GOSSIP_QUEUES: JSON.stringify({ 'us-east-1': 'https://sqs.us-east-1.amazonaws.com/1/q' }),
        STRATUS_GOSSIP_QUEUE_PREFIX: 'gossip',
        STRATUS_GOSSIP_INTERVAL_MS: '2000',
      }),
    ).toEqual({
      region: 'eu-west-1',
      peers: ['us-east-1', 'ap-south-1'],
      queueUrls: { 'us-east-1': 'https://sqs.us-east-1.amazonaws.com/1/q' },
      queuePrefix: 'gossip',
      config: { intervalMs: 2000 },
    });
  });

  it.each([
    [{}, /STRATUS_REGION/],
    [{ STRATUS_REGION: 'a', STRATUS_PEERS: 'b,c/d' }, /STRATUS_PEERS/],
    [{ STRATUS_REGION: 'a', STRATUS_GOSSIP_QUEUES: '{' }, /STRATUS_GOSSIP_QUEUES/],
    [{ STRATUS_REGION: 'a', STRATUS_GOSSIP_INTERVAL_MS: '5' }, /STRATUS_GOSSIP_INTERVAL_MS/],
  ])('names the variable at fault: %j', (env, message) => {
    expect(() => federationSettingsFromEnv(env)).toThrow(message);
  });

  it('attaches an SQS federation to a master, or none when the region has no peers configured', () => {
    const master = new Master({ log: silentLogger });
    const fed = attachFederationFromEnv(master, { run: 'routes' }, { STRATUS_REGION: 'a', STRATUS_PEERS: 'b', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' });
    expect([fed?.gossip.region, fed?.gossip.peerNames]).toEqual(['a', ['b']]);
    expect(fed?.gossip.isRunning).toBe(false); // routes only: the tick sends, the receiver Lambda receives
    expect(attachFederationFromEnv(new Master({ log: silentLogger }), { run: 'routes' }, { STRATUS_REGION: 'a' })).toBeUndefined();
  });
});
