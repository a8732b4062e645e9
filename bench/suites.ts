import type { BenchSuite } from './report.js';
import { agentLaunch } from './agent-launch.js';
import { agentDaemon } from './agent-daemon.js';
import { registrySuite } from './registry.js';
import { allocatorSuite } from './allocator.js';
import { fenzoBench } from './fenzo.js';
import { federationBench } from './federation.js';
import { autoscalerBench } from './autoscaler.js';
import { masterFailoverSuite } from './master-failover.js';
import { masterThroughputSuite } from './master-throughput.js';
import { cloudCostSuite } from './cloud-cost.js';

// The list of benchmark suites, in the order `npm run bench` runs them.
export const suites: BenchSuite[] = [
  agentLaunch,
  agentDaemon,
  registrySuite,
  masterFailoverSuite,
  masterThroughputSuite,
  allocatorSuite,
  fenzoBench,
  federationBench,
  autoscalerBench,
  cloudCostSuite,
];
