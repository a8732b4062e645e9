import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAgentGroups, rulesFromAgentGroups } from '../../../src/autoscaler/agent-groups-env.js';
import { AutoscalerController } from '../../../src/autoscaler/controller.js';
import { providerError } from '../../../src/autoscaler/ec2-provider.js';
import { autoscalerRoutes } from '../../../src/autoscaler/routes.js';
import { loadAutoscalerRulesFile, applyAutoscalerRulesFile, RulesFileError } from '../../../src/autoscaler/rules-file.js';
import { parseRuleSet, toGroupRule } from '../../../src/autoscaler/rules.js';
import { ValidationError } from '../../../src/core/errors.js';
import type { HttpRequest, JsonResponse } from '../../../src/http/types.js';
import { FakeProvider } from '../../support/autoscaler-fake-provider.js';
import { SimWorld } from '../../support/autoscaler-world.js';

// Rules: validation naming the field, defaults, the rules file, the operator routes' 4xx answers.

const good = { group: 'general', minSize: 1, maxSize: 5, shape: { cpus: 2, mem: 4096 } };

function fieldOf(body: unknown, known?: readonly string[]): string | undefined {
  try {
    parseRuleSet(body, known);
  } catch (e) {
    if (e instanceof ValidationError) return e.field;
    throw e;
  }
  return undefined;
}

describe('rule validation', () => {
  it('fills in defaults and converts to the units decide() reads', () => {
    const set = parseRuleSet({ groups: [{ ...good, minIdle: 1, scaleUpCooldownSeconds: 1.5 }] }, ['general']);
    expect(set.groups[0]).toMatchObject({ minIdle: 1, maxIdle: 1, scaleDownCooldownSeconds: 300, drainBusy: false, drainTimeoutSeconds: 600, shape: { cpus: 2, mem: 4096, disk: 0, ports: 0 } });
    expect(toGroupRule(set.groups[0]!)).toMatchObject({ scaleUpCooldownMs: 1500, scaleDownCooldownMs: 300_000, drainTimeoutMs: 600_000, zones: [] });
  });

  it.each([
    ['min > max', { ...good, minSize: 6 }, 'groups[0].minSize'],
    ['a negative size', { ...good, minSize: -1 }, 'groups[0].minSize'],
    ['a negative max size', { ...good, maxSize: -3 }, 'groups[0].maxSize'],
    ['a fractional size', { ...good, maxSize: 2.5 }, 'groups[0].maxSize'],
    ['a negative scale-up cooldown', { ...good, scaleUpCooldownSeconds: -1 }, 'groups[0].scaleUpCooldownSeconds'],
    ['a negative scale-down cooldown', { ...good, scaleDownCooldownSeconds: -0.5 }, 'groups[0].scaleDownCooldownSeconds'],
    ['minIdle > maxIdle', { ...good, minIdle: 3, maxIdle: 2 }, 'groups[0].minIdle'],
    ['negative idle hosts', { ...good, maxIdle: -1 }, 'groups[0].maxIdle'],
    ['a zero-cpu shape', { ...good, shape: { cpus: 0, mem: 1 } }, 'groups[0].shape.cpus'],
    ['an unknown field', { ...good, maxsize: 3 }, 'groups[0]'],
    ['a missing shape', { group: 'general', minSize: 0, maxSize: 1 }, 'groups[0].shape'],
    ['a malformed group name', { ...good, group: 'no spaces' }, 'groups[0].group'],
  ])('refuses %s, naming the field', (_what, rule, field) => {
    expect(fieldOf({ groups: [rule] }, ['general'])).toBe(field);
  });

  it('refuses an unknown group and a group given twice', () => {
    expect(fieldOf({ groups: [good, { ...good, group: 'gpu' }] }, ['general'])).toBe('groups[1].group');
    expect(fieldOf({ groups: [good, good] }, ['general'])).toBe('groups[1].group');
    expect(fieldOf([good])).toBe('groups');
    expect(fieldOf({ groups: [{ ...good, group: 'gpu' }] })).toBeUndefined(); // shape check only
  });
});

describe('rules file', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stratus-rules-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a good file and names the file and field of a bad one', async () => {
    const ok = join(dir, 'ok.json');
    writeFileSync(ok, JSON.stringify({ groups: [good] }));
    expect(loadAutoscalerRulesFile(ok).groups[0]?.group).toBe('general');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ groups: [{ ...good, scaleDownCooldownSeconds: -5 }] }));
    expect(() => loadAutoscalerRulesFile(bad)).toThrow(RulesFileError);
    expect(() => loadAutoscalerRulesFile(bad)).toThrow(/bad\.json: groups\[0\]\.scaleDownCooldownSeconds/);
    writeFileSync(join(dir, 'broken.json'), '{"groups": [');
    expect(() => loadAutoscalerRulesFile(join(dir, 'broken.json'))).toThrow(/malformed JSON/);
    expect(() => loadAutoscalerRulesFile(join(dir, 'missing.json'))).toThrow(/cannot read/);

    const world = new SimWorld();
    const autoscaler = new AutoscalerController({ provider: new FakeProvider(['general']), log: world.log });
    expect((await applyAutoscalerRulesFile(autoscaler, world.registry, ok)).groups).toHaveLength(1);
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ groups: [{ ...good, group: 'gpu' }] }));
    await expect(applyAutoscalerRulesFile(autoscaler, world.registry, unknown)).rejects.toMatchObject({ field: 'groups[0].group' });
  });
});

