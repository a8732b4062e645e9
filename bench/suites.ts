import type { BenchSuite } from './report.js';
import { agentLaunch } from './agent-launch.js';
import { agentDaemon } from './agent-daemon.js';
import { registrySuite } from './registry.js';
import { allocatorSuite } from './allocator.js';
import { fenzoBench } from './fenzo.js';
import { federationBench } from './federation.js';
import { autoscalerBench } from './autoscaler.js';

// The list of benchmark suites, in the order `npm run bench` runs them.
export const suites: BenchSuite[] = [
  agentLaunch,
  agentDaemon,
  registrySuite,
  allocatorSuite,
  fenzoBench,
  federationBench,
  autoscalerBench,
];
