import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../../../src/agent/index.js';
import { readEc2Identity } from '../../../../src/agent/ec2-metadata.js';
import { diskToOffer, memoryToOffer, parseAttributes, parsePortRanges } from '../../../../src/agent/host-resources.js';
import { resolveAgent } from '../../../../src/agent/options.js';
import { UsageError } from '../../../../src/cli/command.js';
import { agentCommand } from '../../../../src/cli/commands/agent.js';
import { lastLines, locateTask, logsCommand } from '../../../../src/cli/commands/logs.js';
import { silentLogger } from '../../../../src/core/logger.js';
import { startTestMaster, type TestMaster } from '../../../support/agent-cluster.js';
import { waitUntil } from '../../../support/wait.js';

// The agent's flags and host detection, the EC2 metadata client (against a local stand-in,
// never 169.254.169.254), and `stratus logs`'s lookup of a task's agent.

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

async function serve(handler: Handler): Promise<{ url: string; server: Server; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits.push(`${req.method} ${req.url}`);
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, hits };
}

const servers: Server[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function imds(): Handler {
  return (req, _body, res) => {
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      expect(req.headers['x-aws-ec2-metadata-token-ttl-seconds']).toBeDefined();
      res.end('TOKEN');
      return;
    }
    if (req.headers['x-aws-ec2-metadata-token'] !== 'TOKEN') {
      res.writeHead(401).end();
      return;
    }
    const values: Record<string, string> = {
      '/latest/meta-data/placement/availability-zone': 'eu-west-1b',
      '/latest/meta-data/instance-id': 'i-0123456789abcdef0',
      '/latest/meta-data/instance-type': 'm7g.large',
      '/latest/meta-data/local-ipv4': '10.0.3.7',
    };
    const v = values[req.url ?? ''];
    if (v === undefined) res.writeHead(404).end();
    else res.end(v);
  };
}

describe('agent flags and host resources', () => {
  it('parses port ranges and attributes as Mesos writes them', () => {
    expect(parsePortRanges('31000-32000')).toEqual([{ begin: 31000, end: 32000 }]);
    expect(parsePortRanges('[31000-31099, 31050-31200, 40000]')).toEqual([{ begin: 31000, end: 31200 }, { begin: 40000, end: 40000 }]);
    expect(() => parsePortRanges('32000-31000')).toThrow(/begin <= end/);
    expect(() => parsePortRanges('abc')).toThrow(/not a port/);
    expect(() => parsePortRanges('0-10')).toThrow(/1-65535/);
    expect(parseAttributes('rack:r1; os:linux')).toEqual({ rack: 'r1', os: 'linux' });
    expect(() => parseAttributes('novalue')).toThrow(/name:value/);
  });

  it('leaves the host a reserve of memory and disk, as Mesos does', () => {
    expect(memoryToOffer(16_384)).toBe(15_360);
    expect(memoryToOffer(1_024)).toBe(512);
    expect(diskToOffer(100_000)).toBe(94_880);
    expect(diskToOffer(4_000)).toBe(2_000);
  });

  it('refuses bad flags and options with a message naming them', async () => {
    await expect(agentCommand.run(['--containerizer', 'lxc'])).rejects.toThrow(UsageError);
    await expect(agentCommand.run(['--ports', '9-x'])).rejects.toThrow(/--ports/);
    await expect(agentCommand.run(['--cpus', 'many'])).rejects.toThrow(/--cpus must be a number/);
    await expect(agentCommand.run(['--cpus', '-1', '--zone', 'a', '--work-dir', '/tmp/none'])).rejects.toThrow(/cpus/);
    await expect(logsCommand.run([])).rejects.toThrow(UsageError);
    await expect(logsCommand.run(['t1', '--tail', 'x'])).rejects.toThrow(/--tail/);
    expect(() => createAgent({ master: 'not a url', workDir: '/tmp/x' })).toThrow(/master/);
    expect(() => createAgent({ master: 'http://m', workDir: '/tmp/x', mem: -5 })).toThrow(/mem/);
  });

  it('takes one work dir per agent', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'stratus-agent-lock-'));
    dirs.push(workDir);
    const master = await serve((_req, _body, res) => res.writeHead(503).end());
    servers.push(master.server);
    const opts = { master: master.url, workDir, zone: 'a', cpus: 1, mem: 128, disk: 0, port: 0, containerizer: 'process' as const, log: silentLogger };
    const first = createAgent(opts);
    const starting = first.start().catch((e: Error) => e);
    // The first agent holds the dir while it keeps trying to register (it locks before it asks).
    await waitUntil(() => master.hits.length > 0, 10_000, 'the first agent to try to register');
    await expect(createAgent(opts).start()).rejects.toThrow(/in use/);
    await first.stop();
    expect(String(await starting)).toMatch(/stopped before it registered/);
  });
});

