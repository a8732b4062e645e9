import { describe, expect, it } from 'vitest';
import { activityOf, hostStates, pendingDemand } from '../../../src/autoscaler/decision-input.js';
import type { Agent } from '../../../src/core/agent.js';
import { agentId } from '../../../src/core/ids.js';
import { EMPTY, resources } from '../../../src/core/resources.js';
import type { PendingTask } from '../../../src/jobs/views.js';

// How agents and pending tasks look to the decision function.

function agent(over: Partial<Agent> = {}): Agent {
  return {
    id: agentId('agent-1'),
    hostname: 'host-1',
    attributes: { group: 'general', zone: 'a', instance_id: 'i-1', instance_type: 'm5.large' },
    total: resources({ cpus: 4, mem: 8192 }),
    allocated: EMPTY,
    offered: EMPTY,
    reachability: 'REACHABLE',
    deactivated: false,
    registeredAt: 5,
    session: 's-1',
    ...over,
  };
}

describe('decision input', () => {
  it('tells idle, busy, draining and unreachable hosts apart', () => {
    expect(activityOf(agent())).toBe('idle');
    expect(activityOf(agent({ allocated: resources({ cpus: 1 }) }))).toBe('busy');
    expect(activityOf(agent({ deactivated: true }))).toBe('draining');
    expect(activityOf(agent({ reachability: 'UNREACHABLE' }))).toBe('unreachable');
  });

  it('gives every host that is not gone its group, zone, instance id, attributes and idle time', () => {
    const states = hostStates([agent(), agent({ id: agentId('agent-2'), reachability: 'GONE' })], new Set(['agent-1']), new Map([['agent-1', 3]]));
    expect(states).toEqual([
      { agentId: 'agent-1', hostname: 'host-1', group: 'general', zone: 'a', instanceId: 'i-1', activity: 'idle', idleSince: 3, registeredAt: 5, removing: true, attributes: agent().attributes },
    ]);
  });

  it('keeps a pending task\'s job, zone spread and constraints for the scheduler', () => {
    const t: PendingTask = {
      job: 'web',
      instance: 2,
      resources: { cpus: 1, mem: 512, disk: 0, ports: 1 },
      zoneSpread: 'hard',
      constraints: [{ type: 'hostAttribute', attribute: 'group', values: ['general'] }, { type: 'uniqueHost' }],
      reasons: [],
      message: 'cpus short',
      kind: 'resource',
      at: 7,
    };
    expect(pendingDemand(t)).toEqual({ id: 'web/2', job: 'web', resources: t.resources, zoneSpread: 'hard', constraints: t.constraints, kind: 'resource', at: 7 });
  });
});
