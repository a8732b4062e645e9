import type { App } from 'aws-cdk-lib';
import type { StratusConfig } from './config.js';
import { stackName } from './naming.js';
import { RegionStack } from './region-stack.js';

// The app's content: one RegionStack per configured region, in config order.

export interface StratusAppOptions {
  readonly gossipReceiverEntry?: string;
  readonly agentEntry?: string;
}

export function addRegionStacks(app: App, config: StratusConfig, options: StratusAppOptions = {}): RegionStack[] {
  return config.regions.map(
    (region) =>
      new RegionStack(app, stackName(config, region.name), {
        config,
        region,
        ...(options.gossipReceiverEntry ? { gossipReceiverEntry: options.gossipReceiverEntry } : {}),
        ...(options.agentEntry ? { agentEntry: options.agentEntry } : {}),
      }),
  );
}
