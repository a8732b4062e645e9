import { renderTable, writeResults, type BenchSuite } from './report.js';
import { suites } from './suites.js';

// `npm run bench` runs every suite; `npm run bench -- fenzo allocator` runs the named ones.
// Arguments after `--` that are not suite names are passed to the suites (e.g. --quick).
async function main(): Promise<void> {
  // As in the tests: AWS-backed suites use the local endpoint (moto/LocalStack), never real AWS by accident.
  process.env.AWS_ENDPOINT_URL ??= 'http://127.0.0.1:4566';
  process.env.AWS_REGION ??= 'us-east-1';
  // As the CLI does: Node 20 is supported, and the SDK's notice would land in the middle of the tables.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const args = process.argv.slice(2);
  const names = args.filter((a) => !a.startsWith('-'));
  const flags = args.filter((a) => a.startsWith('-'));
  const unknown = names.filter((n) => !suites.some((s) => s.name === n));
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${suites.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  const chosen: BenchSuite[] = names.length ? suites.filter((s) => names.includes(s.name)) : [...suites];
  let failed = false;
  for (const suite of chosen) {
    console.log(`\n# ${suite.name}: ${suite.description}`);
    try {
      const tables = await suite.run(flags);
      for (const t of tables) console.log('\n' + renderTable(t));
      console.log(`\n(results: ${writeResults(suite.name, tables)})`);
    } catch (e) {
      failed = true;
      console.error(`benchmark ${suite.name} failed: ${(e as Error).stack ?? String(e)}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

void main();
