import { App } from 'aws-cdk-lib';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../lib/config.js';
import { REPO_ROOT } from '../lib/paths.js';
import { addRegionStacks } from '../lib/stratus-app.js';

// `npx cdk synth|deploy` runs this (cdk.json: "npx tsx cdk/bin/stratus.ts").
//   -c config=PATH               the config file (default cdk/stratus.config.json)
//   -c gossipReceiverEntry=PATH  another gossip receiver entry (development)

const app = new App();
const configArg = app.node.tryGetContext('config') as string | undefined;
const configPath = configArg ? (isAbsolute(configArg) ? configArg : resolve(process.cwd(), configArg)) : resolve(REPO_ROOT, 'cdk/stratus.config.json');
const receiverArg = app.node.tryGetContext('gossipReceiverEntry') as string | undefined;

try {
  const config = loadConfig(configPath);
  addRegionStacks(app, config, receiverArg ? { gossipReceiverEntry: resolve(process.cwd(), receiverArg) } : {});
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
app.synth();
