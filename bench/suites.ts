import type { BenchSuite } from './report.js';
import { agentLaunch } from './agent-launch.js';
import { registrySuite } from './registry.js';
import { allocatorSuite } from './allocator.js';
import { fenzoBench } from './fenzo.js';

// The list of benchmark suites, in the order `npm run bench` runs them.
export const suites: BenchSuite[] = [
  agentLaunch,
  registrySuite,
  allocatorSuite,
  fenzoBench,
];
