// One place that turns the environment into AWS SDK v3 client settings, so every adapter
// can be pointed at moto or LocalStack with AWS_ENDPOINT_URL.

export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export const LOCAL_ENDPOINT = 'http://127.0.0.1:4566';

export function awsClientConfig(env: NodeJS.ProcessEnv = process.env): AwsClientConfig {
  const region = env.STRATUS_REGION ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const endpoint = env.AWS_ENDPOINT_URL;
  const cfg: AwsClientConfig = { region };
  if (endpoint) {
    cfg.endpoint = endpoint;
    // moto and LocalStack accept any key; a real AWS endpoint uses the default provider chain.
    if (!env.AWS_ACCESS_KEY_ID) cfg.credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  }
  return cfg;
}
