import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgent, type AgentDaemon } from '../agent/index.js';
import { federateInProcess, runningJobs, type InProcessFederation } from '../federation/index.js';
import { attachAutoscaler, createLocalScalingProvider, type AutoscalerController, type LocalScalingProvider } from '../autoscaler/index.js';
import { startJobsFramework, type JobsTiming, type RunningJobs } from '../jobs/index.js';
import { CredentialAuthenticator, generateDevCredentials } from '../http/credentials.js';
import { createLogger, type LogLevel } from '../core/logger.js';
import { Master } from '../master-lambda/master.js';
import { startLocalServer, type RunningServer } from '../master-lambda/local-server.js';
import { MemoryItemStore } from '../state/memory-item-store.js';

// A whole region (or several) on one machine, for `stratus dev`: the master handlers behind
// the local server on the in-memory Registry, three agents in zones a, b, c (Docker when an
// engine answers, host processes otherwise) and the built-in jobs framework; with several
// regions, an in-process gossip network between them.

export interface DevClusterOptions {
  readonly regions?: readonly string[];
  readonly port?: number;
  readonly host?: string;
  readonly agentsPerRegion?: number;
  readonly agentCpus?: number;
  readonly agentMem?: number;
  readonly containerizer?: 'auto' | 'docker' | 'process';
  readonly authenticate?: boolean;
  readonly workDir?: string;
  readonly logLevel?: LogLevel;
  /** Run the built-in jobs framework (default true). */
  readonly jobs?: boolean;
  /** The jobs framework's clocks (tests shorten them). */
  readonly jobsTiming?: Partial<JobsTiming>;
  readonly gossipIntervalMs?: number;
  /** Adds an autoscaled agent group 'burst' (1 CPU, 1 GiB hosts) of up to this many hosts, started and stopped locally. */
  readonly autoscaleMax?: number;
  /** Autoscaler rules file, instead of the default rules for 'burst'. */
  readonly autoscalerRules?: string;
}

export interface DevRegion {
  readonly name: string;
  readonly url: string;
  readonly master: Master;
  readonly server: RunningServer;
  readonly agents: AgentDaemon[];
  readonly agentPorts: readonly { begin: number; end: number }[];
  readonly jobs?: RunningJobs;
  readonly autoscaler?: { readonly autoscaler: AutoscalerController; readonly provider: LocalScalingProvider };
}

export interface DevCredentials {
  readonly framework: { principal: string; secret: string };
  readonly operator: { principal: string; secret: string };
  readonly agentToken: string;
}

export interface DevCluster {
  readonly regions: DevRegion[];
  readonly workDir: string;
  /** What runs tasks with an image: Docker when an engine answered at start. */
  readonly docker: boolean;
  readonly credentials?: DevCredentials;
  readonly federation?: InProcessFederation;
  stop(): Promise<void>;
}

const ZONES = ['a', 'b', 'c', 'd', 'e', 'f'];

