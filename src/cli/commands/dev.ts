import { startDevCluster } from '../dev-cluster.js';
import { parseFlags, UsageError, type Command, numberFlag } from '../command.js';
import type { LogLevel } from '../../core/logger.js';

// `stratus dev`: a whole region on this machine (the README's main command).

const usage = `usage: stratus dev [--port 5050] [--regions a,b,c] [--agents 3] [--agent-cpus 2] [--agent-mem 2048]
                  [--containerizer auto|docker|process] [--authenticate] [--work-dir DIR] [--log-level warn]
                  [--autoscale-max N] [--autoscaler-rules FILE]

Starts a local Stratus region: the master on http://127.0.0.1:5050 (Mesos's port) with the
in-memory Registry, three agents in zones a, b and c, and the built-in jobs framework. Tasks
with an image run in Docker when an engine answers; everything else runs as host processes.
With --regions, one region per name (masters on consecutive ports) gossiping in process.
With --authenticate, frameworks, agents and operators need the credentials it prints.
With --autoscale-max N, an agent group 'burst' (1 CPU, 1 GiB hosts) grows from 0 to N hosts
when jobs cannot be placed and shrinks when its hosts are idle (see stratus autoscaler activity).
Ctrl-C stops everything and removes the tasks' containers and processes.`;

export const devCommand: Command = {
  name: 'dev',
  summary: 'run a local region (master, 3 agents, jobs framework) on this machine',
  usage,
  async run(argv) {
    const { values } = parseFlags(
      argv,
      {
        port: { type: 'string', default: '5050' },
        host: { type: 'string', default: '127.0.0.1' },
        regions: { type: 'string' },
        agents: { type: 'string', default: '3' },
        'agent-cpus': { type: 'string', default: '2' },
        'agent-mem': { type: 'string', default: '2048' },
        containerizer: { type: 'string', default: 'auto' },
        authenticate: { type: 'boolean', default: false },
        'work-dir': { type: 'string' },
        'log-level': { type: 'string', default: 'warn' },
        'autoscale-max': { type: 'string' },
        'autoscaler-rules': { type: 'string' },
      },
      false,
    );
    const num = (flag: string, v: string, min: number, max: number): number => numberFlag(flag, v, { min, max })!;
    const containerizer = values.containerizer;
    if (containerizer !== 'auto' && containerizer !== 'docker' && containerizer !== 'process') throw new UsageError('--containerizer must be auto, docker or process');
    const logLevel = values['log-level'];
    if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new UsageError('--log-level must be debug, info, warn or error');
    const regions = values.regions?.split(',').map((r) => r.trim()).filter(Boolean);
    if (regions && new Set(regions).size !== regions.length) throw new UsageError('--regions names a region twice');
    if (regions?.some((r) => !/^[A-Za-z0-9_-]{1,40}$/.test(r))) throw new UsageError('--regions: a region name is 1-40 characters of A-Z a-z 0-9 _ -');

    const cluster = await startDevCluster({
      port: num('port', values.port, 0, 65535),
      host: values.host,
      ...(regions ? { regions } : {}),
      agentsPerRegion: num('agents', values.agents, 1, 6),
      agentCpus: num('agent-cpus', values['agent-cpus'], 0.1, 1024),
      agentMem: num('agent-mem', values['agent-mem'], 32, 1 << 24),
      containerizer,
      authenticate: values.authenticate,
      ...(values['work-dir'] ? { workDir: values['work-dir'] } : {}),
      logLevel: logLevel as LogLevel,
      ...(values['autoscale-max'] !== undefined ? { autoscaleMax: num('autoscale-max', values['autoscale-max'], 1, 50) } : {}),
      ...(values['autoscaler-rules'] ? { autoscalerRules: values['autoscaler-rules'] } : {}),
    });
    const out = (s = ''): boolean => process.stdout.write(s + '\n');
    out('Stratus dev cluster is up');
    for (const r of cluster.regions) {
      out(`  region ${r.name}: master ${r.url} (in-memory Registry)${r.jobs ? ', jobs framework subscribed' : ''}`);
      r.agents.forEach((a, i) => {
        const p = r.agentPorts[i]!;
        out(`    agent ${a.agentId}  zone ${String.fromCharCode(97 + i)}  ports ${p.begin}-${p.end}  ${a.endpoint ?? ''}`);
      });
    }
    if (cluster.regions.some((r) => r.autoscaler)) out(`  autoscaler: group 'burst' grows and shrinks on demand (npx stratus autoscaler activity)`);
    out(`  tasks with an image run in ${cluster.docker ? 'Docker' : 'host processes (no Docker engine answered)'}; command tasks run as host processes`);
    out(`  work directory ${cluster.workDir}`);
    if (cluster.credentials) {
      const c = cluster.credentials;
      out('  authentication is ON; credentials for this run:');
      out(`    framework  principal ${c.framework.principal}  secret ${c.framework.secret}`);
      out(`    operator   principal ${c.operator.principal}  secret ${c.operator.secret}`);
      out(`    agent token ${c.agentToken}`);
      out(`    for the CLI: export STRATUS_PRINCIPAL=${c.operator.principal} STRATUS_SECRET=${c.operator.secret}`);
    }
    const first = cluster.regions[0]!;
    out('');
    out('Try, in another terminal:');
    out(`  npx stratus run --master ${first.url} --name hello --instances 3 --cpus 0.1 --mem 32 -- 'echo hello from $PORT0; sleep 300'`);
    out(`  npx stratus jobs --master ${first.url}      npx stratus ps --master ${first.url}      npx stratus agents --master ${first.url}`);
    out(`  curl -s ${first.url}/master/state`);
    out('Ctrl-C stops everything.');

    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    out('stopping: killing tasks, stopping agents and the master...');
    await cluster.stop();
    out('stopped; nothing left running');
    return 0;
  },
};
