import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnauthenticatedError } from '../../../../src/core/errors.js';
import { silentLogger } from '../../../../src/core/logger.js';
import type { Authenticator } from '../../../../src/http/auth.js';
import { Router } from '../../../../src/http/router.js';
import { isRaw, type HttpRequest, type HttpResponse } from '../../../../src/http/types.js';
import { mountDashboardRoutes } from '../../../../src/master-lambda/http/dashboard-routes.js';

// The dashboard's static routes over a directory of built assets: types, caching, 304s, 404s,
// and no way out of the directory.

const refuseAll: Authenticator = {
  framework: async () => {
    throw new UnauthenticatedError();
  },
  agent: async () => {
    throw new UnauthenticatedError();
  },
  operator: async () => {
    throw new UnauthenticatedError();
  },
};

describe('dashboard routes', () => {
  let root: string;
  let dir: string;
  let router: Router;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'stratus-dashboard-'));
    dir = join(root, 'dashboard');
    mkdirSync(dir);
    mkdirSync(join(dir, 'nested'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Stratus</title>');
    writeFileSync(join(dir, 'app-ABCD1234.js'), 'console.log(1)');
    writeFileSync(join(dir, 'app-WXYZ9876.css'), 'body{}');
    writeFileSync(join(dir, 'notes.txt'), 'not an asset type');
    writeFileSync(join(dir, 'nested', 'x.js'), 'nested');
    writeFileSync(join(root, 'secret.js'), 'SECRET');
    // Authentication on: the shell is still open (it holds no data).
    router = mountDashboardRoutes(new Router({ log: silentLogger, authenticator: refuseAll }), { dir });
    router.route('GET', '/master/state', async () => ({ status: 200, body: {} }), { access: 'operator' });
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const get = (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<HttpResponse> =>
    router.handle({ method, path, query: new URLSearchParams(), headers, body: '' } satisfies HttpRequest);
  const text = (r: HttpResponse): string => (isRaw(r) ? r.raw.toString('utf8') : JSON.stringify('body' in r ? r.body : undefined));

  it('serves index.html at / and /dashboard/ without credentials, never cached without revalidation', async () => {
    for (const path of ['/', '/dashboard', '/dashboard/']) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.headers?.['Content-Type']).toBe('text/html; charset=utf-8');
      expect(r.headers?.['Cache-Control']).toBe('no-cache');
      expect(text(r)).toContain('<title>Stratus</title>');
    }
    expect((await get('/master/state')).status).toBe(401);
  });

  it('answers 304 for a matching If-None-Match, with no body', async () => {
    const first = await get('/');
    const etag = first.headers!.ETag!;
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await get('/', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(isRaw(again)).toBe(false);
    expect('body' in again ? again.body : undefined).toBeUndefined();
  });

  it('serves hashed assets with their content type, immutable for a year', async () => {
    const js = await get('/dashboard/app-ABCD1234.js');
    expect(js.status).toBe(200);
    expect(js.headers?.['Content-Type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers?.['Cache-Control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers?.['X-Content-Type-Options']).toBe('nosniff');
    expect(text(js)).toBe('console.log(1)');
    const css = await get('/dashboard/app-WXYZ9876.css');
    expect(css.headers?.['Content-Type']).toBe('text/css; charset=utf-8');
    expect((await get('/dashboard/app-ABCD1234.js', {}, 'HEAD')).status).toBe(200);
  });

  it('answers 404 (JSON naming the path) for unknown assets, other types and subfolders', async () => {
    for (const path of ['/dashboard/app-00000000.js', '/dashboard/notes.txt', '/dashboard/nested', '/dashboard/nested/x.js', '/dashboard/.hidden.js']) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect('body' in r && r.body, path).toMatchObject({ field: 'path' });
    }
  });

  it('never leaves the asset directory, however the path is spelled', async () => {
    for (const path of ['/dashboard/../secret.js', '/dashboard/..%2Fsecret.js', '/dashboard/%2e%2e%2fsecret.js', '/dashboard/..%5Csecret.js', '/dashboard/%2Fetc%2Fpasswd', '/dashboard/..', '/dashboard/%00index.html']) {
      const r = await get(path);
      expect(r.status, path).toBeGreaterThanOrEqual(400);
      expect(r.status, path).toBeLessThan(500);
      expect(text(r), path).not.toContain('SECRET');
    }
  });

  it('refuses other methods with 405', async () => {
    expect((await get('/', {}, 'POST')).status).toBe(405);
    expect((await get('/dashboard/app-ABCD1234.js', {}, 'DELETE')).status).toBe(405);
  });

  it('says how to build the dashboard when its assets are missing', async () => {
    const bare = mountDashboardRoutes(new Router({ log: silentLogger }), { dir: join(root, 'missing') });
    const r = await bare.handle({ method: 'GET', path: '/', query: new URLSearchParams(), headers: {}, body: '' });
    expect(r.status).toBe(404);
    expect('body' in r && r.body).toMatchObject({ error: expect.stringContaining('npm run build') });
  });
});
