import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachAutoscaler } from '../../src/autoscaler/attach.js';
import type { AutoscalerController, AutoscalerOptions } from '../../src/autoscaler/controller.js';
import { createLocalScalingProvider, type LocalGroupConfig, type LocalScalingProvider } from '../../src/autoscaler/local-provider.js';
import type { Operation } from '../../src/autoscaler/store.js';
import { OPS_COLLECTION } from '../../src/autoscaler/store.js';
import type { MasterConfig } from '../../src/master-lambda/config.js';
import { createLogger, silentLogger, type Logger } from '../../src/core/logger.js';
import { Master } from '../../src/master-lambda/master.js';
import { startLocalServer, type RunningServer } from '../../src/master-lambda/local-server.js';
import type { ItemStore } from '../../src/state/item-store.js';
import type { Registry } from '../../src/state/registry.js';
import { FAST_MASTER } from './jobs-cluster.js';

// In-process regions for the autoscaler's end-to-end tests: masters (each with its own
// autoscaler as a leader duty and the autoscaler routes) on a shared in-memory store, and the
// local provider starting real agent daemons (process containerizer) against a master's URL.

export const testLog = (name: string): Logger => (process.env.STRATUS_TEST_LOG ? createLogger(name, 'debug') : silentLogger);

export interface AutoscaledMaster {
  readonly master: Master;
  readonly server: RunningServer;
  readonly autoscaler: AutoscalerController;
  readonly url: string;
}

export async function startAutoscaledMaster(options: {
  readonly store: ItemStore;
  readonly holderId: string;
  readonly config?: Partial<MasterConfig>;
  readonly autoscaler: Omit<AutoscalerOptions, 'log'>;
  readonly rulesFile?: string;
}): Promise<AutoscaledMaster> {
  const master = new Master({
    store: options.store,
    holderId: options.holderId,
    log: testLog(`master-${options.holderId}`),
    config: { ...FAST_MASTER, ...options.config },
  });
  // As `stratus dev` wires it: the duty, the routes, the rules file.
  const autoscaler = await attachAutoscaler(master, { ...options.autoscaler, log: testLog(`autoscaler-${options.holderId}`), ...(options.rulesFile ? { rulesFile: options.rulesFile } : {}) });
  const server = await startLocalServer(master, { port: 0 });
  return { master, server, autoscaler, url: server.url };
}

export function localProvider(master: () => string, groups: Readonly<Record<string, LocalGroupConfig>>): { provider: LocalScalingProvider; workDir: string; cleanup(): Promise<void> } {
  const workDir = mkdtempSync(join(tmpdir(), 'stratus-autoscaler-'));
  const provider = createLocalScalingProvider({
    master,
    workDir,
    groups,
    containerizer: 'process',
    firstPort: 33000,
    log: testLog('local-agents'),
    timing: { heartbeatIntervalMs: 300, longPollSeconds: 2, statusRetryInitialMs: 300, statusRetryMaxMs: 2_000 },
  });
  return {
    provider,
    workDir,
    cleanup: async () => {
      await provider.stop({ destroyTasks: true });
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

export async function openOperations(registry: Registry): Promise<(Operation & { id: string })[]> {
  return (await registry.listDocuments(OPS_COLLECTION)).map((d) => ({ ...(d.data as unknown as Operation), id: d.id }));
}
