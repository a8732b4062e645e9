import { describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { CounterSync } from '../../../src/http/prometheus.js';
import { callLabel, MasterMetrics } from '../../../src/master-lambda/metrics.js';
import type { HttpRequest } from '../../../src/http/types.js';

// The master's metric definitions: names, labels, and how plain counts become counters.

const req = (method: string, body = ''): HttpRequest => ({ method, path: '/', query: new URLSearchParams(), headers: {}, body });

describe('MasterMetrics', () => {
  it('names every metric stratus_* with Prometheus units and one registry per master', async () => {
    const a = new MasterMetrics();
    const b = new MasterMetrics();
    a.offer('sent', 'f1', 2);
    expect((await b.offers.get()).values).toEqual([]);
    const names = (await a.registry.getMetricsAsJSON()).map((m) => m.name);
    for (const n of names) expect(n).toMatch(/^stratus_[a-z_]+$/);
    for (const n of names.filter((x) => x.includes('duration'))) expect(n).toMatch(/_seconds$/);
    expect(names).toEqual(expect.arrayContaining(['stratus_master_offers_total', 'stratus_master_task_transitions_total', 'stratus_master_store_requests_total', 'stratus_federation_gossip_digests_total', 'stratus_autoscaler_decisions_total']));
  });

  it('labels task transitions with the Mesos state, source and reason', async () => {
    const m = new MasterMetrics();
    m.taskStatus({ state: 'FAILED', source: 'SOURCE_EXECUTOR', reason: 'COMMAND_EXECUTOR_FAILED' });
    m.taskStatus({ state: 'RUNNING', source: 'SOURCE_EXECUTOR' });
    const v = (await m.taskTransitions.get()).values.map((x) => x.labels);
    expect(v).toEqual([
      { state: 'TASK_FAILED', source: 'SOURCE_EXECUTOR', reason: 'REASON_COMMAND_EXECUTOR_FAILED' },
      { state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', reason: '' },
    ]);
  });

  it('reads gossip and autoscaler counts at refresh, never moving back', async () => {
    const m = new MasterMetrics();
    const g = { sent: 3, received: 5, dropped: 1 };
    m.observeGossip(() => g);
    const empty = { tasks: {}, agents: {}, frameworks: { connected: 0, disconnected: 0 }, outstandingOffers: 0, resources: { total: { cpus: 0, mem: 0, disk: 0 }, used: { cpus: 0, mem: 0, disk: 0 }, offered: { cpus: 0, mem: 0, disk: 0 } }, shares: {} };
    const refresh = (): void => m.refresh(empty as never, { epoch: 1, elected: true, leader: false });
    refresh();
    g.sent = 4;
    refresh();
    const text = await m.registry.metrics();
    expect(text).toContain('stratus_federation_gossip_digests_total{direction="sent"} 4');
    expect(text).toContain('stratus_federation_gossip_digests_total{direction="received"} 5');
    expect(text).toContain('stratus_autoscaler_decisions_total{decision="scale_up"} 0');
  });
});

describe('CounterSync', () => {
  it('adds only the growth, and restarts from a smaller total without going back', async () => {
    const c = new Counter({ name: 'x_total', help: 'x', labelNames: ['k'] as const, registers: [new Registry()] });
    const s = new CounterSync(c);
    s.set({ k: 'a' }, 5);
    s.set({ k: 'a' }, 7);
    s.set({ k: 'a' }, 2); // the source was replaced
    s.set({ k: 'a' }, 3);
    expect((await c.get()).values[0]!.value).toBe(8);
  });
});

describe('callLabel', () => {
  it('names scheduler and operator calls by type, agents by action, and never echoes an unknown type', () => {
    expect(callLabel(req('POST', '{"type":"ACCEPT","accept":{}}'), { route: '/api/v1/scheduler' })).toBe('scheduler/ACCEPT');
    expect(callLabel(req('POST', '{"type": "GET_STATE"}'), { route: '/api/v1' })).toBe('operator/GET_STATE');
    expect(callLabel(req('POST', '{"type":"EVIL_LABEL"}'), { route: '/api/v1' })).toBe('operator/UNKNOWN');
    expect(callLabel(req('POST', 'not json'), { route: '/api/v1/scheduler' })).toBe('scheduler/UNKNOWN');
    expect(callLabel(req('POST'), { route: '/api/v1/agents/:agent/:action(heartbeat|work|status|authorize)', params: { agent: 'a1', action: 'work' } })).toBe('agent/work');
    expect(callLabel(req('POST'), { route: '/api/v1/agents/register', params: {} })).toBe('agent/register');
    expect(callLabel(req('HEAD'), { route: '/master/state' })).toBe('GET /master/state');
    expect(callLabel(req('GET'), {})).toBe('unmatched');
  });
});
