import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { resources } from '../../../src/core/resources.js';
import { ApiError } from '../../../src/wire/api-error.js';
import { agentRoutes, type AgentEndpointSource } from '../../../src/agent/agent-endpoint.js';
import { AgentMetrics } from '../../../src/agent/metrics.js';
import type { AgentEvent, AgentListener } from '../../../src/agent/agent-events.js';

// The agent's /metrics and /metrics/snapshot from the caller's side (operators only), and
// AgentMetrics from the agent's events.

function fakeAgent(grant: 'operator' | 'framework' | 'unauthenticated') {
  const listeners = new Set<AgentListener>();
  const tasks: { framework_id: string; task_id: string; state: string }[] = [];
  const metrics = new AgentMetrics({
    registered: () => true,
    tasks: () => tasks,
    pendingUpdates: () => [1, 2],
    total: () => resources({ cpus: 4, mem: 2048 }),
    subscribe: (l) => (listeners.add(l), () => listeners.delete(l)),
  });
  const source: AgentEndpointSource = {
    health: () => ({ healthy: true }),
    state: () => ({ tasks }),
    logs: () => Promise.reject(new Error('no logs')),
    authorize: async () => {
      if (grant === 'unauthenticated') throw new ApiError(401, 'who are you', 'authorization');
      return { operator: grant === 'operator', frameworks: new Set<string>() };
    },
    metrics,
  };
  const emit = (e: AgentEvent): void => listeners.forEach((l) => l(e));
  return { router: agentRoutes(source, silentLogger), emit, tasks, metrics };
}

const get = (path: string) => ({ method: 'GET', path, query: new URLSearchParams(), headers: { authorization: 'Basic x' }, body: '' });

describe('agent metrics endpoints', () => {
  it('refuse a framework credential (403) and no credential (401)', async () => {
    for (const path of ['/metrics', '/metrics/snapshot']) {
      expect((await fakeAgent('framework').router.handle(get(path))).status).toBe(403);
      expect((await fakeAgent('unauthenticated').router.handle(get(path))).status).toBe(401);
      expect((await fakeAgent('operator').router.handle(get(path))).status).toBe(200);
    }
  });

  it('time a launch from its work to TASK_RUNNING, count launch errors and terminal states', async () => {
    const a = fakeAgent('operator');
    const t = { framework_id: 'f', task_id: 't1' };
    a.emit({ type: 'work', at: 1000, launch: [{ ...t, resources: resources({ cpus: 1, mem: 128 }) }, { framework_id: 'f', task_id: 't2' }], kill: [], acks: 0 });
    a.emit({ type: 'work', at: 1500, launch: [t], kill: [], acks: 0 }); // the master repeats a launch: timed from the first
    a.emit({ type: 'status', at: 3000, update: { ...t, state: 'TASK_RUNNING', uuid: 'u1', timestamp: 1 } as never });
    a.emit({ type: 'status', at: 3100, update: { framework_id: 'f', task_id: 't2', state: 'TASK_FAILED', uuid: 'u2', timestamp: 1 } as never });
    a.tasks.push({ ...t, state: 'TASK_RUNNING' }, { framework_id: 'f', task_id: 't2', state: 'TASK_FAILED' });
    a.metrics.refresh();
    const text = await a.metrics.registry.metrics();
    expect(text).toContain('stratus_agent_task_launch_duration_seconds_sum 2');
    expect(text).toContain('stratus_agent_task_launch_duration_seconds_count 1');
    expect(text).toContain('stratus_agent_task_launch_errors_total 1');
    expect(text).toContain('stratus_agent_containers_running 1');
    expect(text).toContain('stratus_agent_status_updates_pending 2');
    const snap = a.metrics.snapshot();
    expect(snap).toMatchObject({ 'slave/tasks_running': 1, 'slave/tasks_failed': 1, 'slave/cpus_used': 1, 'slave/cpus_total': 4, 'slave/mem_used': 128, 'slave/container_launch_errors': 1 });
  });
});
