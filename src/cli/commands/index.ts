import type { Command } from '../command.js';
import { masterCommand } from './master.js';
import { regionsCommand } from './regions.js';
import { agentCommand } from './agent.js';
import { logsCommand } from './logs.js';
import { runCommand } from './run.js';
import { jobsCommand } from './jobs.js';
import { scaleCommand } from './scale.js';
import { psCommand } from './ps.js';

// Every `stratus` subcommand, in the order `stratus help` lists them.
export const commands: Command[] = [
  masterCommand,
  regionsCommand,
  agentCommand,
  logsCommand,
  runCommand,
  jobsCommand,
  scaleCommand,
  psCommand,
];
