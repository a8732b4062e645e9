import { describe, expect, it } from 'vitest';
import type { ClusterAgent } from '../../../src/jobs/agents.js';
import { place, type PendingInstance } from '../../../src/jobs/placement.js';
import { parseJobSpec, type JobSpec } from '../../../src/jobs/spec.js';
import { buildTaskInfo } from '../../../src/jobs/task-info.js';
import type { Offer } from '../../../src/sdk/index.js';

// Placement from offers with Fenzo, and the TaskInfo an assignment becomes.

function offer(id: string, agentId: string, zone: string | undefined, cpus: number, mem = 4096, ports = [{ begin: 31000, end: 31009 }]): Offer {
  return {
    id,
    frameworkId: 'f',
    agentId,
    hostname: `host-${agentId}`,
    role: '*',
    resources: { cpus, mem, disk: 0, network: 0, ports },
    attributes: zone ? { zone } : {},
    rawResources: [],
  };
}

function pending(spec: JobSpec, n: number): PendingInstance[] {
  return Array.from({ length: n }, (_, i) => ({ key: `${spec.name}/${i}`, spec }));
}

const none = new Map<string, ClusterAgent>();

describe('place', () => {
  it('merges offers per agent and spreads a job over zones (hard)', () => {
    const spec = parseJobSpec({ name: 'web', instances: 6, cpus: 0.5, mem: 64, command: 'c' });
    const offers = [offer('o1', 'A', 'a', 2), offer('o2', 'A', 'a', 2), offer('o3', 'B', 'b', 4), offer('o4', 'C', 'c', 4)];
    const { result, leases } = place({ pending: pending(spec, 6), offers, placed: [], agents: none });
    expect(result.failures).toEqual([]);
    const perZone: Record<string, number> = {};
    for (const a of result.assignments) perZone[leases.get(a.agentId)!.attributes.zone!] = (perZone[leases.get(a.agentId)!.attributes.zone!] ?? 0) + 1;
    expect(perZone).toEqual({ a: 2, b: 2, c: 2 });
    expect(leases.get('A')!.offerIds).toEqual(['o1', 'o2']);
  });

  it('counts running instances, so replacements go where the job is thin', () => {
    const spec = parseJobSpec({ name: 'web', instances: 3, cpus: 0.5, mem: 64, command: 'c' });
    const offers = [offer('o1', 'A', 'a', 4), offer('o2', 'B', 'b', 4), offer('o3', 'C', 'c', 4)];
    const placed = [
      { taskId: 't0', spec, hostname: 'host-A' },
      { taskId: 't1', spec, hostname: 'host-B' },
    ];
    const { result } = place({ pending: [{ key: 'web/2', spec }], offers, placed, agents: none });
    expect(result.assignments[0]!.agentId).toBe('C');
  });

  it('explains what it cannot place, per job, without holding up other jobs', () => {
    const stuck = parseJobSpec({ name: 'stuck', instances: 1, cpus: 0.1, mem: 32, command: 'c', constraints: [{ type: 'hostAttribute', attribute: 'zone', values: ['z9'] }] });
    const ok = parseJobSpec({ name: 'ok', instances: 1, cpus: 0.1, mem: 32, command: 'c' });
    const { result } = place({ pending: [...pending(stuck, 1), ...pending(ok, 1)], offers: [offer('o1', 'A', 'a', 1)], placed: [], agents: none });
    expect(result.assignments.map((a) => a.taskId)).toEqual(['ok/0']);
    expect(result.failures[0]).toMatchObject({ taskId: 'stuck/0', reasons: [{ kind: 'constraint', constraint: 'HostAttrValueConstraint[zone]', hosts: 1 }] });
  });

  it('skips zone balance on a cluster without zones, and keeps one task per host with uniqueHost', () => {
    const spec = parseJobSpec({ name: 'u', instances: 3, cpus: 0.1, mem: 32, command: 'c', constraints: [{ type: 'uniqueHost' }] });
    const { result } = place({ pending: pending(spec, 3), offers: [offer('o1', 'A', undefined, 4), offer('o2', 'B', undefined, 4)], placed: [], agents: none });
    expect(result.assignments.map((a) => a.agentId).sort()).toEqual(['A', 'B']);
    expect(result.failures[0]!.reasons).toContainEqual(expect.objectContaining({ kind: 'constraint', constraint: 'UniqueHostAttrConstraint[hostname]' }));
  });

  it('knows the zones of agents with no offer out (a full zone holds hard balance back)', () => {
    const spec = parseJobSpec({ name: 'web', instances: 2, cpus: 0.5, mem: 64, command: 'c' });
    const full: ClusterAgent = { agentId: 'C', hostname: 'host-C', attributes: { zone: 'c' }, total: { cpus: 4, mem: 4096, disk: 0, ports: 10 }, reachable: true };
    const offers = [offer('o1', 'A', 'a', 4), offer('o2', 'B', 'b', 4)];
    // a has one, b and c none: the first goes to b; the second may only go to c, which has no room.
    const hard = place({ pending: pending(spec, 2), offers, placed: [{ taskId: 'x', spec, hostname: 'host-A' }], agents: new Map([['C', full]]) });
    expect(hard.result.assignments.map((a) => a.agentId)).toEqual(['B']);
    expect(hard.result.failures[0]!.reasons).toEqual([expect.objectContaining({ kind: 'constraint', constraint: 'BalancedHostAttrConstraint[zone]', hosts: 2 })]);
    const soft = parseJobSpec({ name: 'web', instances: 2, cpus: 0.5, mem: 64, command: 'c', zoneSpread: 'soft' });
    expect(place({ pending: pending(soft, 2), offers, placed: [], agents: new Map([['C', full]]) }).result.assignments).toHaveLength(2);
  });
});

