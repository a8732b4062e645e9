import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { agentId, frameworkId, taskId } from '../src/core/ids.js';
import { resources } from '../src/core/resources.js';
import type { TaskSpec } from '../src/core/task.js';
import type { Containerizer, LaunchRequest } from '../src/agent/containerizer/containerizer.js';
import { DockerContainerizer } from '../src/agent/containerizer/docker/docker-containerizer.js';
import { ProcessContainerizer } from '../src/agent/containerizer/process-containerizer.js';
import { launchRow, percentile, type BenchSuite, type BenchTable } from './report.js';

// Launch latency of the containerizers: from the launch() call to RUNNING. Next to it, in the
// same run and interleaved round by round (so drift hits all alike): a bare
// `docker run --rm --network none <image> true` through the CLI, and a bare dockerode
// create+start. Note the CLI figure also includes the container's exit and removal, which
// is what "docker run" costs a user; the containerizer's RUNNING comes once `start` returns.

const IMAGE = 'stratus/busybox:latest';
const SOCKET = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';
const FW = frameworkId('bench-framework');
const BENCH_LABEL = 'stratus.bench';

function dockerRun(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn('docker', ['run', '--rm', '--network', 'none', '--label', `${BENCH_LABEL}=1`, IMAGE, 'true'], { stdio: 'ignore' });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`docker run exited with ${code}`))));
  });
}

async function dockerodeCreateStart(docker: Docker, removals: Promise<unknown>[]): Promise<number> {
  const t0 = performance.now();
  const c = await docker.createContainer({ Image: IMAGE, Cmd: ['true'], Labels: { [BENCH_LABEL]: '1' }, HostConfig: { NetworkMode: 'none' } });
  await c.start();
  const took = performance.now() - t0;
  removals.push(c.wait().then(() => c.remove({ force: true })).catch(() => undefined));
  return took;
}

function request(agent: string, network: 'HOST' | 'NONE', docker: boolean): LaunchRequest {
  const spec: TaskSpec = {
    name: 'bench',
    command: { shell: false, value: 'true' },
    ...(docker && { container: { type: 'DOCKER', docker: { image: IMAGE, network, pullPolicy: 'IF_NOT_PRESENT' } } }),
  };
  return { taskId: taskId(`bench-${randomUUID()}`), frameworkId: FW, agentId: agentId(agent), spec, resources: resources({ cpus: 0.1, mem: 32 }) };
}

/** launch() to RUNNING; the task's end (and the container's removal) is awaited outside the timing. */
async function launchOnce(c: Containerizer, req: LaunchRequest, ends: Promise<unknown>[]): Promise<number> {
  const t0 = performance.now();
  const s = await c.launch(req);
  const took = performance.now() - t0;
  if (s.state !== 'RUNNING') throw new Error(`launch ended ${s.state}: ${s.message ?? ''}`);
  ends.push(c.wait({ frameworkId: FW, taskId: req.taskId }));
  return took;
}

async function concurrent(n: number, one: () => Promise<number>): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, one));
  return performance.now() - t0;
}


