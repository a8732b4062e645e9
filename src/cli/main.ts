#!/usr/bin/env node
import { runCli } from './dispatch.js';

// The `stratus` executable: dispatch.ts does the work.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // A long-running command (master, agent, dev) has stopped what it started; a stray handle
    // (a keep-alive socket, a timer in a library) must not keep the process alive after it.
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  (e: unknown) => {
    process.stderr.write(`stratus: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
