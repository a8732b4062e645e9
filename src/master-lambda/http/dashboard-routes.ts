import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { strongEtag, ifNoneMatchHits } from '../../http/etag.js';
import type { Router } from '../../http/router.js';
import type { HttpRequest, HttpResponse } from '../../http/types.js';
import { ApiError } from '../../wire/api-error.js';

// The dashboard's static shell (src/dashboard, built by `npm run build` into dist/dashboard):
//   GET /                    index.html (no-cache, ETag): it names the hashed assets
//   GET /dashboard/:file     one asset; hashed names are immutable for a year
// Open to everyone: the shell holds no data. Its data calls (/master/state, /api/v1/...) need
// the operator credential when authentication is on. Only the files found in the asset
// directory are served, by exact name: no path from the request reaches the file system.

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** esbuild's [name]-[hash] names: the content decides the name, so it never changes. */
const HASHED = /-[A-Z0-9]{8}\.[a-z0-9]+$/;

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
  readonly immutable: boolean;
}

/** Where the built assets are: next to a Lambda bundle, in dist/, or dist/ seen from the sources. */
export function defaultDashboardDir(): string | undefined {
  const candidates = [
    process.env.STRATUS_DASHBOARD_DIR,
    fileURLToPath(new URL('./dashboard/', import.meta.url)),
    fileURLToPath(new URL('../../../dashboard/', import.meta.url)),
    fileURLToPath(new URL('../../../dist/dashboard/', import.meta.url)),
  ];
  return candidates.find((d): d is string => d !== undefined && existsSync(join(d, 'index.html')));
}

/** Reads every file of `dir` (flat) once. */
export function loadDashboardAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    const type = TYPES[extname(name)];
    if (!type || !statSync(file).isFile()) continue;
    const body = readFileSync(file);
    assets.set(name, { body, type, etag: strongEtag(body), immutable: HASHED.test(name) });
  }
  return assets;
}

function answer(req: HttpRequest, a: Asset): HttpResponse {
  const headers = {
    ETag: a.etag,
    'Cache-Control': a.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  };
  if (ifNoneMatchHits(req.headers['if-none-match'], a.etag)) return { status: 304, headers };
  return { status: 200, headers: { ...headers, 'Content-Type': a.type }, raw: a.body };
}

export interface DashboardRoutesOptions {
  /** The built assets; default defaultDashboardDir(). */
  readonly dir?: string;
}

export function mountDashboardRoutes(router: Router, options: DashboardRoutesOptions = {}): Router {
  let assets: Map<string, Asset> | undefined;
  // Read on first use: a Lambda container that never serves the dashboard never reads it.
  const load = (): Map<string, Asset> => {
    if (assets) return assets;
    const dir = options.dir ?? defaultDashboardDir();
    if (!dir || !existsSync(join(dir, 'index.html'))) throw new ApiError(404, 'the dashboard is not built here (npm run build builds it into dist/dashboard)', 'path');
    assets = loadDashboardAssets(dir);
    return assets;
  };
  const index = async (req: HttpRequest): Promise<HttpResponse> => {
    const a = load().get('index.html');
    if (!a) throw new ApiError(404, 'the dashboard has no index.html', 'path');
    return answer(req, a);
  };
  router.route('GET', '/', index);
  router.route('GET', '/dashboard', index);
  router.route('GET', '/dashboard/:file', async (req, p) => {
    const name = p.file ?? '';
    const a = load().get(name);
    if (!a) throw new ApiError(404, `no such dashboard asset: ${name.slice(0, 100)}`, 'path');
    return answer(req, a);
  });
  return router;
}
