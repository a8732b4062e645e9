import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ForbiddenError, UnauthenticatedError, ValidationError } from '../core/errors.js';
import { parse } from '../wire/validate.js';
import type { AgentCaller, Authenticator, FrameworkCaller } from './auth.js';
import type { HttpRequest } from './types.js';

// Credentials per region: principals of three kinds. Frameworks authenticate with HTTP Basic
// principal:secret (as Mesos's default HTTP authenticator, so Mesos clients work unchanged)
// or a bearer token; agents with an agent token; operators with either. Only hashes are
// stored: scrypt for secrets, sha256 for (high-entropy, generated) tokens.

const principalSchema = z
  .object({
    name: z.string().min(1).max(255).regex(/^[^:]+$/, 'a principal name cannot contain ":"'),
    kind: z.enum(['framework', 'agent', 'operator']),
    secret_hash: z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'must be scrypt$N$r$p$salt$hash').optional(),
    token_hash: z.string().regex(/^sha256\$[0-9a-f]{64}$/, 'must be sha256$<hex>').optional(),
    /** Framework principals: roles they may subscribe to ('*' in the list allows any). */
    roles: z.array(z.string()).optional(),
    /** Agent principals: the agent ids the token may act for (any when absent). */
    agent_ids: z.array(z.string()).optional(),
  })
  .refine((p) => p.secret_hash !== undefined || p.token_hash !== undefined, 'needs secret_hash or token_hash');

export const credentialsSchema = z.object({ principals: z.array(principalSchema).min(1) });
export type CredentialsConfig = z.output<typeof credentialsSchema>;
type Principal = CredentialsConfig['principals'][number];

const SCRYPT = { N: 16384, r: 8, p: 1 };

export function hashSecret(secret: string, salt = randomBytes(16)): string {
  const hash = scryptSync(secret, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function hashToken(token: string): string {
  return `sha256$${createHash('sha256').update(token).digest('hex')}`;
}

function verifySecret(secret: string, stored: string): boolean {
  const [, n, r, p, salt, hash] = stored.split('$');
  const expected = Buffer.from(hash!, 'base64');
  const got = scryptSync(secret, Buffer.from(salt!, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(got, expected);
}

type Presented = { scheme: 'basic'; name: string; secret: string } | { scheme: 'bearer'; token: string };

function presented(req: HttpRequest): Presented | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const [scheme, value = ''] = h.split(/\s+/, 2);
  if (/^basic$/i.test(scheme ?? '')) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) throw new UnauthenticatedError('malformed Basic credentials');
    return { scheme: 'basic', name: decoded.slice(0, i), secret: decoded.slice(i + 1) };
  }
  if (/^bearer$/i.test(scheme ?? '')) return { scheme: 'bearer', token: value };
  throw new UnauthenticatedError(`unsupported authorization scheme '${scheme}'`);
}

/** Checks credentials against the configured principals. Successful scrypt checks are cached briefly. */
export class CredentialAuthenticator implements Authenticator {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly config: CredentialsConfig) {}

  private identify(req: HttpRequest, kind: Principal['kind']): Principal {
    const cred = presented(req);
    if (!cred) throw new UnauthenticatedError(`${kind} credentials required (HTTP Basic or Bearer)`);
    const key = createHash('sha256').update(`${kind}\u0000${req.headers.authorization}`).digest('hex');
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.principal;
    let found: Principal | undefined;
    if (cred.scheme === 'bearer') {
      const h = hashToken(cred.token);
      // Comparing hashes: a caller cannot steer a sha256 prefix, so plain equality leaks nothing.
      found = this.config.principals.find((p) => p.kind === kind && p.token_hash === h);
    } else {
      const p = this.config.principals.find((x) => x.kind === kind && x.name === cred.name && x.secret_hash !== undefined);
      if (p && verifySecret(cred.secret, p.secret_hash!)) found = p;
    }
    // The same answer for an unknown principal and a wrong secret: nothing to learn from it.
    if (!found) throw new UnauthenticatedError(`invalid ${kind} credentials`);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { principal: found, until: Date.now() + 300_000 });
    return found;
  }

  async framework(req: HttpRequest): Promise<FrameworkCaller> {
    const p = this.identify(req, 'framework');
    return { principal: p.name, ...(p.roles && !p.roles.includes('*') ? { roles: p.roles } : {}) };
  }

  async agent(req: HttpRequest, agentId?: string): Promise<AgentCaller> {
    const p = this.identify(req, 'agent');
    if (agentId !== undefined && p.agent_ids && !p.agent_ids.includes(agentId)) {
      throw new ForbiddenError(`this agent credential may not act for agent ${agentId}`, 'agent_id');
    }
    return p.agent_ids ? { agentIds: p.agent_ids } : {};
  }

  async operator(req: HttpRequest): Promise<void> {
    this.identify(req, 'operator');
  }
}

export function loadCredentials(text: string, source: string): CredentialsConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(`${source}: malformed JSON: ${(e as Error).message}`, source);
  }
  return parse(credentialsSchema, json, source);
}

/**
 * The authenticator the environment configures: STRATUS_CREDENTIALS (JSON) or
 * STRATUS_CREDENTIALS_FILE. `required` (a deployed region) refuses to start without them.
 */
export function authenticatorFromEnv(env: NodeJS.ProcessEnv = process.env, required = false): Authenticator | undefined {
  const inline = env.STRATUS_CREDENTIALS;
  const file = env.STRATUS_CREDENTIALS_FILE;
  if (inline) return new CredentialAuthenticator(loadCredentials(inline, 'STRATUS_CREDENTIALS'));
  if (file) return new CredentialAuthenticator(loadCredentials(readFileSync(file, 'utf8'), 'STRATUS_CREDENTIALS_FILE'));
  if (required) throw new Error('a deployed region always authenticates: set STRATUS_CREDENTIALS or STRATUS_CREDENTIALS_FILE');
  return undefined;
}

export interface DevCredentials {
  readonly config: CredentialsConfig;
  /** For the user's frameworks (printed). */
  readonly framework: { principal: string; secret: string };
  /** The built-in jobs framework's own principal: no other framework can act as it. */
  readonly jobs: { principal: string; secret: string };
  readonly operator: { principal: string; secret: string };
  readonly agentToken: string;
}

/** Fresh credentials for `stratus dev --authenticate`: the secrets to print and the hashed config. */
export function generateDevCredentials(): DevCredentials {
  const secret = (): string => randomBytes(18).toString('base64url');
  const fwSecret = secret();
  const jobsSecret = secret();
  const opSecret = secret();
  const agentToken = randomBytes(24).toString('base64url');
  return {
    config: {
      principals: [
        { name: 'dev-framework', kind: 'framework', secret_hash: hashSecret(fwSecret) },
        { name: 'dev-jobs', kind: 'framework', secret_hash: hashSecret(jobsSecret) },
        { name: 'dev-operator', kind: 'operator', secret_hash: hashSecret(opSecret) },
        { name: 'dev-agent', kind: 'agent', token_hash: hashToken(agentToken) },
      ],
    },
    framework: { principal: 'dev-framework', secret: fwSecret },
    jobs: { principal: 'dev-jobs', secret: jobsSecret },
    operator: { principal: 'dev-operator', secret: opSecret },
    agentToken,
  };
}
