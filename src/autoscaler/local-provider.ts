import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createAgent as defaultCreateAgent, type AgentDaemon, type AgentOptions, type AgentTiming, type ContainerizerMode } from '../agent/index.js';
import { MAX_PORT } from '../core/resources.js';
import type { Logger } from '../core/logger.js';
import { ScalingProviderError, type HostRef, type ScalingProvider, type TerminateOutcome } from './provider.js';

// The local adapter, for `stratus dev`: a group's hosts are agent daemons in this process
// (process containerizer by default), each with its own work directory and its own range of
// task ports, so autoscaling can be watched on one machine. Growth starts daemons (in the zones
// it is told); a removal stops the chosen daemon, destroying its tasks, and deletes its work dir.
//
//   const local = createLocalScalingProvider({ master: server.url, workDir, groups: { default: { cpus: 2, mem: 2048, zones: ['a', 'b'] } } });
//   await local.growTo('default', 2, []);   // the initial hosts
//   const autoscaler = new AutoscalerController({ provider: local, pendingTasks: () => jobs.pendingTasks() });
//   ...
//   await local.stop();

export interface LocalGroupConfig {
  /** What each host of the group offers: cores, MiB, MiB. */
  readonly cpus: number;
  readonly mem: number;
  readonly disk?: number;
  /** Zones used when growth does not say; default ['local']. */
  readonly zones?: readonly string[];
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface LocalProviderOptions {
  /** The master's URL, or a function giving it (when the provider is built before the server listens). */
  readonly master: string | (() => string);
  /** Each host gets `<workDir>/<hostname>`. */
  readonly workDir: string;
  readonly groups: Readonly<Record<string, LocalGroupConfig>>;
  /** Default 'process' (no Docker needed). */
  readonly containerizer?: ContainerizerMode;
  /** Task ports per host, from `firstPort` on, one disjoint range per host. Defaults 100 and 31000. */
  readonly portsPerHost?: number;
  readonly firstPort?: number;
  /** Hostnames are `<prefix>-<group>-<n>`; default 'local'. */
  readonly hostnamePrefix?: string;
  /** Listen address of each agent's endpoint; default 127.0.0.1. */
  readonly host?: string;
  /** Extra headers on the agents' requests (the agent credential). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly timing?: AgentTiming;
  readonly log?: Logger;
  /** A daemon not registered after this is stopped and the growth fails (retried). Default 30 s. */
  readonly startTimeoutMs?: number;
  readonly keepWorkDirs?: boolean;
  /** How daemons are made (default the agent package's createAgent). */
  readonly createAgent?: (options: AgentOptions) => AgentDaemon;
}

export interface LocalHost {
  readonly group: string;
  readonly hostname: string;
  /** Also the `instance_id` attribute. */
  readonly instanceId: string;
  readonly zone: string;
  readonly workDir: string;
  readonly ports: { readonly begin: number; readonly end: number };
  readonly daemon: AgentDaemon;
  readonly agentId: string | undefined;
}

interface Entry {
  readonly group: string;
  readonly hostname: string;
  readonly zone: string;
  readonly slot: number;
  readonly workDir: string;
  readonly ports: { readonly begin: number; readonly end: number };
  readonly daemon: AgentDaemon;
}

export class LocalScalingProvider implements ScalingProvider {
  readonly kind = 'local';
  private readonly hostsByName = new Map<string, Entry>();
  private readonly usedSlots = new Set<number>();
  private serial = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly make: (options: AgentOptions) => AgentDaemon;

  constructor(private readonly options: LocalProviderOptions) {
    this.make = options.createAgent ?? defaultCreateAgent;
  }

  groups(): readonly string[] {
    return Object.keys(this.options.groups);
  }

  /** The daemons running now, of one group or all. */
  hosts(group?: string): LocalHost[] {
    return [...this.hostsByName.values()]
      .filter((e) => group === undefined || e.group === group)
      .map((e) => ({ group: e.group, hostname: e.hostname, instanceId: e.hostname, zone: e.zone, workDir: e.workDir, ports: e.ports, daemon: e.daemon, agentId: e.daemon.agentId }));
  }

