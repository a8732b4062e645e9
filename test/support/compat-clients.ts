import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { ROOT } from './agent-cluster.js';
import { isCI, type Probe } from './components.js';

// The real client libraries the compatibility suites drive (test/compat/README.md): the Python
// venv with pymesos and the Go toolchain for mesos-go. As with describeWith, a missing one fails
// the run under CI=true, naming it, and skips the suite elsewhere with the same message.

export const CLIENTS_VENV = process.env.STRATUS_CLIENTS_VENV ?? join(ROOT, '.venv-clients');
export const CLIENTS_PYTHON = join(CLIENTS_VENV, 'bin', 'python');

function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => resolve({ ok: !err, out: `${stdout}${stderr}`.trim() }));
  });
}

export async function probePymesos(): Promise<Probe> {
  if (!existsSync(CLIENTS_PYTHON)) return { ok: false, message: `python clients venv missing at ${CLIENTS_VENV} (run .ci/python-clients.sh)` };
  const r = await run(CLIENTS_PYTHON, ['-c', 'import pymesos, http_parser.parser']);
  return r.ok ? { ok: true, message: 'pymesos available' } : { ok: false, message: `pymesos not importable from ${CLIENTS_VENV}: ${r.out.slice(-300)}` };
}

export const GO = process.env.STRATUS_GO ?? 'go';

export async function probeGo(): Promise<Probe> {
  const r = await run(GO, ['version']);
  return r.ok ? { ok: true, message: r.out } : { ok: false, message: `Go toolchain '${GO}' not found (install Go >= 1.21 to build the mesos-go client)` };
}

/** `describe` for a suite that needs a client library the probe finds. */
export async function describeWithClient(probe: () => Promise<Probe>, name: string, fn: () => void): Promise<void> {
  const p = await probe();
  if (p.ok) {
    describe(name, fn);
  } else if (isCI) {
    describe(name, () => {
      it('requires its client library', () => {
        throw new Error(`missing component: ${p.message}`);
      });
    });
  } else {
    describe.skip(`${name} [skipped: ${p.message}]`, fn);
  }
}
