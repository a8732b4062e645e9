import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { waitUntil } from './wait.js';

// A second, private Docker engine for tests that stop and restart the engine under an agent:
// the shared dockerd at /var/run/docker.sock serves everyone else's tests and is never touched.
// It runs with --live-restore, as production engines under Stratus agents should, so that
// containers outlive an engine restart.

const run = promisify(execFile);

export class PrivateDockerd {
  readonly dir: string;
  readonly socket: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;

  constructor() {
    // Short path: unix socket paths are limited to 108 bytes.
    this.dir = mkdtempSync('/tmp/stratus-dockerd-');
    this.socket = join(this.dir, 'docker.sock');
  }

  get host(): string {
    return `unix://${this.socket}`;
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(join(this.dir, 'dockerd.log'), 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Starts the engine and waits until it answers; throws with its log when it cannot run here. */
  async start(timeoutMs = 30_000): Promise<void> {
    const log = openSync(join(this.dir, 'dockerd.log'), 'a');
    const args = [
      '--host', this.host,
      '--data-root', join(this.dir, 'data'),
      '--exec-root', join(this.dir, 'exec'),
      '--pidfile', join(this.dir, 'docker.pid'),
      '--bridge=none', '--iptables=false', '--ip-masq=false', '--live-restore',
    ];
    let spawnError: Error | undefined;
    const child = spawn('dockerd', args, { stdio: ['ignore', log, log] });
    closeSync(log);
    child.on('error', (e) => (spawnError = e));
    this.child = child;
    this.exited = new Promise((r) => child.once('exit', () => r()));
    const docker = new Docker({ socketPath: this.socket });
    await waitUntil(
      async () => {
        if (spawnError) throw new Error(`a second dockerd cannot be started: ${spawnError.message}`);
        if (child.exitCode !== null) throw new Error(`a second dockerd exited with ${child.exitCode}; its log:\n${this.logTail()}`);
        return docker.ping().then(
          () => true,
          () => false,
        );
      },
      timeoutMs,
      'a second dockerd to answer',
      100,
    ).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}; its log:\n${this.logTail()}`);
    });
  }

  /** Copies an image from the shared engine (docker save | docker load). */
  async loadImage(image: string): Promise<void> {
    await run('sh', ['-c', `docker save "$1" | docker -H "$2" load`, 'load', image, this.host], { timeout: 60_000 });
  }

  /** SIGTERM, as `systemctl stop docker` does; waits for the exit. */
  async stop(timeoutMs = 30_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(t);
  }

  /** Removes its containers, stops it, unmounts what it left mounted and deletes its dirs. */
  async destroy(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      const docker = new Docker({ socketPath: this.socket });
      for (const c of await docker.listContainers({ all: true }).catch(() => [])) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
      await this.stop();
    }
    // dockerd bind-mounts its data root (and overlays under it); a lazy unmount lets the dir go.
    const mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(this.dir))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) await run('umount', ['-l', m]).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
