import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { CLI } from '../../support/master-process.js';
import { waitUntil } from '../../support/wait.js';

// The README's main command works without Docker: `stratus dev` with host processes runs a
// service, and Ctrl-C leaves no task process behind.

const exec = promisify(execFile);

it('runs a service on a Docker-less local cluster and cleans up on Ctrl-C', async () => {
  const dev = spawn(process.execPath, [CLI, 'dev', '--port', '0', '--containerizer', 'process'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  dev.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  dev.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await waitUntil(() => /Ctrl-C stops everything/.test(out) || dev.exitCode !== null, 60_000, 'the dev cluster to start', 100);
    const url = /master (http:\/\/[\d.]+:\d+)/.exec(out)?.[1];
    expect(url, out).toBeDefined();
    expect(out).toMatch(/host processes/);
    const marker = `stratus-dev-${randomUUID().slice(0, 8)}`;
    await exec(process.execPath, [CLI, 'run', '--master', url!, '--name', 'sleepers', '--instances', '3', '--cpus', '0.1', '--mem', '16', '--', `sleep 600 # ${marker}`]);
    await waitUntil(async () => {
      const ps = (await exec(process.execPath, [CLI, 'ps', '--master', url!])).stdout;
      return ps.split('\n').filter((l) => /^sleepers\./.test(l) && /RUNNING/.test(l)).length === 3;
    }, 60_000, 'three sleepers RUNNING in stratus ps', 250);
    expect((await exec('pgrep', ['-f', marker]).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(3);
    dev.kill('SIGINT');
    await waitUntil(() => dev.exitCode !== null, 60_000, 'the dev cluster to stop', 100);
    expect(dev.exitCode).toBe(0);
    expect((await exec('pgrep', ['-f', marker]).catch(() => ({ stdout: '' }))).stdout.trim()).toBe('');
  } finally {
    if (dev.exitCode === null) dev.kill('SIGKILL');
  }
}, 180_000);
