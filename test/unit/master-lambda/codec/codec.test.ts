import { describe, expect, it } from 'vitest';
import { decodeResources, encodeResources } from '../../../../src/wire/mesos-resources.js';
import { parseOperatorCall } from '../../../../src/master-lambda/codec/operator-call.js';
import { parseSchedulerCall } from '../../../../src/master-lambda/codec/scheduler-call.js';
import { decodeTaskInfo } from '../../../../src/master-lambda/codec/task-info.js';
import { resources } from '../../../../src/core/resources.js';
import { fieldOf } from '../../../support/validation.js';


const task = (extra: Record<string, unknown> = {}) => ({
  name: 't',
  task_id: { value: 't1' },
  agent_id: { value: 'a1' },
  resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 64 } }],
  command: { value: 'echo hi' },
  ...extra,
});

describe('Mesos resources', () => {
  it('sums repeated names (several roles) and round-trips', () => {
    const r = decodeResources(
      [
        { name: 'cpus', type: 'SCALAR', scalar: { value: 1.5 }, role: 'a' },
        { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } },
        { name: 'mem', scalar: { value: 128 } },
        { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31001 }, { begin: 31005, end: 31005 }] } },
      ],
      'resources',
    );
    expect(r).toEqual(resources({ cpus: 2, mem: 128, ports: [{ begin: 31000, end: 31001 }, { begin: 31005, end: 31005 }] }));
    expect(decodeResources(encodeResources(r, 'web'), 'x')).toEqual(r);
    expect(encodeResources(r, 'web')[0]).toMatchObject({ allocation_info: { role: 'web' } });
  });

  it('refuses unknown names, negative, non-finite and huge values, and overlapping ports, naming the field', () => {
    expect(fieldOf(() => decodeResources([{ name: 'gpus', scalar: { value: 1 } }], 'r'))).toBe('r[0].name');
    expect(fieldOf(() => decodeResources([{ name: 'cpus', scalar: { value: -1 } }], 'r'))).toBe('r[0].scalar.value');
    expect(fieldOf(() => decodeResources([{ name: 'mem', scalar: { value: Number.POSITIVE_INFINITY } }], 'r'))).toBe('r[0].scalar.value');
    expect(fieldOf(() => decodeResources([{ name: 'cpus', scalar: { value: 1e12 } }], 'r'))).toBe('r.cpus');
    expect(fieldOf(() => decodeResources([{ name: 'ports', ranges: { range: [{ begin: 5, end: 9 }, { begin: 8, end: 10 }] } }], 'r'))).toBe('r');
    expect(fieldOf(() => decodeResources([{ name: 'ports', ranges: { range: [{ begin: 9, end: 5 }] } }], 'r'))).toBe('r[0].ranges.range[0]');
    expect(fieldOf(() => decodeResources([{ name: 'cpus', type: 'RANGES', scalar: { value: 1 } }], 'r'))).toBe('r[0].type');
  });
});

describe('TaskInfo', () => {
  it('decodes a shell command task with labels, health check, kill policy and discovery', () => {
    const d = decodeTaskInfo(
      task({
        labels: { labels: [{ key: 'team', value: 'web' }] },
        health_check: { type: 'HTTP', http: { port: 8080, path: '/ready' }, interval_seconds: 5 },
        kill_policy: { grace_period: { nanoseconds: 2_000_000_000 } },
        discovery: { visibility: 'CLUSTER', name: 'web', ports: { ports: [{ number: 8080, name: 'http' }] } },
      }),
      'ti',
    );
    expect(d.spec).toMatchObject({
      command: { shell: true, value: 'echo hi' },
      labels: { team: 'web' },
      healthCheck: { type: 'HTTP', http: { port: 8080, path: '/ready', scheme: 'http' }, intervalSeconds: 5, consecutiveFailures: 3 },
      killGracePeriodMs: 2000,
      discovery: { name: 'web', ports: [{ number: 8080, name: 'http' }] },
    });
  });

  it('runs an image\'s own entrypoint with an environment-only command', () => {
    const d = decodeTaskInfo(
      task({ command: { shell: false, environment: { variables: [{ name: 'MODE', value: 'x' }] } }, container: { type: 'DOCKER', docker: { image: 'stratus/busybox:latest' } } }),
      'ti',
    );
    expect(d.spec.command).toEqual({ shell: false, environment: { MODE: 'x' } });
    expect(d.spec.container).toEqual({ type: 'DOCKER', docker: { image: 'stratus/busybox:latest', network: 'HOST', pullPolicy: 'IF_NOT_PRESENT' } });
    // Without an image, a command must name a program.
    expect(fieldOf(() => decodeTaskInfo(task({ command: { shell: false, environment: { variables: [] } } }), 'ti'))).toBe('ti.command.value');
  });

  it('refuses bad tasks naming the field', () => {
    expect(fieldOf(() => decodeTaskInfo(task({ task_id: { value: 'a/b' } }), 'ti'))).toBe('ti.task_id.value');
    expect(fieldOf(() => decodeTaskInfo(task({ command: { value: '   ' } }), 'ti'))).toBe('ti.command.value');
    expect(fieldOf(() => decodeTaskInfo(task({ command: undefined }), 'ti'))).toBe('ti.command');
    expect(fieldOf(() => decodeTaskInfo(task({ container: { type: 'DOCKER', docker: { image: 'Not A Valid Image!' } } }), 'ti'))).toBe('ti.container.docker.image');
    expect(fieldOf(() => decodeTaskInfo(task({ container: { type: 'DOCKER', docker: { image: 'x', network: 'BRIDGE' } } }), 'ti'))).toBe('ti.container.docker.network');
    expect(fieldOf(() => decodeTaskInfo(task({ resources: [{ name: 'disk', scalar: { value: 10 } }] }), 'ti'))).toBe('ti.resources');
    expect(fieldOf(() => decodeTaskInfo(task({ kill_policy: { grace_period: { nanoseconds: -1 } } }), 'ti'))).toBe('ti.kill_policy.grace_period.nanoseconds');
    expect(fieldOf(() => decodeTaskInfo(task({ health_check: { type: 'COMMAND' } }), 'ti'))).toBe('ti.health_check.command');
    expect(fieldOf(() => decodeTaskInfo(task({ command: { value: 'x', environment: { variables: [{ name: 'S', type: 'SECRET' }] } } }), 'ti'))).toBe('ti.command.environment');
  });
});