/** Does a Docker engine answer on the socket? (The agents decide the same way.) */
export function dockerAnswers(socketPath = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock'): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 1500 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function startDevCluster(options: DevClusterOptions = {}): Promise<DevCluster> {
  const names = options.regions?.length ? [...options.regions] : ['local'];
  const perRegion = options.agentsPerRegion ?? 3;
  if (perRegion < 1 || perRegion > ZONES.length) throw new Error(`agents per region must be 1-${ZONES.length}`);
  const basePort = options.port ?? 5050;
  const host = options.host ?? '127.0.0.1';
  const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'stratus-dev-'));
  const ownsWorkDir = options.workDir === undefined;
  const logLevel = options.logLevel ?? 'warn';
  const docker = options.containerizer === 'process' ? false : await dockerAnswers();
  if (options.containerizer === 'docker' && !docker) throw new Error('--containerizer docker: no Docker engine answers at /var/run/docker.sock');

  const dev = options.authenticate ? generateDevCredentials() : undefined;
  const auth = dev ? new CredentialAuthenticator(dev.config) : undefined;
  const regions: DevRegion[] = [];
  let federation: InProcessFederation | undefined;

  const stop = async (): Promise<void> => {
    await federation?.stop();
    for (const r of regions) {
      await r.autoscaler?.autoscaler.stop().catch(() => undefined);
      await r.autoscaler?.provider.stop().catch(() => undefined);
      await r.jobs?.stop().catch(() => undefined);
      // Tasks end with the cluster: no containers or processes are left behind.
      await Promise.all(r.agents.map((a) => a.stop({ destroyTasks: true }).catch(() => undefined)));
      await r.master.stop().catch(() => undefined);
      await r.server.close().catch(() => undefined);
    }
    if (ownsWorkDir) rmSync(workDir, { recursive: true, force: true });
  };

  try {
    for (const [ri, name] of names.entries()) {
      const log = createLogger(`stratus-dev:${name}`, logLevel);
      const port = basePort === 0 ? 0 : basePort + ri;
      const master = new Master({ store: new MemoryItemStore(), log, config: { port, hostname: host, masterId: `stratus-dev-${name}` }, ...(auth ? { authenticator: auth } : {}) });
      const server = await startLocalServer(master, { port, host }).catch((e: NodeJS.ErrnoException) => {
        throw new Error(e.code === 'EADDRINUSE' ? `port ${port} is in use (another stratus dev?); choose another with --port` : e.message);
      });
      master.start();
      const region: DevRegion = { name, url: server.url, master, server, agents: [], agentPorts: [] };
      regions.push(region);
      for (let i = 0; i < perRegion; i++) {
        const zone = ZONES[i]!;
        const begin = 31000 + (ri * perRegion + i) * 1000;
        const ports = { begin, end: begin + 999 };
        const agent = createAgent({
          master: server.url,
          workDir: join(workDir, name, `agent-${zone}`),
          zone,
          group: 'dev',
          hostname: `${name}-agent-${zone}`,
          cpus: options.agentCpus ?? 2,
          mem: options.agentMem ?? 2048,
          ports: [ports],
          port: 0,
          host,
          containerizer: options.containerizer ?? 'auto',
          log: log.child({ agent: zone }),
          ...(dev ? { headers: { Authorization: `Bearer ${dev.agentToken}` } } : {}),
        });
        await agent.start();
        region.agents.push(agent);
        (region.agentPorts as { begin: number; end: number }[]).push(ports);
      }
      if (options.jobs !== false) {
        const jobs = await startJobsFramework({
          master: server.url,
          registry: master.registry,
          router: master.api,
          ...(options.jobsTiming ? { timing: options.jobsTiming } : {}),
          // Its own principal: a user's framework cannot subscribe as the jobs framework and take it over.
          ...(dev ? { credentials: dev.jobs } : {}),
          log: log.child({ component: 'jobs' }),
        });
        regions[regions.length - 1] = { ...region, jobs };
        if (options.autoscaleMax || options.autoscalerRules) {
          // Autoscaled hosts take port ranges beyond the static agents'.
          const zones = ZONES.slice(0, perRegion);
          const provider = createLocalScalingProvider({
            master: server.url,
            workDir: join(workDir, name, 'burst'),
            groups: { burst: { cpus: 1, mem: 1024, zones } },
            firstPort: 31000 + (names.length * perRegion + ri) * 1000,
            portsPerHost: 100,
            hostnamePrefix: name,
            host,
            log: log.child({ component: 'local-provider' }),
            ...(dev ? { headers: { Authorization: `Bearer ${dev.agentToken}` } } : {}),
          });
          const autoscaler = await attachAutoscaler(master, {
            provider,
            pendingTasks: () => jobs.pendingTasks(),
            ...(options.autoscalerRules ? { rulesFile: options.autoscalerRules } : {}),
          });
          if (!options.autoscalerRules) {
            await autoscaler.setRules(master.registry, {
              groups: [{ group: 'burst', minSize: 0, maxSize: options.autoscaleMax!, minIdle: 0, maxIdle: 0, scaleUpCooldownSeconds: 10, scaleDownCooldownSeconds: 30, shape: { cpus: 1, mem: 1024 }, zones }],
            });
          }
          regions[regions.length - 1] = { ...regions[regions.length - 1]!, autoscaler: { autoscaler, provider } };
        }
      }
    }
    if (regions.length > 1) {
      // With the jobs frameworks, federated jobs (one submission, several regions) work too.
      federation = federateInProcess(
        regions.map((r) => ({ name: r.name, master: r.master, api: r.url, ...(r.jobs ? { jobs: runningJobs(r.jobs) } : {}) })),
        { intervalMs: options.gossipIntervalMs ?? 2_000 },
      );
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    regions,
    workDir,
    docker,
    ...(dev ? { credentials: { framework: dev.framework, operator: dev.operator, agentToken: dev.agentToken } } : {}),
    ...(federation ? { federation } : {}),
    stop,
  };
}
