import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { LAYERS, ROOTS, unitOf } from '../../eslint/layers.js';

// The layer rule (eslint/layers.js) fails `npm run lint` on a planted violation of each kind,
// and the code as it is keeps to it: no cycle between the parts of src/.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const eslint = new ESLint({ cwd: root });

async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'stratus/layers').map((m) => m.message);
}

describe('the layer rule', () => {
  it('refuses the agent importing the master', async () => {
    const errors = await layerErrors('src/agent/planted.ts', "import { Master } from '../master-lambda/master.js';\nexport const x = Master;\n");
    expect(errors).toEqual([expect.stringContaining('agent may not import master-lambda')]);
  });

  it('refuses the autoscaler and federation reaching past the master extension surface', async () => {
    expect(await layerErrors('src/autoscaler/planted.ts', "import { retryOnConflict } from '../master-lambda/retry.js';\nexport const x = retryOnConflict;\n")).toEqual([
      expect.stringContaining('autoscaler may not import master-lambda/retry.ts'),
    ]);
    expect(await layerErrors('src/federation/planted.ts', "import { drainAgent } from '../master-lambda/extension.js';\nexport const x = drainAgent;\n")).toEqual([]);
  });

  it('refuses I/O and use cases in an engine', async () => {
    const errors = await layerErrors('src/master-lambda/allocator/planted.ts', "import { readFileSync } from 'node:fs';\nimport { kill } from '../use-cases/kill.js';\nexport const x = [readFileSync, kill];\n");
    expect(errors).toEqual([expect.stringContaining("may not import the I/O module 'node:fs'"), expect.stringContaining('master-lambda/allocator may not import master-lambda')]);
    expect(await layerErrors('src/fenzo/planted.ts', "import Docker from 'dockerode';\nexport const x = Docker;\n")).toEqual([expect.stringContaining("I/O module 'dockerode'")]);
  });

  it('refuses a lower layer importing a higher one, and anything importing the CLI', async () => {
    expect(await layerErrors('src/core/planted.ts', "import { Registry } from '../state/registry.js';\nexport const x = Registry;\n")).toEqual([expect.stringContaining('core may not import state')]);
    expect(await layerErrors('src/jobs/planted.ts', "import { commands } from '../cli/commands/index.js';\nexport const x = commands;\n")).toEqual([expect.stringContaining('jobs may not import cli')]);
  });

  it('lets the dashboard (TSX, browser code) import only the wire types', async () => {
    expect(await layerErrors('src/dashboard/planted.tsx', "import { getTasks } from '../master-lambda/use-cases/operator-views.js';\nexport const x = <div>{String(getTasks)}</div>;\n")).toEqual([
      expect.stringContaining('dashboard may not import master-lambda'),
    ]);
    expect(await layerErrors('src/dashboard/planted.tsx', "import type { ErrorBody } from '../wire/api-error.js';\nexport const x = (e: ErrorBody) => <p>{e.error}</p>;\n")).toEqual([]);
  });

  it('lets composition roots import everything but what a Lambda bundle must not carry', async () => {
    expect(await layerErrors('src/cli/planted.ts', "import { createAgent } from '../agent/index.js';\nexport const x = createAgent;\n")).toEqual([]);
    expect(await layerErrors('src/master-lambda/lambda/planted.ts', "import { createLocalScalingProvider } from '../../autoscaler/index.js';\nexport const x = createLocalScalingProvider;\n")).toEqual([
      expect.stringContaining('a Lambda bundle must not pull in'),
    ]);
  });

  it('is acyclic, and the code keeps to it', async () => {
    // The table itself: a depth-first walk finds no way back.
    const visit = (unit: string, path: string[]): void => {
      expect(path, `cycle ${[...path, unit].join(' -> ')}`).not.toContain(unit);
      for (const dep of LAYERS[unit as keyof typeof LAYERS] ?? []) visit(dep.endsWith('.ts') ? unitOf(join(root, 'src', dep)) : dep, [...path, unit]);
    };
    for (const unit of Object.keys(LAYERS)) visit(unit, []);
    // The code: every relative import between units outside the roots is an edge the table allows.
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name.endsWith('.ts')) files.push(join(dir, e.name));
      }
    };
    walk(join(root, 'src'));
    const results = await eslint.lintFiles(files);
    const violations = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'stratus/layers').map((m) => `${r.filePath}: ${m.message}`));
    expect(violations).toEqual([]);
    const roots = new Set(Object.keys(ROOTS));
    const edges = new Set<string>();
    for (const f of files) {
      const from = unitOf(f);
      if (roots.has(from)) continue;
      for (const m of readFileSync(f, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const to = unitOf(resolve(dirname(f), m[1]!));
        if (to && to !== from) edges.add(`${from.split('/')[0]} -> ${to.split('/')[0]}`);
      }
    }
    // Folder level (master-lambda/allocator counted as master-lambda): no two folders import each other.
    for (const e of edges) {
      const [a, b] = e.split(' -> ');
      if (a !== b) expect(edges.has(`${b} -> ${a}`), `${a} and ${b} import each other`).toBe(false);
    }
  }, 60_000);
});
