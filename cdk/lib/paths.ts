import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Where the code the stacks bundle lives. Entries are TypeScript files of src/; esbuild
// bundles them (locally, no Docker) into one ESM file per function.

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const TSCONFIG = join(REPO_ROOT, 'tsconfig.json');

/** API Gateway HTTP API (payload v2) handler. */
export const API_HANDLER_ENTRY = join(REPO_ROOT, 'src/master-lambda/lambda/api-handler.ts');
/** Scheduled / triggered leader tick. */
export const TICK_ENTRY = join(REPO_ROOT, 'src/master-lambda/lambda/leader-tick.ts');
/** Gossip receiver fed by the inbox queue (SQS event); a RegionStack prop can point elsewhere. */
export const DEFAULT_GOSSIP_RECEIVER_ENTRY = join(REPO_ROOT, 'src/master-lambda/lambda/gossip-receiver.ts');
/** The `stratus` command the agent hosts run (`stratus agent ...`). */
export const CLI_ENTRY = join(REPO_ROOT, 'src/cli/main.ts');
/** API Gateway REST API (proxy events, payload 1.0) with response streaming: the Mesos scheduler stream. */
export const SCHEDULER_STREAM_ENTRY = join(REPO_ROOT, 'src/master-lambda/lambda/scheduler-stream-handler.ts');
