import { ApiError } from '../wire/api-error.js';
import { UsageError, wantsHelp, type Command } from './command.js';
import { commands as allCommands } from './commands/index.js';
import { missingFeature } from './missing-feature.js';

// `stratus COMMAND [flags]`: finds the command and runs it, with the CLI's conventions in one
// place: `--help`/`-h` on every command prints its usage on stdout (exit 0); a usage error
// (unknown option, bad value) goes to stderr with the synopsis and a pointer to --help (exit 2);
// any other error is one line on stderr (exit 1), naming the missing part of the master and the
// flag that turns it on when the master has no such endpoint.

/** Exit codes: 0 done, 1 the command failed, 2 the command line is wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const out = (s: string): void => void process.stdout.write(s + '\n');
const err = (s: string): void => void process.stderr.write(s + '\n');

function overview(commands: readonly Command[]): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: stratus COMMAND [flags]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    "'stratus COMMAND --help' (or 'stratus help COMMAND') shows a command's flags.",
    'Exit codes: 0 done, 1 failed, 2 bad command line.',
  ].join('\n');
}

/** The subcommands of a group (`autoscaler` for `autoscaler rules`...). */
function group(commands: readonly Command[], name: string): Command[] {
  return commands.filter((c) => c.name.startsWith(`${name} `));
}

function groupHelp(name: string, members: readonly Command[]): string {
  const w = Math.max(...members.map((c) => c.name.length));
  return [`usage: stratus ${name} SUBCOMMAND [flags]`, '', 'subcommands:', ...members.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`), '', `'stratus ${name} SUBCOMMAND --help' shows its flags.`].join('\n');
}

/** The usage's synopsis: its lines up to the first blank one. */
function synopsis(usage: string): string {
  const blank = usage.indexOf('\n\n');
  return blank < 0 ? usage.split('\n')[0]! : usage.slice(0, blank);
}

/** Runs `stratus ARGV...`; returns the exit code. Prints to process.stdout / process.stderr. */
export async function runCli(argv: readonly string[], commands: readonly Command[] = allCommands): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    out(overview(commands));
    return EXIT_OK;
  }
  if (name === 'help') {
    if (rest.length === 0) {
      out(overview(commands));
      return EXIT_OK;
    }
    const wanted = rest.join(' ');
    const target = commands.find((c) => c.name === wanted);
    const members = group(commands, wanted);
    if (target) out(target.usage);
    else if (members.length > 0) out(groupHelp(wanted, members));
    else {
      err(`stratus help: unknown command '${wanted}'; 'stratus --help' lists the commands`);
      return EXIT_USAGE;
    }
    return EXIT_OK;
  }
  // Two-word commands (`autoscaler rules`) are registered with their full name.
  const command = commands.find((c) => c.name === `${name} ${rest[0] ?? ''}`.trim()) ?? commands.find((c) => c.name === name);
  if (!command) {
    const members = group(commands, name);
    if (members.length > 0) {
      // `stratus autoscaler --help` lists the subcommands; without one it is a usage error.
      if (wantsHelp(rest)) {
        out(groupHelp(name, members));
        return EXIT_OK;
      }
      err(`stratus ${name}: ${rest[0] === undefined ? 'name a subcommand' : `unknown subcommand '${rest[0]}'`}\n\n${groupHelp(name, members)}`);
      return EXIT_USAGE;
    }
    err(`stratus: unknown command '${name}'; 'stratus --help' lists the commands`);
    return EXIT_USAGE;
  }
  const args = command.name.includes(' ') ? rest.slice(1) : rest;
  if (wantsHelp(args)) {
    out(command.usage);
    return EXIT_OK;
  }
  try {
    return await command.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`stratus ${command.name}: ${e.message}\n${synopsis(command.usage)}\n'stratus ${command.name} --help' shows every flag.`);
      return EXIT_USAGE;
    }
    err(`stratus ${command.name}: ${errorMessage(e)}`);
    return EXIT_FAILED;
  }
}

/** One line for a failed command: the missing feature, or the API's message with the field it names. */
export function errorMessage(e: unknown): string {
  const feature = missingFeature(e);
  if (feature !== undefined) return feature;
  if (e instanceof ApiError && e.field !== undefined) return `${e.message} (field ${e.field})`;
  return e instanceof Error ? e.message : String(e);
}
