import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commands } from '../../../src/cli/commands/index.js';
import { EXIT_OK, EXIT_USAGE, runCli } from '../../../src/cli/dispatch.js';
import { captureOutput } from '../../support/stdout.js';

// The CLI's conventions, for every command of the table: a command added without them fails here.

describe('stratus --help and usage errors', () => {
  let io: ReturnType<typeof captureOutput>;
  beforeEach(() => {
    io = captureOutput();
  });
  afterEach(() => io.restore());

  const words = (name: string): string[] => name.split(' ');

  it('lists every command on stratus, stratus --help, -h and help, exit 0', async () => {
    for (const argv of [[], ['--help'], ['-h'], ['help']]) {
      io.clear();
      expect(await runCli(argv)).toBe(EXIT_OK);
      for (const c of commands) expect(io.stdout()).toContain(`  ${c.name}`);
      expect(io.stderr()).toBe('');
    }
  });

  it.each(commands.map((c) => [c.name, c] as const))("'stratus %s --help', -h and 'stratus help %s' print its usage on stdout, exit 0", async (name, c) => {
    expect(c.usage).toMatch(new RegExp(`^usage: stratus ${name}\\b`));
    expect(c.summary.length).toBeGreaterThan(0);
    for (const argv of [[...words(name), '--help'], [...words(name), '-h'], ['help', ...words(name)], [...words(name), '--master', 'http://127.0.0.1:1', '--help']]) {
      io.clear();
      expect(await runCli(argv), argv.join(' ')).toBe(EXIT_OK);
      expect(io.stdout()).toBe(`${c.usage}\n`);
      expect(io.stderr()).toBe('');
    }
  });

  it.each(commands.map((c) => [c.name] as const))("'stratus %s --no-such-flag' fails with exit 2, naming the option and pointing to --help", async (name) => {
    expect(await runCli([...words(name), '--no-such-flag'])).toBe(EXIT_USAGE);
    expect(io.stderr()).toMatch(new RegExp(`^stratus ${name}: unknown option '--no-such-flag'\\nusage: stratus ${name}`));
    expect(io.stderr()).toContain(`'stratus ${name} --help' shows every flag.`);
    expect(io.stdout()).toBe('');
  });

  it('leaves -h after -- to the task: stratus run does not print help for it', async () => {
    // Everything after -- is the task's command line: the run is parsed (and refused for want of --name).
    expect(await runCli(['run', '--', 'ls', '-h'])).toBe(EXIT_USAGE);
    expect(io.stderr()).toMatch(/^stratus run: --name is required/);
  });

  it('a flag without its value, a bad --output, an unknown command: exit 2 with the reason', async () => {
    expect(await runCli(['jobs', '--master'])).toBe(EXIT_USAGE);
    expect(io.stderr()).toMatch(/^stratus jobs: --master needs a value\n/);
    io.clear();
    expect(await runCli(['agents', '-o', 'yaml'])).toBe(EXIT_USAGE);
    expect(io.stderr()).toMatch(/^stratus agents: --output is table or json \(got 'yaml'\)/);
    io.clear();
    expect(await runCli(['deploy'])).toBe(EXIT_USAGE);
    expect(io.stderr()).toBe("stratus: unknown command 'deploy'; 'stratus --help' lists the commands\n");
    io.clear();
    expect(await runCli(['help', 'deploy'])).toBe(EXIT_USAGE);
  });

  it('a command group lists its subcommands: on --help with exit 0, without a subcommand with exit 2', async () => {
    const members = commands.filter((c) => c.name.startsWith('autoscaler '));
    expect(members.length).toBeGreaterThan(0);
    for (const argv of [['autoscaler', '--help'], ['help', 'autoscaler']]) {
      io.clear();
      expect(await runCli(argv)).toBe(EXIT_OK);
      for (const c of members) expect(io.stdout()).toContain(c.name);
    }
    io.clear();
    expect(await runCli(['autoscaler'])).toBe(EXIT_USAGE);
    expect(io.stderr()).toMatch(/^stratus autoscaler: name a subcommand/);
    io.clear();
    expect(await runCli(['autoscaler', 'nope'])).toBe(EXIT_USAGE);
    expect(io.stderr()).toMatch(/unknown subcommand 'nope'/);
  });
});
