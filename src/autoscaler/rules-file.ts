import { readFileSync } from 'node:fs';
import { isStratusError } from '../core/errors.js';
import type { Registry } from '../state/registry.js';
import type { RulesView } from './api.js';
import type { AutoscalerController } from './controller.js';
import { parseRuleSet, type RuleSet } from './rules.js';

// `--autoscaler-rules FILE`: the same JSON as PUT /api/v1/autoscaler/rules,
//   { "groups": [ { "group": "general", "minSize": 1, "maxSize": 10, "minIdle": 1, "maxIdle": 2,
//                   "scaleUpCooldownSeconds": 60, "scaleDownCooldownSeconds": 300,
//                   "shape": { "cpus": 4, "mem": 16384 } } ] }
// Read and checked at start; a bad file stops the command with the file and field named.

export class RulesFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
    readonly field?: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'RulesFileError';
  }
}

/** Reads and checks a rules file (shape only: groups are checked against the provider when applied). */
export function loadAutoscalerRulesFile(path: string): RuleSet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RulesFileError(path, `cannot read the autoscaler rules: ${(e as Error).message}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new RulesFileError(path, `malformed JSON: ${(e as Error).message}`);
  }
  try {
    return parseRuleSet(body);
  } catch (e) {
    if (isStratusError(e)) throw new RulesFileError(path, e.message, e.field);
    throw e;
  }
}

/** Reads the file and stores its rules (replacing the Registry's), checked against the provider's groups. */
export async function applyAutoscalerRulesFile(autoscaler: AutoscalerController, registry: Registry, path: string): Promise<RulesView> {
  const rules = loadAutoscalerRulesFile(path);
  try {
    return await autoscaler.setRules(registry, rules);
  } catch (e) {
    if (isStratusError(e)) throw new RulesFileError(path, e.message, e.field);
    throw e;
  }
}
