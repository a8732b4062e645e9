import { describe, expect, it } from 'vitest';
import type { ClusterAgent } from '../../../src/jobs/agents.js';
import { checkPlaceable } from '../../../src/jobs/fit.js';
import { mergeJobUpdate, needsRollingUpdate, parseJobSpec } from '../../../src/jobs/spec.js';
import { fieldOf } from '../../support/validation.js';

// Job spec validation: defaults, field-naming errors, updates, and the cluster-aware checks.


const base = { name: 'web', instances: 2, cpus: 0.5, mem: 64, command: 'serve' };

function agent(cpus: number, mem: number, attributes: Record<string, string> = {}, ports = 100): ClusterAgent {
  return { agentId: `a${cpus}-${mem}`, hostname: 'h', attributes, total: { cpus, mem, disk: 10_000, ports }, reachable: true };
}

describe('parseJobSpec', () => {
  it('fills in the defaults', () => {
    expect(parseJobSpec(base)).toEqual({
      ...base,
      type: 'service',
      disk: 0,
      ports: 0,
      env: {},
      labels: {},
      zoneSpread: 'hard',
      constraints: [],
      maxUnavailable: 1,
      retries: 3,
    });
  });

  it('names the offending field', () => {
    expect(fieldOf(() => parseJobSpec({ ...base, instances: 0 }))).toBe('instances');
    expect(fieldOf(() => parseJobSpec({ ...base, instances: 1.5 }))).toBe('instances');
    expect(fieldOf(() => parseJobSpec({ ...base, cpus: 0 }))).toBe('cpus');
    expect(fieldOf(() => parseJobSpec({ ...base, disk: -1 }))).toBe('disk');
    expect(fieldOf(() => parseJobSpec({ ...base, ports: 65 }))).toBe('ports');
    expect(fieldOf(() => parseJobSpec({ ...base, env: { 'BAD-NAME': 'x' } }))).toBe('env.BAD-NAME');
    // JSON.parse keeps '__proto__' as a key; it is refused, never silently dropped.
    expect(fieldOf(() => parseJobSpec({ ...base, labels: JSON.parse('{"__proto__":"x","team":"a"}') as Record<string, string> }))).toBe('labels.__proto__');
    expect(fieldOf(() => parseJobSpec({ ...base, env: JSON.parse('{"__proto__":"x"}') as Record<string, string> }))).toBe('env.__proto__');
    expect(fieldOf(() => parseJobSpec({ ...base, constraints: [{ type: 'uniqueHost', hard: true }] }))).toBe('constraints[0].hard');
    expect(fieldOf(() => parseJobSpec({ ...base, constraints: [{ type: 'hostAttribute', attribute: 'zone', values: [] }] }))).toBe('constraints[0].values');
    expect(fieldOf(() => parseJobSpec({ ...base, healthCheck: { type: 'http' } }))).toBe('healthCheck.portIndex');
    expect(fieldOf(() => parseJobSpec({ ...base, healthCheck: { type: 'http', portIndex: 0 } }))).toBe('healthCheck.portIndex');
    expect(fieldOf(() => parseJobSpec({ ...base, command: undefined }))).toBe('command');
    expect(fieldOf(() => parseJobSpec([]))).toBe('body');
  });

  it('takes an argv command and an image without a command', () => {
    expect(parseJobSpec({ ...base, command: ['sh', '-c', 'echo hi'] }).command).toEqual(['sh', '-c', 'echo hi']);
    expect(parseJobSpec({ ...base, command: undefined, image: 'stratus/busybox:latest' }).image).toBe('stratus/busybox:latest');
  });
});

describe('mergeJobUpdate', () => {
  const current = parseJobSpec({ ...base, env: { A: '1', B: '2' } });

  it('applies only the given fields and tells a scale from a rolling update', () => {
    const scaled = mergeJobUpdate(current, { instances: 5 });
    expect(scaled).toEqual({ ...current, instances: 5 });
    expect(needsRollingUpdate(current, scaled)).toBe(false);
    expect(needsRollingUpdate(current, mergeJobUpdate(current, { maxUnavailable: 3 }))).toBe(false);
    expect(needsRollingUpdate(current, mergeJobUpdate(current, { command: 'serve v2' }))).toBe(true);
    expect(needsRollingUpdate(current, mergeJobUpdate(current, { image: 'stratus/busybox:latest' }))).toBe(true);
    // The same environment written in another order is no change.
    expect(needsRollingUpdate(current, mergeJobUpdate(current, { env: { B: '2', A: '1' } }))).toBe(false);
  });

  it('allows scaling to zero but not changing name or type', () => {
    expect(mergeJobUpdate(current, { instances: 0 }).instances).toBe(0);
    expect(fieldOf(() => mergeJobUpdate(current, { name: 'other' }))).toBe('name');
    expect(fieldOf(() => mergeJobUpdate(current, { type: 'batch' }))).toBe('type');
    expect(fieldOf(() => mergeJobUpdate(current, { instances: -1 }))).toBe('instances');
  });
});

describe('checkPlaceable', () => {
  const agents = [agent(4, 4096, { zone: 'a' }), agent(8, 1024, { zone: 'b' })];

  it('accepts anything when no agent is known yet', () => {
    expect(() => checkPlaceable(parseJobSpec({ ...base, cpus: 1000 }), [])).not.toThrow();
  });

  it('refuses what no single agent can hold, naming the resource', () => {
    expect(fieldOf(() => checkPlaceable(parseJobSpec({ ...base, cpus: 16 }), agents))).toBe('cpus');
    expect(fieldOf(() => checkPlaceable(parseJobSpec({ ...base, mem: 8192 }), agents))).toBe('mem');
    expect(fieldOf(() => checkPlaceable(parseJobSpec({ ...base, ports: 64 }), [agent(4, 4096, {}, 10)]))).toBe('ports');
    // Each alone fits some agent, but no agent has both.
    expect(fieldOf(() => checkPlaceable(parseJobSpec({ ...base, cpus: 6, mem: 2048 }), agents))).toBe('cpus');
    expect(() => checkPlaceable(parseJobSpec({ ...base, cpus: 4, mem: 4096 }), agents)).not.toThrow();
  });

  it('refuses a constraint on an attribute no agent has', () => {
    const spec = parseJobSpec({ ...base, constraints: [{ type: 'uniqueHost' }, { type: 'hostAttribute', attribute: 'rack', values: ['r1'] }] });
    expect(fieldOf(() => checkPlaceable(spec, agents))).toBe('constraints[1].attribute');
    expect(() => checkPlaceable(parseJobSpec({ ...base, constraints: [{ type: 'hostAttribute', attribute: 'zone', values: ['z9'] }] }), agents)).not.toThrow();
  });
});
