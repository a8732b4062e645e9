import type { Agent } from '../../src/core/agent.js';
import { agentId } from '../../src/core/ids.js';
import { EMPTY, resources } from '../../src/core/resources.js';
import type { Logger } from '../../src/core/logger.js';
import { Master } from '../../src/master-lambda/master.js';
import { MemoryItemStore } from '../../src/state/memory-item-store.js';
import type { Registry } from '../../src/state/registry.js';

// A master that is not started (no timers), on a simulated clock, with agents written straight
// into its Registry: the autoscaler's use case runs against the real Registry and the real
// master use cases (drain, mark gone) with time under the test's control.

export interface LogRecord {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly context: Record<string, unknown>;
}

export function recordingLogger(records: LogRecord[] = []): Logger & { records: LogRecord[] } {
  const make = (base: Record<string, unknown>): Logger => ({
    debug: (m, c) => records.push({ level: 'debug', message: m, context: { ...base, ...c } }),
    info: (m, c) => records.push({ level: 'info', message: m, context: { ...base, ...c } }),
    warn: (m, c) => records.push({ level: 'warn', message: m, context: { ...base, ...c } }),
    error: (m, c) => records.push({ level: 'error', message: m, context: { ...base, ...c } }),
    child: (c) => make({ ...base, ...c }),
  });
  return Object.assign(make({}), { records });
}

export class SimWorld {
  // Near the real time: the in-memory store expires items (TTL) by the wall clock.
  now = Date.now();
  readonly log = recordingLogger();
  readonly master: Master;
  private serial = 0;

  constructor() {
    this.master = new Master({ store: new MemoryItemStore(), log: this.log, now: () => this.now, holderId: 'sim-leader' });
  }

  get registry(): Registry {
    return this.master.registry;
  }

  /** Takes the lease; returns the epoch that fences the leader's writes. */
  async lead(): Promise<number> {
    if (!(await this.master.lease.acquire())) throw new Error('could not take the lease');
    return this.master.lease.epoch!;
  }

  advance(ms: number): void {
    this.now += ms;
  }

  async addAgent(over: { group?: string; zone?: string; busy?: boolean; instanceId?: string; cpus?: number; mem?: number } = {}): Promise<Agent> {
    const id = agentId(`agent-${++this.serial}`);
    const agent: Agent = {
      id,
      hostname: `host-${this.serial}`,
      attributes: {
        group: over.group ?? 'general',
        zone: over.zone ?? 'a',
        ...(over.instanceId !== undefined ? { instance_id: over.instanceId } : {}),
      },
      total: resources({ cpus: over.cpus ?? 4, mem: over.mem ?? 8192 }),
      allocated: over.busy ? resources({ cpus: 1, mem: 512 }) : EMPTY,
      offered: EMPTY,
      reachability: 'REACHABLE',
      deactivated: false,
      registeredAt: this.now,
      session: `s-${this.serial}`,
    };
    await this.registry.transaction().putAgent(agent, 'absent').commit();
    return agent;
  }

  /** What the master's agent-health duty does once a draining agent has no task left. */
  async markDrained(agentId: string): Promise<void> {
    const a = (await this.registry.getAgent(agentId))!;
    if (!a.drain) throw new Error(`agent ${agentId} is not draining`);
    await this.registry.transaction().putAgent({ ...a, drain: { ...a.drain, state: 'DRAINED' } }, { version: a.version }).commit();
  }

  /** What the master's agent-health duty does when heartbeats stop. */
  async setUnreachable(agentId: string): Promise<void> {
    const a = (await this.registry.getAgent(agentId))!;
    await this.registry.transaction().putAgent({ ...a, reachability: 'UNREACHABLE', unreachableAt: this.now }, { version: a.version }).commit();
  }

  async setBusy(agentId: string, busy: boolean): Promise<void> {
    const a = (await this.registry.getAgent(agentId))!;
    await this.registry.transaction().putAgent({ ...a, allocated: busy ? resources({ cpus: 1, mem: 512 }) : EMPTY }, { version: a.version }).commit();
  }
}
