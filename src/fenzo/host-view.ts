import type { PortRange } from '../core/resources.js';
import type { HostTable } from './host-table.js';
import type { VirtualMachineCurrentState } from './plugin.js';
import type { RunningTask, TaskRequest } from './types.js';

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

/**
 * One reused view over the host table: the scheduler points it at a host before calling plugins,
 * so evaluating a host allocates nothing. Plugins must not keep it past the call.
 */
export class HostView implements VirtualMachineCurrentState {
  index = 0;

  constructor(private readonly table: HostTable) {}

  at(i: number): this {
    this.index = i;
    return this;
  }

  get hostname(): string {
    return this.table.leases[this.index]!.hostname;
  }
  get agentId(): string {
    return this.table.leases[this.index]!.agentId;
  }
  get attributes(): Readonly<Record<string, string>> {
    return this.table.leases[this.index]!.attributes ?? NO_ATTRIBUTES;
  }
  get freeCpus(): number {
    return this.table.freeCpus[this.index]!;
  }
  get freeMem(): number {
    return this.table.freeMem[this.index]!;
  }
  get freeDisk(): number {
    return this.table.freeDisk[this.index]!;
  }
  get freeNetwork(): number {
    return this.table.freeNetwork[this.index]!;
  }
  get freePorts(): number {
    return this.table.freePorts[this.index]!;
  }
  get freePortRanges(): readonly PortRange[] {
    return this.table.portRanges[this.index]!;
  }
  get totalCpus(): number {
    return this.table.totalCpus[this.index]!;
  }
  get totalMem(): number {
    return this.table.totalMem[this.index]!;
  }
  get totalDisk(): number {
    return this.table.totalDisk[this.index]!;
  }
  get totalNetwork(): number {
    return this.table.totalNetwork[this.index]!;
  }
  get taskCount(): number {
    return this.table.taskCount[this.index]!;
  }
  get runningTasks(): readonly RunningTask[] {
    return this.table.running[this.index]!;
  }
  get assignedTasks(): readonly TaskRequest[] {
    return this.table.assigned[this.index]!;
  }
}
