import { describe, expect, it } from 'vitest';
import { CredentialAuthenticator, generateDevCredentials, hashSecret, hashToken, loadCredentials } from '../../../src/http/credentials.js';
import type { HttpRequest } from '../../../src/http/types.js';
import { ForbiddenError, UnauthenticatedError } from '../../../src/core/errors.js';

const req = (authorization?: string): HttpRequest => ({ method: 'POST', path: '/', query: new URLSearchParams(), headers: authorization ? { authorization } : {}, body: '' });
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('credentials', () => {
  it('stores only hashes and verifies secrets and tokens', async () => {
    const h = hashSecret('s3cret');
    expect(h).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(h).not.toContain('s3cret');
    expect(hashToken('tok')).toMatch(/^sha256\$[0-9a-f]{64}$/);
    const auth = new CredentialAuthenticator({
      principals: [
        { name: 'fw', kind: 'framework', secret_hash: h, roles: ['web'] },
        { name: 'any', kind: 'framework', token_hash: hashToken('tok'), roles: ['*'] },
        { name: 'ag', kind: 'agent', token_hash: hashToken('agent'), agent_ids: ['a1'] },
      ],
    });
    expect(await auth.framework(req(basic('fw', 's3cret')))).toEqual({ principal: 'fw', roles: ['web'] });
    expect(await auth.framework(req('Bearer tok'))).toEqual({ principal: 'any' }); // '*': any role
    await expect(auth.framework(req(basic('fw', 'wrong')))).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(auth.framework(req())).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(auth.framework(req('Digest x'))).rejects.toThrow(/unsupported authorization scheme/);
    await expect(auth.operator(req(basic('fw', 's3cret')))).rejects.toBeInstanceOf(UnauthenticatedError);
    await auth.agent(req('Bearer agent'), 'a1');
    await expect(auth.agent(req('Bearer agent'), 'a2')).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('refuses malformed credential files naming the field, including plain-text secrets', () => {
    expect(() => loadCredentials('{', 'CREDS')).toThrow(/malformed JSON/);
    expect(() => loadCredentials(JSON.stringify({ principals: [{ name: 'x', kind: 'framework', secret_hash: 'hunter2' }] }), 'CREDS')).toThrow(/CREDS.principals\[0\].secret_hash/);
    expect(() => loadCredentials(JSON.stringify({ principals: [{ name: 'x', kind: 'wizard', token_hash: hashToken('t') }] }), 'CREDS')).toThrow(/kind/);
  });

  it('generates working dev credentials', async () => {
    const d = generateDevCredentials();
    const auth = new CredentialAuthenticator(d.config);
    expect((await auth.framework(req(basic(d.framework.principal, d.framework.secret)))).principal).toBe('dev-framework');
    await auth.operator(req(basic(d.operator.principal, d.operator.secret)));
    await auth.agent(req(`Bearer ${d.agentToken}`));
  });
});
