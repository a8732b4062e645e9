import type { Agent } from '../../src/core/agent.js';
import type { AgentId, FrameworkId, TaskId } from '../../src/core/ids.js';
import { EMPTY, resources } from '../../src/core/resources.js';
import type { Task } from '../../src/core/task.js';
import type { TaskState } from '../../src/core/task-state.js';
import type { Registry } from '../../src/state/registry.js';

// Agents and tasks for federation tests and the benchmark: realistic host names, zones and
// groups, and RUNNING tasks that register service endpoints.

export interface FleetShape {
  readonly agents: number;
  readonly zones?: number;
  readonly groups?: number;
  /** RUNNING tasks with a discovery name, one per agent up to this many. */
  readonly endpoints?: number;
  readonly service?: string;
}

export function fakeAgent(i: number, region: string, shape: Pick<FleetShape, 'zones' | 'groups'> = {}): Agent {
  const zones = shape.zones ?? 3;
  const groups = shape.groups ?? 4;
  return {
    id: `${region}-agent-${String(i).padStart(5, '0')}` as AgentId,
    hostname: `ip-10-${(i >> 8) & 255}-${i & 255}-${(i * 7) % 250}.${region}.compute.internal`,
    attributes: { zone: `${region}${String.fromCharCode(97 + (i % zones))}`, group: `group-${i % groups}` },
    total: resources({ cpus: 16, mem: 65536, disk: 500_000, network: 10_000 }),
    allocated: resources({ cpus: i % 5, mem: (i % 5) * 4096 }),
    offered: i % 7 === 0 ? resources({ cpus: 1, mem: 1024 }) : EMPTY,
    reachability: 'REACHABLE',
    deactivated: false,
    registeredAt: 0,
    session: 's1',
  };
}

export function fakeTask(agent: Agent, taskId: string, service: string | undefined, state: TaskState = 'RUNNING', ports: readonly number[] = [31000]): Task {
  return {
    frameworkId: 'federation-test-fw' as FrameworkId,
    taskId: taskId as TaskId,
    agentId: agent.id,
    role: '*',
    resources: resources({ cpus: 1, mem: 1024 }),
    spec: { name: taskId, ...(service ? { discovery: { name: service, ports: ports.map((n, i) => ({ number: n, ...(i === 0 ? { name: 'main' } : {}) })) } } : {}) },
    state,
    status: { state, source: 'SOURCE_AGENT', timestamp: 0 },
    pendingAcks: [],
    epoch: 1,
    createdAt: 0,
    updatedAt: 0,
  };
}

export function fleet(region: string, shape: FleetShape): { agents: Agent[]; tasks: Task[] } {
  const agents = Array.from({ length: shape.agents }, (_, i) => fakeAgent(i, region, shape));
  const tasks = agents
    .slice(0, shape.endpoints ?? 0)
    .map((a, i) => fakeTask(a, `${shape.service ?? 'svc'}.${i.toString(36).padStart(4, '0')}-5f3c7a1e-0b2d-4e6f-9a8b-${String(i).padStart(12, '0')}`, shape.service ?? 'svc', 'RUNNING', [31000 + (i % 1000)]));
  return { agents, tasks };
}

/** Writes a fleet into a Registry (in transactions of up to 100 items). */
export async function seedFleet(registry: Registry, f: { agents: readonly Agent[]; tasks: readonly Task[] }): Promise<void> {
  const items: ((tx: ReturnType<Registry['transaction']>) => void)[] = [
    ...f.agents.map((a) => (tx: ReturnType<Registry['transaction']>) => void tx.putAgent(a, 'any')),
    ...f.tasks.map((t) => (tx: ReturnType<Registry['transaction']>) => void tx.putTask(t, 'any')),
  ];
  for (let i = 0; i < items.length; i += 100) {
    const tx = registry.transaction();
    for (const add of items.slice(i, i + 100)) add(tx);
    await tx.commit();
  }
}
