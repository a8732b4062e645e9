import type { BenchSuite } from './report.js';
import { registrySuite } from './registry.js';

// The list of benchmark suites, in the order `npm run bench` runs them.
export const suites: BenchSuite[] = [
  registrySuite,
];
