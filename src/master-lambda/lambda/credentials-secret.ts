import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsClientConfig } from '../../state/aws-config.js';
import type { Authenticator } from '../../http/auth.js';
import { authenticatorFromEnv, CredentialAuthenticator, loadCredentials } from '../../http/credentials.js';

// A deployed region keeps its (hashed) credentials in a Secrets Manager secret named by
// STRATUS_CREDENTIALS_SECRET_ARN; STRATUS_CREDENTIALS / _FILE still work (local, tests).

export async function authenticatorForRegion(env: NodeJS.ProcessEnv = process.env, client?: SecretsManagerClient): Promise<Authenticator> {
  const arn = env.STRATUS_CREDENTIALS_SECRET_ARN;
  if (arn) {
    const sm = client ?? new SecretsManagerClient(awsClientConfig(env));
    const out = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    if (!out.SecretString) throw new Error(`secret ${arn} has no string value`);
    return new CredentialAuthenticator(loadCredentials(out.SecretString, 'STRATUS_CREDENTIALS_SECRET_ARN'));
  }
  return authenticatorFromEnv(env, true)!;
}
