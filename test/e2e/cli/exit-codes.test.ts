import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI } from '../../support/master-process.js';

// The built `stratus` executable: exit codes as a shell sees them (0 help, 2 bad command line,
// 1 a failed command).

const exec = promisify(execFile);

async function stratus(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`);
  try {
    const r = await exec(process.execPath, [CLI, ...argv], { timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('stratus exit codes', () => {
  it('stratus dev --help prints its usage on stdout and exits 0', async () => {
    const r = await stratus('dev', '--help');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^usage: stratus dev \[--port 5050\]/);
    expect((await stratus('autoscaler', 'rules', '-h')).stdout).toMatch(/^usage: stratus autoscaler rules/);
    expect((await stratus('--help')).code).toBe(0);
  });

  it('an unknown option exits 2 naming it; a master that does not answer exits 1', async () => {
    const r = await stratus('dev', '--bogus');
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(/^stratus dev: unknown option '--bogus'\nusage: stratus dev/);
    expect(r.stderr).toContain("'stratus dev --help' shows every flag.");
    // Port 1 on loopback: nothing listens there.
    const down = await stratus('jobs', '--master', 'http://127.0.0.1:1');
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^stratus jobs: cannot reach http:\/\/127\.0\.0\.1:1/);
  });
});