describe('operator routes', () => {
  const world = new SimWorld();
  const autoscaler = new AutoscalerController({ provider: new FakeProvider(['general', 'gpu']), log: world.log });
  autoscalerRoutes(world.master.api, autoscaler, world.registry);
  const call = async (method: string, path: string, body?: unknown): Promise<JsonResponse> => {
    const [p, q] = path.split('?');
    const req: HttpRequest = { method, path: p!, query: new URLSearchParams(q ?? ''), headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body) };
    return (await world.master.api.handle(req)) as JsonResponse;
  };

  it.each([
    ['min > max', { ...good, minSize: 9 }, 'groups[0].minSize'],
    ['a negative size', { ...good, maxSize: -1 }, 'groups[0].maxSize'],
    ['an unknown group', { ...good, group: 'tpu' }, 'groups[0].group'],
    ['a cooldown below zero', { ...good, scaleUpCooldownSeconds: -10 }, 'groups[0].scaleUpCooldownSeconds'],
  ])('PUT refuses %s with 400 naming the field, and changes nothing', async (_what, rule, field) => {
    const before = await call('GET', '/api/v1/autoscaler/rules');
    const res = await call('PUT', '/api/v1/autoscaler/rules', { groups: [rule] });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ field });
    expect((await call('GET', '/api/v1/autoscaler/rules')).body).toEqual(before.body);
  });

  it('PUT stores valid rules and GET shows them with the groups the provider knows', async () => {
    const res = await call('PUT', '/api/v1/autoscaler/rules', { groups: [good, { ...good, group: 'gpu', minSize: 0 }] });
    expect(res.status).toBe(200);
    const got = await call('GET', '/api/v1/autoscaler/rules');
    expect(got.body).toMatchObject({ knownGroups: ['general', 'gpu'], groups: [{ group: 'general', maxIdle: 0 }, { group: 'gpu' }] });
    const act = await call('GET', '/api/v1/autoscaler/activity?limit=5');
    expect(act.status).toBe(200);
    expect((act.body as { activity: { action: string }[] }).activity[0]?.action).toBe('rules');
    const status = await call('GET', '/api/v1/autoscaler/status');
    expect(status.body).toMatchObject({ provider: 'fake', groups: [{ group: 'general', hosts: 0 }, { group: 'gpu', hosts: 0 }], operations: [] });
  });

  it('refuses malformed bodies and bad query parameters', async () => {
    expect((await call('PUT', '/api/v1/autoscaler/rules', '{nope')).body).toMatchObject({ field: 'body' });
    expect((await call('PUT', '/api/v1/autoscaler/rules', [good])).body).toMatchObject({ field: 'groups' });
    const bad = await call('GET', '/api/v1/autoscaler/activity?limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ field: 'limit' });
  });
});

describe('STRATUS_AGENT_GROUPS and provider errors', () => {
  it('reads the stack\'s list and a plain map', () => {
    const list = parseAgentGroups(JSON.stringify([{ name: 'general', autoScalingGroupName: 'asg-1', zones: ['us-east-1a'], minSize: 1, maxSize: 4, instanceTypes: ['m7g.large'], shape: { cpus: 2, memMb: 8192, diskMb: 20000 } }]));
    expect(list).toEqual([{ group: 'general', autoScalingGroupName: 'asg-1', zones: ['us-east-1a'], minSize: 1, maxSize: 4, shape: { cpus: 2, memMb: 8192, diskMb: 20000 } }]);
    const defaults = parseRuleSet(rulesFromAgentGroups(list), ['general']);
    expect(defaults.groups[0]).toMatchObject({ group: 'general', minSize: 1, maxSize: 4, minIdle: 0, maxIdle: 1, shape: { cpus: 2, mem: 8192, disk: 20000 }, zones: ['us-east-1a'] });
    expect(parseAgentGroups('{"gpu":"asg-2"}')).toEqual([{ group: 'gpu', autoScalingGroupName: 'asg-2' }]);
    expect(() => parseAgentGroups('[{"name":"a"}]')).toThrow(/STRATUS_AGENT_GROUPS/);
    expect(() => parseAgentGroups('[{"name":"a","autoScalingGroupName":"x"},{"name":"a","autoScalingGroupName":"y"}]')).toThrow(/twice/);
  });

  it('classifies throttling and server errors as retryable, validation errors as permanent', () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    expect(providerError('SetDesiredCapacity', throttled).retryable).toBe(true);
    expect(providerError('x', Object.assign(new Error('boom'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } })).retryable).toBe(true);
    expect(providerError('x', Object.assign(new Error('socket hang up'), { name: 'Error' })).retryable).toBe(true);
    expect(providerError('x', Object.assign(new Error('New SetDesiredCapacity value 9 is above max value 5'), { name: 'ValidationError', $metadata: { httpStatusCode: 400 } })).retryable).toBe(false);
  });
});
