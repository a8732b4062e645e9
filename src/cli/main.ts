#!/usr/bin/env node
import { UsageError } from './command.js';
import { commands } from './commands/index.js';

// `stratus COMMAND [flags]`: dispatches to one of commands/.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function help(): void {
  const w = Math.max(...commands.map((c) => c.name.length));
  process.stdout.write('usage: stratus COMMAND [flags]\n\ncommands:\n');
  for (const c of commands) process.stdout.write(`  ${c.name.padEnd(w)}  ${c.summary}\n`);
  process.stdout.write('\n`stratus help COMMAND` shows a command\'s flags.\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    const target = rest.length > 0 && commands.find((c) => c.name === rest.join(' '));
    if (target) process.stdout.write(target.usage + '\n');
    else help();
    return 0;
  }
  // Two-word commands (`autoscaler rules`) are registered with their full name.
  const command = commands.find((c) => c.name === `${name} ${rest[0] ?? ''}`.trim()) ?? commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`stratus: unknown command '${name}'\n`);
    help();
    return 2;
  }
  const args = command.name.includes(' ') ? rest.slice(1) : rest;
  try {
    return await command.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`stratus ${command.name}: ${e.message}\n\n${command.usage}\n`);
      return 2;
    }
    process.stderr.write(`stratus ${command.name}: ${(e as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
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
