import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { sleep } from '../../../core/sleep.js';
import type { CommandSpec, TaskSpec } from '../../../core/task.js';
import type { HealthProbe, ProbeResult } from '../health-check.js';
import { commandArgv } from '../validation.js';
import { dockerMessage } from './engine-errors.js';

// A COMMAND health check of a Docker task: runs inside its container (docker exec), with the
// task's environment, user and working directory; healthy when it exits 0 in time.

/** `dockerId` is read at each check: undefined while the container does not run. */
export function execProbe(streams: Docker, spec: TaskSpec, command: CommandSpec, dockerId: () => string | undefined): HealthProbe {
  const argv = commandArgv(command) ?? [];
  const env = Object.entries({ ...spec.command?.environment, ...command.environment }).map(([k, v]) => `${k}=${v}`);
  return async (timeoutMs): Promise<ProbeResult> => {
    const id = dockerId();
    if (id === undefined) return { ok: false, message: 'the container is not running' };
    const signal = AbortSignal.timeout(timeoutMs);
    let stream: Readable | undefined;
    try {
      const exec = await streams.getContainer(id).exec({
        Cmd: argv,
        AttachStdout: true,
        AttachStderr: true,
        Env: env,
        ...(command.user !== undefined && { User: command.user }),
        ...(spec.workingDir !== undefined && { WorkingDir: spec.workingDir }),
      });
      stream = (await exec.start({ hijack: true, stdin: false, abortSignal: signal })) as unknown as Readable;
      const s = stream;
      await new Promise<void>((resolve) => {
        s.on('end', resolve).on('close', resolve).on('error', () => resolve());
        signal.addEventListener('abort', () => resolve());
        s.resume();
      });
      if (signal.aborted) return { ok: false, message: `health command timed out after ${timeoutMs} ms` };
      // The exit code can trail the end of the output by a moment.
      for (let i = 0; i < 20; i++) {
        const info = await exec.inspect();
        if (!info.Running && info.ExitCode !== null) {
          return info.ExitCode === 0 ? { ok: true, message: 'health command exited with status 0' } : { ok: false, message: `health command exited with status ${info.ExitCode}` };
        }
        await sleep(50, undefined, { unref: true });
      }
      return { ok: false, message: 'health command did not report an exit status' };
    } catch (e) {
      return { ok: false, message: `health command could not run: ${dockerMessage(e)}` };
    } finally {
      stream?.destroy();
    }
  };
}
