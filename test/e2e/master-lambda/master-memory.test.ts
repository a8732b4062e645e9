import { MemoryItemStore } from '../../../src/state/memory-item-store.js';
import { masterE2E } from './master.suite.js';

masterE2E('the in-memory Registry', async () => new MemoryItemStore(), {
  drfAgents: 42, // 2 go to the capped role; 40 split 10:30 exactly
  timing: { pollIntervalMs: 50, allocationIntervalMs: 200, leaseDurationMs: 3000, agentHeartbeatMs: 1000 },
});
