import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// Runs `stratus master` as a real process (built CLI), for tests that kill -9 a leader.

export const CLI = resolve('dist/src/cli/main.js');

export interface MasterProcess {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startMasterProcess(name: string, env: Record<string, string>, extraArgs: string[] = []): Promise<MasterProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm test runs npm run build)`);
  const child = spawn(process.execPath, [CLI, 'master', '--port', '0', '--holder-id', name, ...extraArgs], {
    env: { ...process.env, STRATUS_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // STRATUS_TEST_TRACE=1 also copies the output to a file, readable while the test runs.
  const trace = process.env.STRATUS_TEST_TRACE ? createWriteStream(join(tmpdir(), `stratus-master-${name}.log`)) : undefined;
  const collect = (d: Buffer): void => {
    out += d.toString();
    trace?.write(d);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`master ${name} did not start in 20 s:\n${out}`)), 20_000);
    const check = (): void => {
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`master ${name} exited with ${code}:\n${out}`));
    });
  });
  return {
    name,
    url,
    child,
    output: () => out,
    kill: (signal = 'SIGKILL') =>
      new Promise<void>((r) => {
        if (child.exitCode !== null || child.signalCode !== null) return r();
        child.once('exit', () => r());
        child.kill(signal);
      }),
  };
}
