// The layer rule: which part of src/ may import which. Dependencies point one way,
//   core <- engines (fenzo, the DRF allocator) <- use cases (master, agent, jobs, autoscaler,
//   federation) <- adapters and entry points,
// the agent never imports the master (they share src/wire), engines do no I/O, and the
// autoscaler and federation see the master only through its extension surface. Composition
// roots (the CLI, the Lambda entry points) may import everything, except that a Lambda bundle
// never pulls in what only runs on a machine (agents, Docker, the local scaling provider).
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

/**
 * What each unit may import besides itself: another unit, or one file of one (a path under src/).
 * A unit is a top-level folder of src/, or a folder of its own named here (engines, roots).
 */
export const LAYERS = {
  core: [],
  wire: ['core'],
  http: ['core', 'wire'],
  state: ['core'],
  fenzo: ['core'],
  'master-lambda/allocator': ['core'],
  sdk: ['core', 'wire', 'http'],
  agent: ['core', 'wire', 'http'],
  'master-lambda': ['core', 'wire', 'http', 'state', 'master-lambda/allocator'],
  jobs: ['core', 'wire', 'http', 'state', 'fenzo', 'sdk'],
  autoscaler: ['core', 'wire', 'http', 'state', 'fenzo', 'jobs', 'agent', 'master-lambda/extension.ts'],
  federation: ['core', 'wire', 'http', 'state', 'jobs', 'sdk', 'master-lambda/extension.ts'],
  // Browser code: it reads the master's JSON over HTTP and shares only the wire types.
  dashboard: ['wire'],
};

/** Engines take plain data and return decisions: no I/O modules. */
export const ENGINES = ['fenzo', 'master-lambda/allocator'];

/** Composition roots import everything, but for what they must never bundle. */
export const ROOTS = {
  cli: [],
  'master-lambda/lambda': ['agent', 'cli', 'autoscaler/index.ts', 'autoscaler/local-provider.ts'],
};

const UNITS = [...Object.keys(LAYERS), ...Object.keys(ROOTS)].sort((a, b) => b.length - a.length);
const BUILTINS = new Set(builtinModules);
const IO_PACKAGES = [/^@aws-sdk\//, /^dockerode$/, /^ws$/, /^aws-cdk-lib/];

/** The unit a path under src/ belongs to ('' outside src/). */
export function unitOf(file) {
  const rel = path.relative(SRC, file).split(path.sep).join('/');
  if (rel.startsWith('..') || path.isAbsolute(rel)) return '';
  return UNITS.find((u) => rel === u || rel.startsWith(`${u}/`)) ?? rel.split('/')[0];
}

function relToSrc(file) {
  return path.relative(SRC, file).split(path.sep).join('/').replace(/\.js$/, '.ts');
}

function allows(entries, targetUnit, targetRel) {
  return entries.some((e) => (e.endsWith('.ts') ? targetRel === e : targetUnit === e));
}

const isIo = (spec) => spec.startsWith('node:') || BUILTINS.has(spec.split('/')[0]) || IO_PACKAGES.some((p) => p.test(spec));

export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'keeps imports between parts of src/ pointing one way (see eslint/layers.js)' },
    schema: [],
    messages: {
      layer: "{{from}} may not import {{to}} ('{{spec}}'): {{from}} may import only {{allowed}}. See eslint/layers.js and ARCHITECTURE.md.",
      bundle: "{{from}} is a Lambda entry point and may not import {{to}} ('{{spec}}'): a Lambda bundle must not pull in what runs only on a machine.",
      io: "{{from}} is an engine and may not import the I/O module '{{spec}}': engines take plain data and return decisions.",
    },
  },
  create(context) {
    const file = context.filename;
    const from = unitOf(file);
    if (!from) return {};
    const check = (node, spec) => {
      if (typeof spec !== 'string') return;
      if (!spec.startsWith('.')) {
        if (ENGINES.includes(from) && isIo(spec)) context.report({ node, messageId: 'io', data: { from, spec } });
        return;
      }
      const target = path.resolve(path.dirname(file), spec);
      const to = unitOf(target);
      if (!to || to === from) return;
      const targetRel = relToSrc(target);
      if (from in ROOTS) {
        if (allows(ROOTS[from], to, targetRel)) context.report({ node, messageId: 'bundle', data: { from, to: targetRel, spec } });
        return;
      }
      const allowed = LAYERS[from] ?? [];
      if (!allows(allowed, to, targetRel)) {
        context.report({ node, messageId: 'layer', data: { from, to: allowed.some((e) => e.startsWith(`${to}/`)) ? targetRel : to, spec, allowed: allowed.length ? allowed.join(', ') : 'nothing outside itself' } });
      }
    };
    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    };
  },
};

export const layersPlugin = { rules: { layers: layersRule } };
