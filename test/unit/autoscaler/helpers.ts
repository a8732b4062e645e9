import type { GroupRule } from '../../../src/autoscaler/rules.js';
import type { HostActivity, HostState, PendingDemand } from '../../../src/autoscaler/decide.js';

// Builders for the decision function's plain-data input.

export function rule(over: Partial<GroupRule> = {}): GroupRule {
  return {
    group: 'general',
    minSize: 1,
    maxSize: 20,
    minIdle: 0,
    maxIdle: 1,
    scaleUpCooldownMs: 60_000,
    scaleDownCooldownMs: 300_000,
    shape: { cpus: 4, mem: 8192, disk: 0, ports: 0 },
    zones: [],
    drainBusy: false,
    drainTimeoutMs: 600_000,
    ...over,
  };
}

let n = 0;
export function host(activity: HostActivity, over: Partial<HostState> = {}): HostState {
  n++;
  return {
    agentId: `agent-${n}`,
    hostname: `host-${n}`,
    group: 'general',
    zone: 'a',
    activity,
    registeredAt: 0,
    removing: false,
    ...(activity === 'idle' ? { idleSince: 0 } : {}),
    ...over,
  };
}

export function tasks(count: number, at: number, over: Partial<PendingDemand> = {}): PendingDemand[] {
  return Array.from({ length: count }, (_, i) => ({ id: `job/${i}`, job: 'job', resources: { cpus: 1.5, mem: 1024, disk: 0, ports: 0 }, kind: 'resource' as const, at, ...over }));
}