export const agentLaunch: BenchSuite = {
  name: 'agent-launch',
  description: 'containerizer launch latency (launch call to RUNNING) vs bare docker run and dockerode; 50 sequential and 50 concurrent',
  async run(args: readonly string[]): Promise<BenchTable[]> {
    const n = args.includes('--quick') ? 10 : 50;
    const docker = new Docker({ socketPath: SOCKET });
    await docker.ping();
    await docker.getImage(IMAGE).inspect();
    const workDirs = [mkdtempSync(join(tmpdir(), 'stratus-bench-')), mkdtempSync(join(tmpdir(), 'stratus-bench-'))] as const;
    const dockerAgent = `bench-docker-${randomUUID().slice(0, 8)}`;
    const processAgent = `bench-process-${randomUUID().slice(0, 8)}`;
    const dc = new DockerContainerizer({ agentId: agentId(dockerAgent), workDir: workDirs[0] });
    const pc = new ProcessContainerizer({ agentId: agentId(processAgent), workDir: workDirs[1] });
    const ends: Promise<unknown>[] = [];
    const removals: Promise<unknown>[] = [];
    const seq = { run: [] as number[], dockerode: [] as number[], docker: [] as number[], dockerNone: [] as number[], process: [] as number[] };
    try {
      // Warm-up: the image, the event stream, the page cache.
      for (let i = 0; i < 3; i++) {
        await dockerRun();
        await dockerodeCreateStart(docker, removals);
        await launchOnce(dc, request(dockerAgent, 'HOST', true), ends);
        await launchOnce(pc, request(processAgent, 'HOST', false), ends);
      }
      await Promise.all([...ends.splice(0), ...removals.splice(0)]);

      for (let i = 0; i < n; i++) {
        seq.run.push(await dockerRun());
        seq.dockerode.push(await dockerodeCreateStart(docker, removals));
        seq.docker.push(await launchOnce(dc, request(dockerAgent, 'HOST', true), ends));
        seq.dockerNone.push(await launchOnce(dc, request(dockerAgent, 'NONE', true), ends));
        seq.process.push(await launchOnce(pc, request(processAgent, 'HOST', false), ends));
        // Let each round's containers exit and go, so rounds do not pile up on two cores.
        await Promise.all([...ends.splice(0), ...removals.splice(0)]);
      }

      const allDocker = await concurrent(n, () => launchOnce(dc, request(dockerAgent, 'NONE', true), ends));
      await Promise.all(ends.splice(0));
      const allDockerode = await concurrent(n, () => dockerodeCreateStart(docker, removals));
      await Promise.all(removals.splice(0));
      const allProcess = await concurrent(n, () => launchOnce(pc, request(processAgent, 'HOST', false), ends));
      await Promise.all(ends.splice(0));

      const base = percentile(seq.run, 50);
      const sequential: BenchTable = {
        title: `Launch latency, ${n} sequential launches (command \`true\`, stratus/busybox)`,
        columns: ['measurement', 'n', 'p50 ms', 'p99 ms', 'max ms', 'p50 / docker run'],
        rows: [
          launchRow('bare `docker run --rm --network none` (CLI, to exit)', seq.run, base),
          launchRow('bare dockerode create+start', seq.dockerode, base),
          launchRow('DockerContainerizer launch -> RUNNING (host net)', seq.docker, base),
          launchRow('DockerContainerizer launch -> RUNNING (none net)', seq.dockerNone, base),
          launchRow('ProcessContainerizer launch -> RUNNING', seq.process, base),
        ],
        notes: [
          'goal: DockerContainerizer p50 <= 1.25x bare docker run',
          'containerizer tasks carry cpus 0.1 / mem 32 MiB limits, an init process and a json-file log cap; the bare runs have none',
        ],
      };
      const together: BenchTable = {
        title: `${n} concurrent launches: time until all are RUNNING`,
        columns: ['measurement', 'n', 'all RUNNING ms', 'per task ms'],
        rows: [
          { measurement: 'DockerContainerizer (none net)', n, 'all RUNNING ms': allDocker, 'per task ms': allDocker / n },
          { measurement: 'bare dockerode create+start', n, 'all RUNNING ms': allDockerode, 'per task ms': allDockerode / n },
          { measurement: 'ProcessContainerizer', n, 'all RUNNING ms': allProcess, 'per task ms': allProcess / n },
        ],
      };
      return [sequential, together];
    } finally {
      await Promise.allSettled([...ends, ...removals]);
      await dc.close();
      await pc.close();
      for (const label of [`${BENCH_LABEL}=1`, `stratus.agent_id=${dockerAgent}`]) {
        for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) {
          await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
        }
      }
      for (const d of workDirs) rmSync(d, { recursive: true, force: true });
    }
  },
};
