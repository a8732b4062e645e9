import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AgentDaemon, AgentOptions } from '../../../src/agent/index.js';
import { createLocalScalingProvider } from '../../../src/autoscaler/local-provider.js';

// The local provider's bookkeeping with stand-in daemons: each host its own work dir and port
// range (ranges reused after a removal), zones as told, growth idempotent, removal exact.

function fakeDaemon(options: AgentOptions, log: string[]): AgentDaemon {
  let id: string | undefined;
  return {
    start: async () => {
      if (options.hostname?.endsWith('-3') && options.attributes?.fail === 'yes') throw new Error('engine down');
      id = `id-${options.hostname}`;
      log.push(`start ${options.hostname} ${options.zone} ${options.ports?.[0]?.begin}-${options.ports?.[0]?.end} ${options.workDir}`);
    },
    stop: async (o) => {
      log.push(`stop ${options.hostname} destroy=${o?.destroyTasks === true}`);
    },
    get agentId() {
      return id;
    },
    endpoint: undefined,
    registered: true,
    health: () => ({ healthy: true, message: '', registered: true, recovering: [] }),
    tasks: () => [],
    pendingUpdates: () => [],
    subscribe: () => () => {},
  };
}

describe('local scaling provider', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stratus-local-provider-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts hosts in the zones it is told, each with its own ports and work dir, and removes exactly the one asked', async () => {
    const log: string[] = [];
    const p = createLocalScalingProvider({ master: () => 'http://127.0.0.1:5050', workDir: dir, groups: { general: { cpus: 2, mem: 1024, zones: ['x', 'y'] } }, portsPerHost: 10, firstPort: 40000, createAgent: (o) => fakeDaemon(o, log) });
    expect(p.groups()).toEqual(['general']);
    await p.growTo('general', 2, ['b']);
    expect(log).toEqual([`start local-general-0 b 40000-40009 ${join(dir, 'local-general-0')}`, `start local-general-1 y 40010-40019 ${join(dir, 'local-general-1')}`]);
    await p.growTo('general', 2, []); // already that size
    await p.growTo('general', 1, []);
    expect(await p.desiredSize('general')).toBe(2);
    expect(await p.terminate({ group: 'general', agentId: 'id-local-general-0', hostname: 'local-general-0', instanceId: 'local-general-0' })).toBe('terminated');
    expect(await p.terminate({ group: 'general', agentId: 'id-local-general-0', hostname: 'local-general-0' })).toBe('gone');
    await p.growTo('general', 2, []);
    // The freed port range is reused; the name is not.
    expect(log.at(-1)).toMatch(/^start local-general-2 \S+ 40000-40009/);
    expect(p.hosts('general').map((h) => h.hostname).sort()).toEqual(['local-general-1', 'local-general-2']);
    await p.stop();
    expect(log.filter((l) => l.startsWith('stop'))).toEqual(['stop local-general-0 destroy=true', 'stop local-general-1 destroy=true', 'stop local-general-2 destroy=true']);
    await expect(p.desiredSize('gpu')).rejects.toMatchObject({ retryable: false });
  });

  it('reports a host that fails to start as a retryable error and keeps the others', async () => {
    const log: string[] = [];
    const p = createLocalScalingProvider({ master: 'http://127.0.0.1:5050', workDir: dir, hostnamePrefix: 'f', groups: { g: { cpus: 1, mem: 256, attributes: { fail: 'yes' } } }, createAgent: (o) => fakeDaemon(o, log) });
    await p.growTo('g', 3, []);
    await expect(p.growTo('g', 5, [])).rejects.toMatchObject({ name: 'ScalingProviderError', retryable: true });
    expect(await p.desiredSize('g')).toBe(4);
    await p.stop();
  });
});