describe('buildTaskInfo', () => {
  it('builds a Docker task with ports, environment, labels, health check and kill grace', () => {
    const spec = parseJobSpec({
      name: 'web',
      instances: 1,
      cpus: 0.5,
      mem: 64,
      ports: 2,
      image: 'stratus/busybox:latest',
      command: ['httpd', '-f'],
      env: { MODE: 'prod' },
      labels: { team: 'infra' },
      healthCheck: { type: 'http', portIndex: 1, path: '/health' },
      killGraceSeconds: 2,
    });
    const info = buildTaskInfo(spec, 3, {
      taskId: 'web.3.x',
      agentId: 'A',
      hostname: 'h1',
      resources: { cpus: 500, mem: 64, disk: 0, network: 0, ports: [{ begin: 31000, end: 31001 }] },
      role: '*',
    });
    expect(info.resources).toEqual([
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 }, allocation_info: { role: '*' } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 64 }, allocation_info: { role: '*' } },
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31001 }] }, allocation_info: { role: '*' } },
    ]);
    expect(info.container).toEqual({ type: 'DOCKER', docker: { image: 'stratus/busybox:latest', network: 'HOST' } });
    expect(info.command).toMatchObject({ shell: false, value: 'httpd', arguments: ['httpd', '-f'] });
    const env = Object.fromEntries(info.command!.environment!.variables.map((v) => [v.name, v.value]));
    expect(env).toMatchObject({ MODE: 'prod', PORT0: '31000', PORT1: '31001', PORT: '31000', PORTS: '31000,31001', HOST: 'h1', STRATUS_JOB: 'web', STRATUS_INSTANCE: '3' });
    expect(info.health_check).toEqual({ type: 'HTTP', http: { port: 31001, path: '/health' } });
    expect(info.kill_policy).toEqual({ grace_period: { nanoseconds: 2e9 } });
    expect(info.labels!.labels).toContainEqual({ key: 'stratus.job', value: 'web' });
    expect(info.name).toBe('web.3');
  });
});
