import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { localBundle } from './local-bundle.js';
import { CLI_ENTRY } from './paths.js';

// The `stratus` command as one ESM file, bundled locally and uploaded as a file asset to the
// bootstrap bucket; agent hosts download it at boot and run `stratus agent`. Native add-ons
// of optional dependencies (ssh2's crypto, cpu-features) stay out: their JS falls back.

export const AGENT_BUNDLE_FILE = 'stratus.mjs';

export interface AgentBundleProps {
  readonly entry?: string;
}

export class AgentBundle extends Construct {
  readonly asset: s3assets.Asset;

  constructor(scope: Construct, id: string, props: AgentBundleProps = {}) {
    super(scope, id);
    this.asset = new s3assets.Asset(this, 'Asset', localBundle({ entry: props.entry ?? CLI_ENTRY, outFile: AGENT_BUNDLE_FILE, external: ['cpu-features', '*.node'] }));
  }
}