  /** Growth and removal one at a time, so counts never race. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private config(group: string): LocalGroupConfig {
    const c = this.options.groups[group];
    if (!c) throw new ScalingProviderError(`agent group '${group}' is not configured for local hosts`, false, 'UnknownGroup');
    return c;
  }

  async desiredSize(group: string): Promise<number> {
    this.config(group);
    return this.hosts(group).length;
  }

  growTo(group: string, size: number, zones: readonly string[]): Promise<void> {
    return this.serialize(async () => {
      const config = this.config(group);
      const have = this.hosts(group).length;
      const fallback = config.zones && config.zones.length > 0 ? config.zones : ['local'];
      const starts: Promise<void>[] = [];
      for (let i = 0; have + i < size; i++) starts.push(this.startHost(group, config, zones[i] ?? fallback[(have + i) % fallback.length]!));
      const results = await Promise.allSettled(starts);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason instanceof ScalingProviderError ? failed.reason : new ScalingProviderError(`starting a local agent failed: ${(failed.reason as Error).message}`, true);
    });
  }

  private slot(): number {
    let s = 0;
    while (this.usedSlots.has(s)) s++;
    return s;
  }

  private async startHost(group: string, config: LocalGroupConfig, zone: string): Promise<void> {
    const per = this.options.portsPerHost ?? 100;
    const slot = this.slot();
    const begin = (this.options.firstPort ?? 31000) + slot * per;
    if (begin + per - 1 > MAX_PORT) throw new ScalingProviderError(`no task ports left for another local agent (slot ${slot})`, false, 'NoPorts');
    this.usedSlots.add(slot);
    const hostname = `${this.options.hostnamePrefix ?? 'local'}-${group}-${this.serial++}`;
    const workDir = join(this.options.workDir, hostname);
    const ports = { begin, end: begin + per - 1 };
    let daemon: AgentDaemon;
    try {
      daemon = this.make({
        master: typeof this.options.master === 'string' ? this.options.master : this.options.master(),
        workDir,
        zone,
        group,
        instanceId: hostname,
        instanceType: 'local',
        ec2Metadata: false,
        cpus: config.cpus,
        mem: config.mem,
        disk: config.disk ?? 1024,
        ports: [ports],
        hostname,
        port: 0,
        ...(this.options.host !== undefined ? { host: this.options.host } : {}),
        containerizer: this.options.containerizer ?? 'process',
        ...(config.attributes ? { attributes: config.attributes } : {}),
        ...(this.options.headers ? { headers: this.options.headers } : {}),
        ...(this.options.log ? { log: this.options.log.child({ agent: hostname }) } : {}),
        ...(this.options.timing ? { timing: this.options.timing } : {}),
      });
    } catch (e) {
      // Options the agent refuses (a bad size in the group's config): retrying will not help.
      this.usedSlots.delete(slot);
      throw new ScalingProviderError(`local agent ${hostname}: ${(e as Error).message}`, false, 'BadAgentOptions');
    }
    const entry: Entry = { group, hostname, zone, slot, workDir, ports, daemon };
    this.hostsByName.set(hostname, entry);
    const limit = this.options.startTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        daemon.start(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new ScalingProviderError(`local agent ${hostname} did not register within ${limit} ms`, true, 'StartTimeout')), limit);
        }),
      ]);
    } catch (e) {
      await this.remove(entry, true);
      throw e;
    } finally {
      clearTimeout(timer);
    }
    this.options.log?.info('local agent started', { group, hostname, zone, agentId: daemon.agentId, ports });
  }

  private async remove(entry: Entry, destroyTasks: boolean): Promise<void> {
    this.hostsByName.delete(entry.hostname);
    try {
      await entry.daemon.stop({ destroyTasks });
    } finally {
      this.usedSlots.delete(entry.slot);
      if (!this.options.keepWorkDirs) rmSync(entry.workDir, { recursive: true, force: true });
    }
  }

  terminate(host: HostRef): Promise<TerminateOutcome> {
    return this.serialize(async () => {
      const entry = [...this.hostsByName.values()].find((e) => (host.instanceId !== undefined && e.hostname === host.instanceId) || (e.daemon.agentId !== undefined && e.daemon.agentId === host.agentId));
      if (!entry) return 'gone';
      await this.remove(entry, true);
      this.options.log?.info('local agent stopped', { group: entry.group, hostname: entry.hostname, agentId: host.agentId });
      return 'terminated';
    });
  }

  /** Stops every daemon (by default destroying their tasks), e.g. when `stratus dev` exits. */
  stop(options: { readonly destroyTasks?: boolean } = {}): Promise<void> {
    return this.serialize(async () => {
      await Promise.all([...this.hostsByName.values()].map((e) => this.remove(e, options.destroyTasks ?? true)));
    });
  }
}

export function createLocalScalingProvider(options: LocalProviderOptions): LocalScalingProvider {
  return new LocalScalingProvider(options);
}
