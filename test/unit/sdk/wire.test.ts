import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../../src/sdk/wire.js';

// What the driver reads off the wire: events, validated and typed.

describe('decodeEvent', () => {
  it('types offers: resources summed in user units, attributes as strings, role', () => {
    const e = decodeEvent({
      type: 'OFFERS',
      offers: {
        offers: [
          {
            id: { value: 'o1' },
            framework_id: { value: 'f' },
            agent_id: { value: 'a' },
            hostname: 'h',
            resources: [
              { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 }, allocation_info: { role: 'web' } },
              { name: 'cpus', type: 'SCALAR', scalar: { value: 0.2 } },
              { name: 'mem', type: 'SCALAR', scalar: { value: 128 } },
              { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31005, end: 31010 }, { begin: 31000, end: 31001 }] } },
            ],
            attributes: [{ name: 'zone', type: 'TEXT', text: { value: 'b' } }, { name: 'rack', type: 'SCALAR', scalar: { value: 3 } }],
          },
        ],
      },
    });
    expect(e).toMatchObject({
      type: 'OFFERS',
      offers: [{ id: 'o1', agentId: 'a', role: 'web', resources: { cpus: 0.3, mem: 128, disk: 0, ports: [{ begin: 31000, end: 31001 }, { begin: 31005, end: 31010 }] }, attributes: { zone: 'b', rack: '3' } }],
    });
  });

  it('reports malformed and unknown events instead of throwing', () => {
    expect(decodeEvent({ type: 'UPDATE', update: { status: { task_id: { value: 't' }, state: 'TASK_SLEEPING' } } })).toMatchObject({ type: 'INVALID' });
    expect(decodeEvent({ type: 'INVERSE_OFFERS' })).toEqual({ type: 'UNKNOWN', rawType: 'INVERSE_OFFERS' });
    expect(decodeEvent('nope')).toMatchObject({ type: 'INVALID' });
    expect(decodeEvent({ type: 'SUBSCRIBED', subscribed: { framework_id: { value: 'f' } } })).toEqual({ type: 'SUBSCRIBED', frameworkId: 'f', heartbeatIntervalSeconds: 15 });
  });
});
