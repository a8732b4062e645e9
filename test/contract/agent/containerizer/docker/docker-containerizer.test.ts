import { randomUUID } from 'node:crypto';
import { freePortsBelowEphemeral } from '../../../../support/ports.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../../../src/core/errors.js';
import { agentId as toAgentId } from '../../../../../src/core/ids.js';
import { DockerContainerizer, type DockerContainerizerOptions } from '../../../../../src/agent/containerizer/docker/docker-containerizer.js';
import { describeWith, DOCKER_SOCKET, TEST_IMAGE } from '../../../../support/components.js';
import { waitUntil } from '../../../../support/wait.js';
import {
  Agents,
  containerizerContract,
  FRAMEWORK,
  health,
  launchRequest,
  Recorder,
  refOf,
  shellTask,
  untilOutput,
  type Agent,
  type AgentOptions,
  type ContainerizerHarness,
} from '../containerizer.contract.js';

const docker = new Docker({ socketPath: DOCKER_SOCKET });
const MiB = 1024 * 1024;

async function containersOf(agentId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`stratus.agent_id=${agentId}`] } });
}

async function removeAll(agentId: string): Promise<void> {
  for (const c of await containersOf(agentId)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
}

const harness: ContainerizerHarness = {
  name: 'docker',
  create: (o) => new DockerContainerizer({ ...o, socketPath: DOCKER_SOCKET, defaultImage: TEST_IMAGE, engineCheckIntervalMs: 1_000 }),
  leftovers: async (o) => (await containersOf(o.agentId)).map((c) => c.Id),
  exists: async (info) =>
    docker
      .getContainer(info.engineId ?? 'none')
      .inspect()
      .then(() => true)
      .catch(() => false),
  cleanup: async (agents) => {
    for (const a of agents) await removeAll(a.agentId);
  },
  existingDir: '/root',
};

/** A unix socket in front of the Docker socket that can be cut and restored (an engine outage). */
class SocketProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(
    readonly path: string,
    private readonly target: string,
  ) {}

  start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    return new Promise((r) => server.listen(this.path, r));
  }

  cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    return new Promise((r) => (server ? server.close(() => r()) : r()));
  }
}

