import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { isCI } from './components.js';

// Prometheus's own text parser (prometheus_client.parser from the clients venv, which
// .ci/python-clients.sh builds) reads what GET /metrics serves: text it cannot parse fails the
// test. Without the venv a suite is skipped naming it, and fails so under CI=true.

export const CLIENTS_VENV = process.env.STRATUS_CLIENTS_VENV ?? join(fileURLToPath(new URL('../..', import.meta.url)), '.venv-clients');
const PYTHON = join(CLIENTS_VENV, 'bin', 'python');

export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly samples: readonly Sample[];
}

const SCRIPT = `
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "help": f.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": (None if math.isnan(s.value) else s.value)} for s in f.samples]})
print(json.dumps(out))
`;

/** Parses Prometheus text exposition with prometheus_client; rejects with the parser's error. */
export function parsePrometheus(text: string): Promise<MetricFamily[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as MetricFamily[]) : reject(new Error(`prometheus_client could not parse the exposition: ${err.trim()}`))));
    child.stdin.end(text);
  });
}

/** The value of one sample (family samples named `name`, labels matching), 0 when absent. */
export function sampleValue(families: readonly MetricFamily[], name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const f of families) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
    }
  }
  return sum;
}

const missing = existsSync(PYTHON) ? undefined : `python clients venv not found at ${CLIENTS_VENV} (build it with .ci/python-clients.sh or set STRATUS_CLIENTS_VENV)`;

/** `describe` for a suite that parses metrics with prometheus_client. */
export function describeWithPrometheusParser(name: string, fn: () => void): void {
  if (missing === undefined) {
    describe(name, fn);
  } else if (isCI) {
    describe(name, () => {
      it('requires the python clients venv (prometheus_client)', () => {
        throw new Error(`missing component: ${missing}`);
      });
    });
  } else {
    describe.skip(`${name} [skipped: ${missing}]`, fn);
  }
}
