import { describe, expect, it } from 'vitest';
import { frameworkId, taskId } from '../../../../../src/core/ids.js';
import type { TaskSpec } from '../../../../../src/core/task.js';
import { createOptions, type CreateOptionsInput } from '../../../../../src/agent/containerizer/docker/create-options.js';

const MiB = 1024 * 1024;

function input(over: Partial<CreateOptionsInput> = {}): CreateOptionsInput {
  return {
    name: 'stratus-c1',
    image: 'stratus/busybox:latest',
    task: { taskId: taskId('t1'), frameworkId: frameworkId('f1') },
    agentId: 'a1',
    containerId: 'c1',
    spec: { name: 'web', command: { shell: true, value: 'echo hi' } },
    resources: { cpus: 500, mem: 64 },
    ports: [],
    network: 'HOST',
    init: true,
    logCapBytes: MiB,
    host: { hostname: 'host-1', cpuCount: 4 },
    ...over,
  };
}

const withSpec = (spec: Partial<TaskSpec>): CreateOptionsInput => input({ spec: { name: 'web', ...spec } });

describe('createOptions', () => {
  it('names the container and its image, with no TTY or attached streams', () => {
    const o = createOptions(input());
    expect(o).toMatchObject({ name: 'stratus-c1', Image: 'stratus/busybox:latest', Tty: false, OpenStdin: false, AttachStdin: false, AttachStdout: false, AttachStderr: false });
    expect(o.HostConfig?.Init).toBe(true);
    expect(createOptions(input({ init: false })).HostConfig?.Init).toBe(false);
  });

  it('turns millicpus into a CFS quota and CPU shares, within what Docker takes', () => {
    expect(createOptions(input({ resources: { cpus: 500, mem: 0 } })).HostConfig).toMatchObject({ NanoCpus: 500_000_000, CpuShares: 512 });
    expect(createOptions(input({ resources: { cpus: 2_000, mem: 0 } })).HostConfig).toMatchObject({ NanoCpus: 2_000_000_000, CpuShares: 2048 });
    // Docker's smallest quota is 0.01 CPU; shares are at least 2.
    expect(createOptions(input({ resources: { cpus: 1, mem: 0 } })).HostConfig).toMatchObject({ NanoCpus: 10_000_000, CpuShares: 2 });
    // Docker refuses a quota above the host's CPU count.
    expect(createOptions(input({ resources: { cpus: 16_000, mem: 0 }, host: { hostname: 'h', cpuCount: 4 } })).HostConfig?.NanoCpus).toBe(4_000_000_000);
    const none = createOptions(input({ resources: { cpus: 0, mem: 0 } })).HostConfig ?? {};
    expect(none).not.toHaveProperty('NanoCpus');
    expect(none).not.toHaveProperty('CpuShares');
  });

  it('sets a hard memory limit (no swap beyond it) from MiB, or none', () => {
    expect(createOptions(input({ resources: { cpus: 0, mem: 32 } })).HostConfig).toMatchObject({ Memory: 32 * MiB, MemorySwap: 32 * MiB });
    const none = createOptions(input({ resources: { cpus: 0, mem: 0 } })).HostConfig ?? {};
    expect(none).not.toHaveProperty('Memory');
    expect(none).not.toHaveProperty('MemorySwap');
  });

  it('uses the host network, or none when asked', () => {
    expect(createOptions(input({ network: 'HOST' })).HostConfig?.NetworkMode).toBe('host');
    expect(createOptions(input({ network: 'NONE' })).HostConfig?.NetworkMode).toBe('none');
  });

  it("gives the task Mesos's environment, its ports and its own variables", () => {
    const o = createOptions(input({ ports: [31000, 31005], spec: { name: 'web', command: { shell: true, value: 'true', environment: { A: '1', HOST: 'mine' } } } }));
    expect(o.Env).toEqual(
      expect.arrayContaining([
        'MESOS_TASK_ID=t1',
        'MESOS_FRAMEWORK_ID=f1',
        'MESOS_AGENT_ID=a1',
        'MESOS_CONTAINER_ID=c1',
        'PORT0=31000',
        'PORT1=31005',
        'PORT=31000',
        'PORTS=31000,31005',
        'A=1',
        // The task's own variables win.
        'HOST=mine',
      ]),
    );
    expect(o.Env).not.toContain('HOST=host-1');
    const plain = createOptions(input()).Env ?? [];
    expect(plain).toContain('HOST=host-1');
    expect(plain.some((e) => e.startsWith('PORT'))).toBe(false);
  });

  it("labels the container with the task's labels and Stratus's, which recovery finds it by", () => {
    const o = createOptions(withSpec({ command: { shell: true, value: 'true' }, labels: { team: 'infra', 'stratus.task_id': 'spoofed' } }));
    expect(o.Labels).toEqual({ team: 'infra', 'stratus.task_id': 't1', 'stratus.framework_id': 'f1', 'stratus.agent_id': 'a1', 'stratus.container_id': 'c1' });
  });

  it('sets the working directory and user only when the task names them', () => {
    const o = createOptions(withSpec({ command: { shell: true, value: 'true', user: 'nobody' }, workingDir: '/srv' }));
    expect(o).toMatchObject({ WorkingDir: '/srv', User: 'nobody' });
    const plain = createOptions(input());
    expect(plain).not.toHaveProperty('WorkingDir');
    expect(plain).not.toHaveProperty('User');
  });

  it('runs a shell command through /bin/sh -c, and an argv command as given', () => {
    expect(createOptions(withSpec({ command: { shell: true, value: 'echo $HOME; exit 3' } }))).toMatchObject({ Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo $HOME; exit 3'] });
    // arguments[0] is the program's name (Mesos): not passed again.
    expect(createOptions(withSpec({ command: { shell: false, value: '/bin/echo', arguments: ['echo', 'a  b', '$HOME'] } }))).toMatchObject({ Entrypoint: ['/bin/echo'], Cmd: ['a  b', '$HOME'] });
  });

  it("keeps the image's entrypoint when the task names no program", () => {
    const argsOnly = createOptions(withSpec({ command: { shell: false, arguments: ['serve', '--port', '80'] } }));
    expect(argsOnly.Cmd).toEqual(['serve', '--port', '80']);
    expect(argsOnly).not.toHaveProperty('Entrypoint');
    for (const spec of [{}, { command: { shell: false, environment: { A: '1' } } }]) {
      const o = createOptions(withSpec(spec));
      expect(o).not.toHaveProperty('Entrypoint');
      expect(o).not.toHaveProperty('Cmd');
    }
  });

  it('caps the engine-side log at a few times the agent cap', () => {
    expect(createOptions(input({ logCapBytes: MiB })).HostConfig?.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '4m', 'max-file': '2' } });
    expect(createOptions(input({ logCapBytes: 1024 })).HostConfig?.LogConfig?.Config).toMatchObject({ 'max-size': '1m' });
  });
});