describe('EC2 instance metadata (IMDSv2)', () => {
  let meta: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    meta = await serve(imds());
    servers.push(meta.server);
  });

  it('reads zone, instance id, type and address with a session token', async () => {
    expect(await readEc2Identity({ endpoint: meta.url })).toEqual({ zone: 'eu-west-1b', instanceId: 'i-0123456789abcdef0', instanceType: 'm7g.large', localIpv4: '10.0.3.7' });
  });

  it('answers undefined quickly when nothing answers (not on EC2)', async () => {
    const silent = await serve(() => undefined);
    servers.push(silent.server);
    const t0 = Date.now();
    expect(await readEc2Identity({ endpoint: silent.url, timeoutMs: 300 })).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(await readEc2Identity({ endpoint: 'http://127.0.0.1:9' })).toBeUndefined();
  });

  it('is asked for the zone only when no zone is given (or when told to)', async () => {
    const base = { master: 'http://127.0.0.1:1', workDir: tmpdir(), cpus: 1, mem: 64, disk: 0, metadataEndpoint: meta.url };
    meta.hits.length = 0;
    const flagged = await resolveAgent({ ...base, zone: 'a', group: 'g' }, silentLogger);
    expect(meta.hits).toEqual([]);
    expect(flagged.attributes).toEqual({ zone: 'a', group: 'g' });
    const onEc2 = await resolveAgent(base, silentLogger);
    expect(onEc2.attributes).toEqual({ zone: 'eu-west-1b', instance_type: 'm7g.large', instance_id: 'i-0123456789abcdef0' });
    const both = await resolveAgent({ ...base, zone: 'a', ec2Metadata: true }, silentLogger);
    expect(both.attributes).toMatchObject({ zone: 'a', instance_type: 'm7g.large' });
  });
});

describe('stratus logs', () => {
  let tm: TestMaster;
  beforeAll(async () => {
    tm = await startTestMaster();
  });
  afterAll(() => tm.close());

  it('keeps the last lines', () => {
    expect(lastLines(Buffer.from('a\nb\nc\n'), 2).toString()).toBe('b\nc\n');
    expect(lastLines(Buffer.from('a\nb\nc'), 1).toString()).toBe('c');
    expect(lastLines(Buffer.from('a\nb\n'), 5).toString()).toBe('a\nb\n');
    expect(lastLines(Buffer.from('a\n'), 0).toString()).toBe('');
  });

  it('says clearly when the master does not know the task', async () => {
    await expect(locateTask(tm.url, 'no-such-task', undefined)).rejects.toThrow(/task no-such-task is not known to the master/);
  });

  it('asks for --framework when several frameworks have the task id, and finds the agent endpoint', async () => {
    const answers: Record<string, unknown> = {
      GET_TASKS: {
        type: 'GET_TASKS',
        get_tasks: {
          tasks: [
            { task_id: { value: 'web' }, framework_id: { value: 'f1' }, agent_id: { value: 'a1' }, state: 'TASK_RUNNING' },
            { task_id: { value: 'web' }, framework_id: { value: 'f2' }, agent_id: { value: 'a2' }, state: 'TASK_RUNNING' },
          ],
          completed_tasks: [{ task_id: { value: 'web' }, framework_id: { value: 'f1' }, agent_id: { value: 'a0' }, state: 'TASK_FINISHED' }],
        },
      },
      GET_AGENTS: {
        type: 'GET_AGENTS',
        get_agents: { agents: [{ agent_info: { id: { value: 'a1' }, hostname: 'h1' }, endpoint: 'http://h1:5051/' }, { agent_info: { id: { value: 'a2' }, hostname: 'h2' }, pid: 'slave(1)@10.0.0.2:5051' }] },
      },
    };
    const op = await serve((_req, body, res) => res.end(JSON.stringify(answers[(JSON.parse(body) as { type: string }).type])));
    servers.push(op.server);
    await expect(locateTask(op.url, 'web', undefined)).rejects.toThrow(/several frameworks \(f1, f2\); pass --framework/);
    expect(await locateTask(op.url, 'web', 'f1')).toEqual({ frameworkId: 'f1', agent: 'http://h1:5051' });
    expect(await locateTask(op.url, 'web', 'f2')).toEqual({ frameworkId: 'f2', agent: 'http://10.0.0.2:5051' });
  });
});
