import { buildSync } from 'esbuild';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Builds the dashboard (src/dashboard, Preact in TSX) into a flat directory: content-hashed
// app-<HASH>.js and app-<HASH>.css, and an index.html naming them. `npm run build` writes
// dist/dashboard; the CDK stack writes the same files next to the API Lambda's bundle
// (synchronously: CDK's local bundling is synchronous).

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const DASHBOARD_SRC = join(ROOT, 'src/dashboard');

export function buildDashboard(outDir: string): string[] {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = buildSync({
    entryPoints: { app: join(DASHBOARD_SRC, 'main.tsx') },
    outdir: outDir,
    entryNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(DASHBOARD_SRC, 'tsconfig.json'),
    minify: true,
    sourcemap: false,
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) => basename(f));
  const js = outputs.find((f) => f.endsWith('.js'));
  const css = outputs.find((f) => f.endsWith('.css'));
  if (!js || !css) throw new Error(`the dashboard build wrote ${outputs.join(', ')}: expected one .js and one .css`);
  writeFileSync(
    join(outDir, 'index.html'),
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stratus</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/${css}">
<script type="module" src="/dashboard/${js}"></script>
</head>
<body><div id="app"></div></body>
</html>
`,
  );
  return readdirSync(outDir);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? join(ROOT, 'dist/dashboard');
  const files = buildDashboard(out);
  process.stdout.write(`dashboard: ${files.join(', ')} in ${out}\n`);
}