await describeWith(['docker'], 'DockerContainerizer', () => {
  containerizerContract(harness);

  describe('Docker-only behaviour', () => {
    const agents = new Agents(harness);
    // Ports the tasks listen on, free and outside the ephemeral range (no outgoing connection takes them).
    let HP = 0;
    let a: Agent;
    beforeAll(async () => {
      HP = await freePortsBelowEphemeral(10);
      a = agents.make({ agentPorts: [{ begin: HP, end: HP + 9 }] });
    });
    afterAll(() => agents.cleanup(), 60_000);

    it('ends FAILED with CONTAINER_LIMITATION_MEMORY when the task exceeds its memory limit', async () => {
      const req = launchRequest(a, shellTask("x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived"), { cpus: 0.5, mem: 16 });
      await a.c.launch(req);
      const end = await a.c.wait(refOf(req));
      expect(end).toMatchObject({ state: 'FAILED', reason: 'CONTAINER_LIMITATION_MEMORY' });
      expect(end.message).toContain('memory limit of 16 MiB');
      expect((await a.c.logs(refOf(req), 'stdout')).data.toString()).not.toContain('survived');
    });

    it('ends FAILED with a clear message when the image cannot be found or pulled', async () => {
      const missing = `stratus/missing-${randomUUID().slice(0, 8)}:latest`;
      const ifNotPresent = launchRequest(a, { name: 'img', command: { shell: true, value: 'true' }, container: { type: 'DOCKER', docker: { image: missing, network: 'HOST', pullPolicy: 'IF_NOT_PRESENT' } } });
      const never = launchRequest(a, { name: 'img', command: { shell: true, value: 'true' }, container: { type: 'DOCKER', docker: { image: missing, network: 'HOST', pullPolicy: 'NEVER' } } });
      // ALWAYS pulls even a present image: with no registry reachable that fails.
      const always = launchRequest(a, { name: 'img', command: { shell: true, value: 'true' }, container: { type: 'DOCKER', docker: { image: TEST_IMAGE, network: 'HOST', pullPolicy: 'ALWAYS' } } });
      const [s1, s2, s3] = await Promise.all([a.c.launch(ifNotPresent), a.c.launch(never), a.c.launch(always)]);
      expect(s1).toMatchObject({ state: 'FAILED', reason: 'CONTAINER_LAUNCH_FAILED' });
      expect(s1.message).toContain(`image '${missing}' could not be pulled`);
      expect(s2).toMatchObject({ state: 'FAILED', reason: 'CONTAINER_LAUNCH_FAILED' });
      expect(s2.message).toContain('pull policy is NEVER');
      expect(s3).toMatchObject({ state: 'FAILED', reason: 'CONTAINER_LAUNCH_FAILED' });
      expect(s3.message).toContain(`image '${TEST_IMAGE}' could not be pulled`);
      expect(a.rec.statuses(refOf(never)).map((s) => s.state)).toEqual(['STARTING', 'FAILED']);
      expect(await containersOf(a.agentId)).toEqual([]);
    });

    it('sets the CPU quota, memory limit, labels and host networking the task asks for', async () => {
      const req = launchRequest(a, shellTask('sleep 600', { labels: { team: 'infra' } }), { cpus: 0.5, mem: 32 });
      await a.c.launch(req);
      try {
        const id = a.c.containers().find((i) => i.taskId === req.taskId)?.engineId;
        const info = await docker.getContainer(id ?? 'none').inspect();
        expect(info.HostConfig.NanoCpus).toBe(500_000_000);
        expect(info.HostConfig.CpuShares).toBe(512);
        expect(info.HostConfig.Memory).toBe(32 * MiB);
        expect(info.HostConfig.MemorySwap).toBe(32 * MiB);
        expect(info.HostConfig.NetworkMode).toBe('host');
        expect(info.Config.Labels).toMatchObject({ team: 'infra', 'stratus.task_id': req.taskId, 'stratus.framework_id': FRAMEWORK, 'stratus.agent_id': a.agentId });
        expect(info.Config.Image).toBe(TEST_IMAGE);
      } finally {
        await a.c.destroy(refOf(req));
      }
    });

    it('uses no network when asked', async () => {
      const req = launchRequest(a, { name: 'none', command: { shell: true, value: 'ls /sys/class/net' }, container: { type: 'DOCKER', docker: { image: TEST_IMAGE, network: 'NONE', pullPolicy: 'NEVER' } } });
      await a.c.launch(req);
      expect((await a.c.wait(refOf(req))).state).toBe('FINISHED');
      expect((await a.c.logs(refOf(req), 'stdout')).data.toString()).toBe('lo\n');
    });

    it("runs argv commands as given and the image's default command when there is none", async () => {
      const argv = launchRequest(a, { name: 'argv', command: { shell: false, value: '/bin/echo', arguments: ['echo', 'a  b', '$HOME'] } });
      const image = launchRequest(a, { name: 'default', container: { type: 'DOCKER', docker: { image: TEST_IMAGE, network: 'NONE', pullPolicy: 'NEVER' } } });
      await Promise.all([a.c.launch(argv), a.c.launch(image)]);
      expect((await a.c.wait(refOf(argv))).state).toBe('FINISHED');
      expect((await a.c.logs(refOf(argv), 'stdout')).data.toString()).toBe('a  b $HOME\n');
      expect((await a.c.wait(refOf(image))).state).toBe('FINISHED');
    });

    it('refuses Docker-specific bad input with TASK_INVALID and creates no container', async () => {
      const docker = (image: string): Parameters<typeof launchRequest>[1] => ({ name: 'bad', command: { shell: true, value: 'true' }, container: { type: 'DOCKER', docker: { image, network: 'HOST', pullPolicy: 'NEVER' } } });
      const cases: [string, Parameters<typeof launchRequest>][] = [
        ['spec.container.docker.image', [a, docker('Not A Valid/Image!')]],
        ['spec.container.docker.image', [a, docker('')]],
        ['resources.mem', [a, shellTask('true'), { cpus: 0.1, mem: 4 }]],
        ['spec.container.type', [a, { name: 'mesos', command: { shell: true, value: 'true' }, container: { type: 'MESOS' } }]],
        ['spec.workingDir', [a, shellTask('true', { workingDir: 'relative/dir' })]],
        ['spec.healthCheck.type', [a, { ...docker(TEST_IMAGE), container: { type: 'DOCKER', docker: { image: TEST_IMAGE, network: 'NONE', pullPolicy: 'NEVER' } }, healthCheck: health({ type: 'TCP', tcp: { port: HP } }) }]],
      ];
      for (const [field, args] of cases) {
        const s = await a.c.launch(launchRequest(...args));
        expect(s, field).toMatchObject({ state: 'ERROR', reason: 'TASK_INVALID' });
        expect(s.message, field).toContain(field);
      }
      expect(await containersOf(a.agentId)).toEqual([]);
    });

    it('checks HTTP health on the host network', async () => {
      const server = 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 127.0.0.1:$PORT0 -h /www';
      const req = launchRequest(a, shellTask(server, { healthCheck: health({ type: 'HTTP', http: { port: HP, path: '/index.html', scheme: 'http' } }) }), { cpus: 0.1, mem: 32, ports: [{ begin: HP, end: HP }] });
      await a.c.launch(req);
      try {
        const s = await a.rec.status(refOf(req), (x) => x.healthy === true);
        expect(s.message).toContain('answered 200');
      } finally {
        await a.c.destroy(refOf(req));
      }
    });
  });

  describe('an unavailable Docker engine', () => {
    const dirs: string[] = [];
    const made: DockerContainerizer[] = [];
    const make = (socketPath: string, more: Partial<DockerContainerizerOptions> = {}): { c: DockerContainerizer; rec: Recorder; o: AgentOptions } => {
      const workDir = mkdtempSync(join(tmpdir(), 'stratus-ctz-'));
      dirs.push(workDir);
      const o = { agentId: toAgentId(`test-ctz-${randomUUID().slice(0, 12)}`), workDir };
      const c = new DockerContainerizer({ ...o, socketPath, defaultImage: TEST_IMAGE, engineRetryMs: 800, requestTimeoutMs: 500, engineCheckIntervalMs: 200, ...more });
      made.push(c);
      return { c, rec: new Recorder(c), o };
    };
    afterAll(async () => {
      for (const c of made) await c.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it('is reported UNHEALTHY when nothing listens, and launches fail cleanly', async () => {
      const sock = join(mkdtempSync(join(tmpdir(), 'stratus-sock-')), 'nothing.sock');
      dirs.push(sock.slice(0, sock.lastIndexOf('/')));
      const { c, rec, o } = make(sock);
      const h = await c.checkEngine();
      expect(h.state).toBe('UNHEALTHY');
      expect(h.message).toContain(sock);
      const s = await c.launch(launchRequest(o, shellTask('true')));
      expect(s).toMatchObject({ state: 'FAILED', reason: 'CONTAINER_LAUNCH_FAILED' });
      expect(s.message).toContain('unavailable');
      await expect(c.recover()).rejects.toBeInstanceOf(UnavailableError);
      // It keeps retrying in the background without flapping or throwing.
      const checks = c.stats().engineChecks;
      await waitUntil(() => c.stats().engineChecks >= checks + 3, 10_000, 'three more engine checks');
      expect(rec.engine().map((e) => e.state)).toEqual(['UNHEALTHY']);
    });

    it('is reported UNHEALTHY when the engine accepts connections but never answers', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'stratus-sock-'));
      dirs.push(dir);
      const sock = join(dir, 'hang.sock');
      const held: Socket[] = [];
      const server = createServer((s) => void held.push(s));
      await new Promise<void>((r) => server.listen(sock, r));
      try {
        const { c, o } = make(sock, { requestTimeoutMs: 300 });
        const t0 = Date.now();
        expect((await c.checkEngine()).state).toBe('UNHEALTHY');
        expect(Date.now() - t0).toBeLessThan(2_000);
        const s = await c.launch(launchRequest(o, shellTask('true')));
        expect(s).toMatchObject({ state: 'FAILED', reason: 'CONTAINER_LAUNCH_FAILED' });
      } finally {
        for (const s of held) s.destroy();
        await new Promise((r) => server.close(r));
      }
    });

    it('survives an engine outage: the task is not failed, streams re-attach, the exit and all output arrive', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'stratus-sock-'));
      dirs.push(dir);
      const proxy = new SocketProxy(join(dir, 'docker.sock'), DOCKER_SOCKET);
      await proxy.start();
      const { c, rec, o } = make(proxy.path, { requestTimeoutMs: 2_000, engineRetryMs: 5_000 });
      try {
        const req = launchRequest(o, shellTask('echo before; sleep 2; echo after'));
        expect((await c.launch(req)).state).toBe('RUNNING');
        await untilOutput(c, refOf(req), 'before');
        await proxy.cut();
        await rec.next((e) => e.type === 'engine' && e.health.state === 'UNHEALTHY', 3_000);
        // The container ends during the outage (the real engine sees it); nothing can be known through the cut socket.
        const engineId = c.containers().find((i) => i.taskId === req.taskId)?.engineId ?? 'none';
        await waitUntil(async () => (await docker.getContainer(engineId).inspect()).State.Status === 'exited', 15_000, 'the container to exit during the outage');
        expect(c.status(refOf(req))?.state).toBe('RUNNING');
        const mark = rec.events.length;
        await proxy.start();
        await rec.next((e) => e.type === 'engine' && e.health.state === 'HEALTHY' && rec.events.indexOf(e) >= mark, 5_000);
        const end = await rec.status(refOf(req), (s) => s.state === 'FINISHED', 10_000);
        expect(end.exitCode).toBe(0);
        expect((await c.logs(refOf(req), 'stdout')).data.toString()).toBe('before\nafter\n');
        expect(await containersOf(o.agentId)).toEqual([]);
      } finally {
        await c.close();
        await proxy.cut();
        await removeAll(o.agentId);
      }
    });
  });
});