describe('call parsing', () => {
  it('reads SHUTDOWN with its executor and agent, naming what is missing or malformed', () => {
    const call = parseSchedulerCall({ type: 'SHUTDOWN', framework_id: { value: 'f' }, shutdown: { executor_id: { value: 'e1' }, agent_id: { value: 'a1' } } });
    expect(call).toEqual({ type: 'SHUTDOWN', framework_id: { value: 'f' }, shutdown: { executor_id: { value: 'e1' }, agent_id: { value: 'a1' } } });
    expect(fieldOf(() => parseSchedulerCall({ type: 'SHUTDOWN', framework_id: { value: 'f' } }))).toBe('shutdown');
    expect(fieldOf(() => parseSchedulerCall({ type: 'SHUTDOWN', framework_id: { value: 'f' }, shutdown: null }))).toBe('shutdown');
    expect(fieldOf(() => parseSchedulerCall({ type: 'SHUTDOWN', framework_id: { value: 'f' }, shutdown: { agent_id: { value: 'a1' } } }))).toBe('shutdown.executor_id');
    expect(fieldOf(() => parseSchedulerCall({ type: 'SHUTDOWN', framework_id: { value: 'f' }, shutdown: { executor_id: { value: 'e1' } } }))).toBe('shutdown.agent_id');
    expect(fieldOf(() => parseSchedulerCall({ type: 'SHUTDOWN', framework_id: { value: 'f' }, shutdown: { executor_id: { value: '' }, agent_id: { value: 'a1' } } }))).toBe('shutdown.executor_id.value');
    expect(fieldOf(() => parseSchedulerCall({ type: 'SHUTDOWN', shutdown: { executor_id: { value: 'e1' }, agent_id: { value: 'a1' } } }))).toBe('framework_id');
  });

  it('names unknown and unsupported calls clearly', () => {
    expect(() => parseSchedulerCall({ type: 'FROB' })).toThrow(/unknown call type 'FROB'/);
    expect(() => parseSchedulerCall({ type: 'ACCEPT_INVERSE_OFFERS' })).toThrow(/not supported/);
    expect(fieldOf(() => parseSchedulerCall([]))).toBe('body');
    expect(fieldOf(() => parseSchedulerCall({ type: 'ACCEPT', framework_id: { value: 'f' } }))).toBe('accept');
    expect(fieldOf(() => parseSchedulerCall({ type: 'DECLINE', framework_id: { value: 'f' }, decline: { offer_ids: [] } }))).toBe('decline.offer_ids');
    expect(fieldOf(() => parseSchedulerCall({ type: 'DECLINE', framework_id: { value: 'f' }, decline: { offer_ids: [{ value: 'o' }], filters: { refuse_seconds: -1 } } }))).toBe('decline.filters.refuse_seconds');
    expect(parseSchedulerCall({ type: 'REVIVE', framework_id: { value: 'f' } }).type).toBe('REVIVE');
    expect(fieldOf(() => parseOperatorCall({ type: 'UPDATE_QUOTA' }))).toBe('update_quota');
    expect(() => parseOperatorCall({ type: 'RESERVE_RESOURCES' })).toThrow(/unsupported operator call/);
  });

  it('reads a call type named like an Object property as unknown, not as a prototype member', () => {
    for (const type of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      expect(() => parseSchedulerCall({ type })).toThrow(new RegExp(`unknown call type '${type}'`));
      expect(() => parseOperatorCall({ type })).toThrow(/unknown or unsupported operator call/);
    }
  });

  it("refuses '__proto__' as a user-named key instead of dropping it", () => {
    const body = JSON.parse('{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"web","limits":{"__proto__":{"value":1}}}]}}') as unknown;
    expect(fieldOf(() => parseOperatorCall(body))).toBe('update_quota.quota_configs[0].limits.__proto__');
  });
});
