// Who this host is on EC2, from the instance metadata service (IMDSv2: a session token first,
// then the values). Off EC2 nothing answers at 169.254.169.254, so every request is bounded
// by a short timeout and any failure means "not on EC2".

export const DEFAULT_METADATA_ENDPOINT = 'http://169.254.169.254';

export interface Ec2Identity {
  readonly zone: string;
  readonly instanceId?: string;
  readonly instanceType?: string;
  readonly localIpv4?: string;
}

export interface MetadataOptions {
  readonly endpoint?: string;
  /** Bound on the whole lookup. Default 1 s. */
  readonly timeoutMs?: number;
}

/** The instance's identity, or undefined when no metadata service answers (not on EC2). */
export async function readEc2Identity(options: MetadataOptions = {}): Promise<Ec2Identity | undefined> {
  const base = (options.endpoint ?? DEFAULT_METADATA_ENDPOINT).replace(/\/$/, '');
  const signal = AbortSignal.timeout(options.timeoutMs ?? 1_000);
  try {
    const tokenRes = await fetch(`${base}/latest/api/token`, { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' }, signal });
    if (!tokenRes.ok) return undefined;
    const token = (await tokenRes.text()).trim();
    const get = async (path: string): Promise<string | undefined> => {
      const res = await fetch(`${base}/latest/meta-data/${path}`, { headers: { 'X-aws-ec2-metadata-token': token }, signal });
      if (!res.ok) return undefined;
      const text = (await res.text()).trim();
      return text === '' ? undefined : text;
    };
    const [zone, instanceId, instanceType, localIpv4] = await Promise.all([
      get('placement/availability-zone'),
      get('instance-id'),
      get('instance-type'),
      get('local-ipv4'),
    ]);
    if (zone === undefined) return undefined;
    return {
      zone,
      ...(instanceId !== undefined && { instanceId }),
      ...(instanceType !== undefined && { instanceType }),
      ...(localIpv4 !== undefined && { localIpv4 }),
    };
  } catch {
    return undefined;
  }
}
