import { RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { PrincipalConfig } from './config.js';

// The region's credentials document ({"principals": [...]}, the master's credentials format,
// hashes only) in a Secrets Manager secret. The API function finds it through
// STRATUS_CREDENTIALS_SECRET_ARN. Either the stack writes the secret from the config's
// (hashed) principals, or the config references a secret the operator maintains.

export const CREDENTIALS_SECRET_ENV = 'STRATUS_CREDENTIALS_SECRET_ARN';

export type RegionCredentialsProps =
  | { readonly principals: readonly PrincipalConfig[] }
  | { readonly secretArn: string };

export class RegionCredentials extends Construct {
  readonly secret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: RegionCredentialsProps) {
    super(scope, id);
    if ('secretArn' in props) {
      this.secret = secretsmanager.Secret.fromSecretCompleteArn(this, 'Secret', props.secretArn);
    } else {
      this.secret = new secretsmanager.Secret(this, 'Secret', {
        description: 'Stratus principals of this region (hashed secrets and tokens only)',
        // Only hashes (scrypt / sha256) reach the template; the config schema refuses anything else.
        secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ principals: props.principals })),
        // CloudFormation names it: a fixed name would clash with a deleted secret still in its recovery window.
        removalPolicy: RemovalPolicy.DESTROY,
      });
    }
  }
}
